package dev.hearth.runtime.backend;

import java.util.List;

/** A family of devices ("cpu", "opencl", "cuda"), found with {@link java.util.ServiceLoader}. */
public interface BackendProvider {
    String name();

    /** The devices present now; empty where the driver or hardware is missing. */
    List<Device> devices();

    /** Why {@link #devices()} is empty, in one line, for messages ("no OpenCL platform found"). */
    default String unavailableReason() {
        return "no " + name() + " device found";
    }

    /** Lower runs first in "auto" choices among GPUs; the reference backend is last. */
    default int priority() {
        return 100;
    }
}
