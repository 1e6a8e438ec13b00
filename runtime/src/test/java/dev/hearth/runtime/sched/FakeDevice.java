package dev.hearth.runtime.sched;

import dev.hearth.runtime.backend.BackendProvider;
import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.backend.MemoryInfo;
import dev.hearth.runtime.backend.Stream;
import dev.hearth.runtime.graph.Node;

import java.lang.foreign.MemorySegment;
import java.util.function.Predicate;

/**
 * A second device for tests: the memory and kernels of another (host) device under a name of its
 * own, supporting only the nodes {@code filter} accepts.
 */
public final class FakeDevice implements Device {
    private final String name;
    private final Device inner;
    private final Predicate<Node> filter;

    public FakeDevice(String name, Device inner, Predicate<Node> filter) {
        this.name = name;
        this.inner = inner;
        this.filter = filter;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public BackendProvider provider() {
        return inner.provider();
    }

    @Override
    public MemoryInfo memory() {
        return inner.memory();
    }

    @Override
    public boolean supports(Node node) {
        return filter.test(node) && inner.supports(node);
    }

    @Override
    public String whyNot(Node node) {
        return name + " leaves " + node.op().getClass().getSimpleName() + " to others";
    }

    @Override
    public Buffer allocate(long bytes, BufferUsage usage) {
        return inner.allocate(bytes, usage);
    }

    @Override
    public Buffer wrapHost(MemorySegment host, BufferUsage usage) {
        return inner.wrapHost(host, usage);
    }

    @Override
    public boolean isHost() {
        return true;
    }

    @Override
    public Stream openStream() {
        return inner.openStream();
    }

    @Override
    public String toString() {
        return name;
    }
}
