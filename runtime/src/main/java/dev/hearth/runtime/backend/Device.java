package dev.hearth.runtime.backend;

import dev.hearth.runtime.graph.Node;

import java.lang.foreign.MemorySegment;

/** One device: a CPU, an OpenCL device, a CUDA GPU. */
public interface Device {
    /** A name that says which device, "cpu", "opencl:0 pthread-Intel(R) Xeon", "cuda:0 NVIDIA H100". */
    String name();

    BackendProvider provider();

    /** Free and total memory, asked of the driver now. */
    MemoryInfo memory();

    /** Whether this device computes {@code node}: pure and cheap; checked by the conformance suite. */
    boolean supports(Node node);

    /** Why {@link #supports} is false for {@code node}, for skip messages and errors. */
    default String whyNot(Node node) {
        return name() + " does not support " + node.op().getClass().getSimpleName() + " on " + node.desc().type();
    }

    /** Memory of {@code bytes} bytes on this device; fails with a message naming needed and free bytes. */
    Buffer allocate(long bytes, BufferUsage usage);

    /**
     * A buffer over host memory without a copy (a mapped model file), where this device computes
     * in host memory; null where it must copy.
     */
    default Buffer wrapHost(MemorySegment host, BufferUsage usage) {
        return null;
    }

    /**
     * Prepares a weight that mul_mat will read, ahead of the first compute (a copy in a layout the
     * device's kernels read faster, say), so that loading takes the time and can show it rather
     * than the first token. Returns the bytes of weight prepared, 0 where there is nothing to do.
     */
    default long prepareWeight(TensorRef weight) {
        return 0;
    }

    /** True where the device's memory is the host's (CPU, reference): no transfer to reach it. */
    default boolean isHost() {
        return false;
    }

    /** True for discrete or integrated GPUs; the planner offloads to these. */
    default boolean isGpu() {
        return false;
    }

    Stream openStream();
}
