package dev.hearth.runtime.conformance;

import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.backend.TensorRef;
import dev.hearth.runtime.dtype.Codecs;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.reference.ReferenceDevice;
import dev.hearth.runtime.sched.Executor;
import dev.hearth.runtime.sched.Schedule;
import dev.hearth.runtime.sched.Scheduler;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs an {@link OpCase} on a device, alone, through the {@link Scheduler} and {@link Executor},
 * and compares its outputs with the reference device's by normalized mean squared error. A case
 * with a node the device does not support is skipped with the device's reason, never passed.
 */
public final class ConformanceRunner {
    public enum Status { PASS, FAIL, SKIP }

    /** The outcome of one case on one device; {@code nmse} is NaN where the case did not run to a comparison. */
    public record Result(OpCase opCase, String device, Status status, double nmse, String detail) {
        @Override
        public String toString() {
            return status + " " + opCase.name() + " on " + device + ": " + detail;
        }
    }

    private final Device reference;
    private final Map<String, float[][]> expected = new ConcurrentHashMap<>();

    /** Compares with a reference device of the runner's own. */
    public ConformanceRunner() {
        this(new ReferenceDevice());
    }

    public ConformanceRunner(Device reference) {
        this.reference = reference;
    }

    public Device reference() {
        return reference;
    }

    /** Runs {@code c} on {@code device} and on the reference device and compares. */
    public Result run(OpCase c, Device device) {
        try (OpCase.Instance inst = c.instantiate()) {
            String why;
            try {
                why = unsupported(inst, device);
            } catch (RuntimeException e) {
                return new Result(c, device.name(), Status.FAIL, Double.NaN, "supports() failed: " + e);
            }
            if (why != null) return new Result(c, device.name(), Status.SKIP, Double.NaN, why);
            float[][] want = expected.computeIfAbsent(c.name(), k -> compute(inst, reference));
            float[][] got;
            try {
                got = compute(inst, device);
            } catch (RuntimeException e) {
                return new Result(c, device.name(), Status.FAIL, Double.NaN, "failed: " + e);
            }
            double worst = 0;
            String where = "";
            for (int i = 0; i < want.length && !Double.isNaN(worst); i++) {
                double e = nmse(got[i], want[i]);
                if (Double.isNaN(e) || e > worst) {
                    worst = e;
                    where = inst.outputs().get(i).name();
                }
            }
            boolean pass = worst <= c.tolerance();
            String detail = String.format("nmse %.3g %s %.3g%s", worst, pass ? "<=" : ">", c.tolerance(),
                    where.isEmpty() ? "" : " (output " + where + ")");
            return new Result(c, device.name(), pass ? Status.PASS : Status.FAIL, worst, detail);
        }
    }

    /** Runs every case on {@code device}. */
    public List<Result> runAll(List<OpCase> cases, Device device) {
        List<Result> out = new ArrayList<>();
        for (OpCase c : cases) out.add(run(c, device));
        return out;
    }

    /** Why {@code device} cannot run the case (the first unsupported node), or null where it can. */
    public static String unsupported(OpCase.Instance inst, Device device) {
        for (Node n : inst.graph().nodes()) {
            if (!n.isLeaf() && !device.supports(n)) return device.whyNot(n);
        }
        return null;
    }

    /**
     * Computes the case's outputs on {@code device} as its only device: weights are wrapped where
     * the device can (else allocated and written), states are allocated and written, inputs set.
     * The weights mul_mat and get_rows read are prepared by the device (Device.prepareWeight), as
     * a model's are, so that its kernels for prepared (repacked) weights run.
     */
    public static float[][] compute(OpCase.Instance inst, Device device) {
        List<Buffer> buffers = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            Map<Node, TensorRef> leaves = new IdentityHashMap<>();
            for (Node n : inst.graph().nodes()) {
                boolean weight = n.op() instanceof Op.Weight;
                if (!weight && !(n.op() instanceof Op.State)) continue;
                MemorySegment data = inst.leaves().get(n.name());
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
            for (Node n : inst.graph().nodes()) {
                if ((n.op() instanceof Op.MulMat m && leaves.containsKey(m.w())) || (n.op() instanceof Op.GetRows g && leaves.containsKey(g.table()))) {
                    device.prepareWeight(leaves.get(n.inputs().getFirst()));
                }
            }
            Schedule schedule = Scheduler.schedule(inst.graph(), n -> device, List.of(device));
            try (Executor ex = schedule.instantiate(leaves::get)) {
                inst.inputs().forEach(ex::setInput);
                ex.run();
                float[][] out = new float[inst.outputs().size()][];
                for (int i = 0; i < out.length; i++) {
                    Node n = inst.outputs().get(i);
                    MemorySegment raw = arena.allocate(n.desc().bytes(), 64);
                    ex.read(n, raw);
                    out[i] = decode(n, raw);
                }
                return out;
            }
        } finally {
            for (Buffer b : buffers) b.close();
        }
    }

    private static float[] decode(Node n, MemorySegment raw) {
        if (n.desc().type() == dev.hearth.runtime.dtype.DType.I32) { // indices (top_k): compared as numbers, so any difference fails
            int[] ints = raw.toArray(java.lang.foreign.ValueLayout.JAVA_INT);
            float[] v = new float[ints.length];
            for (int i = 0; i < v.length; i++) v[i] = ints[i];
            return v;
        }
        int k = (int) n.desc().rowLength();
        int rows = (int) n.desc().rows();
        float[] v = new float[k * rows];
        var codec = Codecs.of(n.desc().type());
        for (int r = 0; r < rows; r++) codec.dequantizeRow(raw, r * n.desc().rowBytes(), v, r * k, k);
        return v;
    }

    /**
     * Normalized mean squared error of {@code got} against {@code want}: sum((got - want)^2) /
     * sum(want^2), or the plain sum of squares where {@code want} is all zeros. NaN where the
     * lengths differ or {@code got} has a NaN or infinity that {@code want} lacks.
     */
    public static double nmse(float[] got, float[] want) {
        if (got.length != want.length) return Double.NaN;
        double err = 0;
        double ref = 0;
        for (int i = 0; i < got.length; i++) {
            if (!Float.isFinite(got[i]) || !Float.isFinite(want[i])) {
                if (Float.compare(got[i], want[i]) != 0) return Double.NaN;
                continue;
            }
            double d = (double) got[i] - want[i];
            err += d * d;
            ref += (double) want[i] * want[i];
        }
        return ref > 0 ? err / ref : err;
    }
}
