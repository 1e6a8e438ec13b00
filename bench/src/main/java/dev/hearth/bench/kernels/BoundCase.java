package dev.hearth.bench.kernels;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.backend.TensorRef;
import dev.hearth.runtime.conformance.OpCase;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.sched.Executor;
import dev.hearth.runtime.sched.Scheduler;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A kernel case placed on one device, ready to run again and again: its weights and caches
 * uploaded once (wrapped without a copy where the device computes in host memory), its inputs
 * set once, one {@link Executor}. {@link #run} computes the graph and waits for the device.
 */
public final class BoundCase implements AutoCloseable {
    private final KernelCase kernelCase;
    private final Device device;
    private final OpCase.Instance instance;
    private final List<Buffer> buffers = new ArrayList<>();
    private final Executor executor;

    private BoundCase(KernelCase c, Device device) {
        this.kernelCase = c;
        this.device = device;
        String why = c.unsupported(device);
        if (why != null) throw new HearthException(c.name() + ": " + why);
        this.instance = c.instantiate();
        try {
            Map<Node, TensorRef> leaves = new IdentityHashMap<>();
            for (Node n : instance.graph().nodes()) {
                boolean weight = n.op() instanceof Op.Weight;
                if (!weight && !(n.op() instanceof Op.State)) continue;
                MemorySegment data = instance.leaves().get(n.name());
                Buffer b = weight ? device.wrapHost(data, BufferUsage.WEIGHTS) : null;
                if (b == null) {
                    b = device.allocate(data.byteSize(), weight ? BufferUsage.WEIGHTS : BufferUsage.KV);
                    buffers.add(b);
                    b.write(0, data);
                } else {
                    buffers.add(b);
                }
                leaves.put(n, new TensorRef(n.desc(), b, 0));
            }
            executor = Scheduler.schedule(instance.graph(), n -> device, List.of(device)).instantiate(leaves::get);
            instance.inputs().forEach(executor::setInput);
        } catch (RuntimeException e) {
            closeBuffers();
            instance.close();
            throw e;
        }
    }

    /** Places {@code c} on {@code device}; fails with the device's reason where it does not support the case. */
    public static BoundCase bind(KernelCase c, Device device) {
        return new BoundCase(c, device);
    }

    public KernelCase kernelCase() {
        return kernelCase;
    }

    public Device device() {
        return device;
    }

    /** Computes the case once and waits until the device has finished. */
    public void run() {
        executor.run();
    }

    /** The first output's value after a run, as F32 (for checks). */
    public float[] output() {
        Node out = instance.outputs().getFirst();
        float[] v = new float[Math.toIntExact(out.desc().elements())];
        executor.read(out, v);
        return v;
    }

    /** The built case (graph and data). */
    public OpCase.Instance instance() {
        return instance;
    }

    private void closeBuffers() {
        for (Buffer b : buffers) b.close();
        buffers.clear();
    }

    @Override
    public void close() {
        try {
            if (executor != null) executor.close();
        } finally {
            closeBuffers();
            instance.close();
        }
    }
}
