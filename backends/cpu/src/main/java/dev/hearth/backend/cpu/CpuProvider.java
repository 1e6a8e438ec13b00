package dev.hearth.backend.cpu;

import dev.hearth.runtime.backend.BackendProvider;
import dev.hearth.runtime.backend.Device;

import java.util.List;

/** The CPU backend: one device, the host's cores, computing with the Vector API. */
public final class CpuProvider implements BackendProvider {
    private volatile List<Device> devices;

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public List<Device> devices() {
        List<Device> d = devices;
        if (d == null) {
            synchronized (this) {
                if (devices == null) devices = List.of(new CpuDevice(this, CpuDevice.defaultThreads()));
                d = devices;
            }
        }
        return d;
    }

    /** After the GPUs in "auto" choices, before the reference backend. */
    @Override
    public int priority() {
        return 500;
    }
}
