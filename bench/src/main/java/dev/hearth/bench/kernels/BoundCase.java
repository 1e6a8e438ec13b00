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
import dev.hearth.runtime.sched.Schedule;
import dev.hearth.runtime.sched.Scheduler;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A kernel case placed on one device, ready to run again and again: its weights and caches
 * uploaded once (wrapped without a copy where the device computes in host memory) and the
 * weights of mul_mat and get_rows prepared as a model's are (Device.prepareWeight), its inputs
 * set once. With {@code copies} above one, the weights and caches are placed that many times,
 * each copy with its own {@link Executor} computed once before use, and the runs take the copies
 * in turn: a small matrix is then read from memory as in a whole model, not from a cache that
 * still holds it from the run before. {@link #run} computes the graph once and waits for the device.
 */
public final class BoundCase implements AutoCloseable {
    /** What the copies of the weights and caches of a case should span at least. */
    public static final long ROTATION_BYTES = Math.max(256L << 20, 4 * BandwidthProbe.lastLevelCache());
    /** Copies at most, however small the weights. */
    public static final int MAX_COPIES = 256;

    private final KernelCase kernelCase;
    private final Device device;
    private final OpCase.Instance instance;
    private final Arena copiesArena;
    private final List<Buffer> buffers = new ArrayList<>();
    private final List<Executor> executors = new ArrayList<>();
    private int next;

    private BoundCase(KernelCase c, Device device, int copies) {
        this.kernelCase = c;
        this.device = device;
        String why = c.unsupported(device);
        if (why != null) throw new HearthException(c.name() + ": " + why);
        this.instance = c.instantiate();
        this.copiesArena = Arena.ofShared();
        try {
            Schedule schedule = Scheduler.schedule(instance.graph(), n -> device, List.of(device));
            for (int i = 0; i < copies; i++) {
                Map<Node, TensorRef> leaves = new IdentityHashMap<>();
                for (Node n : instance.graph().nodes()) {
                    boolean weight = n.op() instanceof Op.Weight;
                    if (!weight && !(n.op() instanceof Op.State)) continue;
                    leaves.put(n, new TensorRef(n.desc(), place(instance.leaves().get(n.name()), weight, i), 0));
                }
                for (Node n : instance.graph().nodes()) { // as a model's: the device may repack these (Device.prepareWeight)
                    if ((n.op() instanceof Op.MulMat m && leaves.containsKey(m.w())) || (n.op() instanceof Op.GetRows g && leaves.containsKey(g.table()))) {
                        device.prepareWeight(leaves.get(n.inputs().getFirst()));
                    }
                }
                Executor ex = schedule.instantiate(leaves::get);
                executors.add(ex);
                instance.inputs().forEach(ex::setInput);
            }
            if (copies > 1) {
                for (Executor ex : executors) ex.run(); // a device's first compute of a graph may prepare it (plans, repacked weights)
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Copy {@code i} of a leaf's data on the device. */
    private Buffer place(MemorySegment data, boolean weight, int i) {
        if (weight && device.isHost()) {
            MemorySegment host = data;
            if (i > 0) {
                host = copiesArena.allocate(data.byteSize(), 64);
                MemorySegment.copy(data, 0, host, 0, data.byteSize());
            }
            Buffer b = device.wrapHost(host, BufferUsage.WEIGHTS);
            if (b != null) {
                buffers.add(b);
                return b;
            }
        }
        Buffer b = device.allocate(data.byteSize(), weight ? BufferUsage.WEIGHTS : BufferUsage.KV);
        buffers.add(b);
        b.write(0, data);
        return b;
    }

    /** Places {@code c} on {@code device} once; fails with the device's reason where it does not support the case. */
    public static BoundCase bind(KernelCase c, Device device) {
        return new BoundCase(c, device, 1);
    }

    /** Places {@code c} on {@code device} {@code copies} times, taken in turn by the runs. */
    public static BoundCase bind(KernelCase c, Device device, int copies) {
        if (copies < 1) throw new IllegalArgumentException("copies must be at least 1: " + copies);
        return new BoundCase(c, device, copies);
    }

    /**
     * The copies that make the weights and caches of {@code c} span {@link #ROTATION_BYTES} (at
     * most {@link #MAX_COPIES}); one for a case of more than two tokens, which reads each weight
     * for many tokens in a run and is bound by arithmetic, not by where its weights come from.
     */
    public static int rotationCopies(KernelCase c) {
        if (c.tokens() > 2) return 1;
        long bytes = 0;
        for (Node n : c.graph().nodes()) {
            if (n.op() instanceof Op.Weight || n.op() instanceof Op.State) bytes += n.desc().bytes();
        }
        if (bytes == 0) return 1;
        return (int) Math.min(MAX_COPIES, Math.max(1, (ROTATION_BYTES + bytes - 1) / bytes));
    }

    public KernelCase kernelCase() {
        return kernelCase;
    }

    public Device device() {
        return device;
    }

    public int copies() {
        return executors.size();
    }

    /** Computes the case once, on the next copy, and waits until the device has finished. */
    public void run() {
        Executor ex = executors.get(next);
        if (++next == executors.size()) next = 0;
        ex.run();
    }

    /** The first output's value after the last run of the first copy, as F32 (for checks). */
    public float[] output() {
        Node out = instance.outputs().getFirst();
        float[] v = new float[Math.toIntExact(out.desc().elements())];
        executors.getFirst().read(out, v);
        return v;
    }

    /** The built case (graph and data). */
    public OpCase.Instance instance() {
        return instance;
    }

    @Override
    public void close() {
        try {
            for (Executor ex : executors) ex.close();
        } finally {
            executors.clear();
            for (Buffer b : buffers) b.close();
            buffers.clear();
            if (copiesArena.scope().isAlive()) copiesArena.close();
            instance.close();
        }
    }
}
