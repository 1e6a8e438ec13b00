package dev.hearth.offload;

import dev.hearth.runtime.backend.BackendProvider;
import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.backend.MemoryInfo;
import dev.hearth.runtime.backend.Stream;
import dev.hearth.runtime.graph.Node;

import java.util.List;

/** A device that computes everything and holds nothing: lets the scheduler size a graph. */
final class SizingDevice implements Device {
    static final SizingDevice INSTANCE = new SizingDevice();

    @Override
    public String name() {
        return "sizing";
    }

    @Override
    public BackendProvider provider() {
        return new BackendProvider() {
            public String name() {
                return "sizing";
            }

            public List<Device> devices() {
                return List.of(INSTANCE);
            }
        };
    }

    @Override
    public MemoryInfo memory() {
        return new MemoryInfo(Long.MAX_VALUE, Long.MAX_VALUE);
    }

    @Override
    public boolean supports(Node node) {
        return true;
    }

    @Override
    public Buffer allocate(long bytes, BufferUsage usage) {
        throw new UnsupportedOperationException("the sizing device holds no memory");
    }

    @Override
    public Stream openStream() {
        throw new UnsupportedOperationException("the sizing device computes nothing");
    }
}
