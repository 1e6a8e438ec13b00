package dev.hearth.backend.opencl;

import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.backend.TensorRef;
import dev.hearth.runtime.dtype.Codecs;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.reference.ReferenceDevice;
import dev.hearth.runtime.sched.Executor;
import dev.hearth.runtime.sched.Scheduler;
import dev.hearth.runtime.tensor.TensorDesc;
import org.junit.jupiter.api.Assumptions;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What the OpenCL tests share: the device (the tests fail where CI=true and no OpenCL platform
 * is found, and skip with the reason elsewhere), test data, and a runner that computes a graph
 * on a device through the Scheduler and Executor, as a model would.
 */
final class OpenClTesting {
    static final ReferenceDevice REFERENCE = new ReferenceDevice();
    private static final OpenClProvider PROVIDER = new OpenClProvider();

    private OpenClTesting() {
    }

    /** The first OpenCL device, shared by all tests of the JVM (programs build once). */
    static OpenClDevice device() {
        List<Device> ds = PROVIDER.devices();
        if (ds.isEmpty()) {
            String why = PROVIDER.unavailableReason();
            if ("true".equals(System.getenv("CI"))) fail("the OpenCL tests must run in CI, but: " + why);
            Assumptions.abort("OpenCL tests skipped: " + why);
        }
        return (OpenClDevice) ds.getFirst();
    }

    /** A graph with its data: leaves (weights and states) and inputs, by name. */
    static final class Case implements AutoCloseable {
        final Graph graph = new Graph();
        final Map<String, MemorySegment> leaves = new LinkedHashMap<>();
        final Map<String, MemorySegment> inputs = new LinkedHashMap<>();
        final List<Node> outputs = new ArrayList<>();
        final Arena arena = Arena.ofShared();
        final Random random;

        Case(long seed) {
            random = new Random(seed);
        }

        float[] randoms(int n, float scale) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = (float) (random.nextGaussian() * scale);
            return v;
        }

        /** {@code values} encoded in {@code type}, rows of {@code k}. */
        MemorySegment encode(DType type, float[] values, int k) {
            int rows = values.length / k;
            long rowBytes = type.bytesFor(k);
            MemorySegment s = arena.allocate(rowBytes * rows, 64);
            for (int r = 0; r < rows; r++) Codecs.of(type).quantizeRow(values, r * k, s, r * rowBytes, k);
            return s;
        }

        Node weight(String name, DType type, int k, int rows, float scale) {
            leaves.put(name, encode(type, randoms(k * rows, scale), k));
            return graph.weight(TensorDesc.of(name, type, k, rows));
        }

        Node state(String name, DType type, int k, int rows, float scale) {
            leaves.put(name, encode(type, randoms(k * rows, scale), k));
            return graph.state(TensorDesc.of(name, type, k, rows));
        }

        Node input(String name, DType type, int k, int rows, float scale) {
            inputs.put(name, encode(type, randoms(k * rows, scale), k));
            return graph.input(name, type, k, rows);
        }

        Node ints(String name, int... values) {
            MemorySegment s = arena.allocate(4L * values.length, 64);
            MemorySegment.copy(values, 0, s, ValueLayout.JAVA_INT_UNALIGNED, 0, values.length);
            inputs.put(name, s);
            return graph.input(name, DType.I32, values.length);
        }

        Node out(Node n) {
            outputs.add(n);
            graph.output(n);
            return n;
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    /** The outputs of {@code c} computed on {@code device} alone, decoded to f32. */
    static float[][] run(Case c, Device device) {
        return run(c, device, 1).getFirst();
    }

    /** Runs {@code c} {@code times} times with the same bindings (states carry over), outputs of each run. */
    static List<float[][]> run(Case c, Device device, int times) {
        return run(c, device, java.util.Collections.nCopies(times, Map.of()));
    }

    /**
     * Runs {@code c} once per entry of {@code steps} with the same bindings (states carry over);
     * each step's inputs replace those of the case by name; the weights mul_mat and get_rows read
     * are prepared by the device first, as a model's are. Outputs of each run.
     */
    static List<float[][]> run(Case c, Device device, List<Map<String, MemorySegment>> steps) {
        List<Buffer> buffers = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            Map<Node, TensorRef> leaves = new IdentityHashMap<>();
            for (Node n : c.graph.nodes()) {
                if (!(n.op() instanceof Op.Weight) && !(n.op() instanceof Op.State)) continue;
                MemorySegment data = c.leaves.get(n.name());
                Buffer b = device.allocate(data.byteSize(), n.op() instanceof Op.Weight ? BufferUsage.WEIGHTS : BufferUsage.KV);
                buffers.add(b);
                b.write(0, data);
                leaves.put(n, new TensorRef(n.desc(), b, 0));
            }
            for (Node n : c.graph.nodes()) { // as a model's: the device may repack these (OpenClDevice.prepareWeight)
                if ((n.op() instanceof Op.MulMat m && leaves.containsKey(m.w())) || (n.op() instanceof Op.GetRows g && leaves.containsKey(g.table()))) {
                    device.prepareWeight(leaves.get(n.inputs().getFirst()));
                }
            }
            var schedule = Scheduler.schedule(c.graph, n -> device, List.of(device));
            List<float[][]> all = new ArrayList<>();
            try (Executor ex = schedule.instantiate(leaves::get)) {
                for (Map<String, MemorySegment> step : steps) {
                    c.inputs.forEach(ex::setInput);
                    step.forEach(ex::setInput);
                    ex.run();
                    float[][] out = new float[c.outputs.size()][];
                    for (int o = 0; o < out.length; o++) {
                        Node n = c.outputs.get(o);
                        MemorySegment raw = arena.allocate(n.desc().bytes(), 64);
                        ex.read(n, raw);
                        int k = (int) n.desc().rowLength();
                        out[o] = new float[Math.toIntExact(n.desc().elements())];
                        if (n.desc().type() == DType.I32) { // indices, as floats
                            for (int i = 0; i < out[o].length; i++) out[o][i] = raw.getAtIndex(ValueLayout.JAVA_INT, i);
                            continue;
                        }
                        for (int r = 0; r < n.desc().rows(); r++) {
                            Codecs.of(n.desc().type()).dequantizeRow(raw, r * n.desc().rowBytes(), out[o], r * k, k);
                        }
                    }
                    all.add(out);
                }
            }
            return all;
        } finally {
            for (Buffer b : buffers) b.close();
        }
    }

    /**
     * Runs {@code body} with attention planned by one kernel: "one" (attention.cl, one pass),
     * "split" (attention.cl over 3 slices of the cache, merged), "tiled" (attention_tiled.cl, even
     * for fewer tokens than the planner gives it) or "auto" (the planner's choice).
     */
    static void withAttentionKernel(String kernel, Runnable body) {
        Planner.forcedAttentionSplits = kernel.equals("split") ? 3 : kernel.equals("one") ? 1 : 0;
        Planner.forcedAttentionTiled = switch (kernel) {
            case "one", "split" -> 0;
            case "tiled" -> 1;
            case "auto" -> -1;
            default -> throw new IllegalArgumentException("attention kernel " + kernel);
        };
        try {
            body.run();
        } finally {
            Planner.forcedAttentionSplits = 0;
            Planner.forcedAttentionTiled = -1;
        }
    }

    /** sum((got - want)^2) / sum(want^2); infinite where got has a NaN. */
    static double nmse(float[] got, float[] want) {
        double e = 0;
        double s = 0;
        for (int i = 0; i < want.length; i++) {
            double d = (double) got[i] - want[i];
            if (Double.isNaN(d)) return Double.POSITIVE_INFINITY;
            e += d * d;
            s += (double) want[i] * want[i];
        }
        return s == 0 ? e : e / s;
    }

    /** Runs {@code c} on the OpenCL device and the reference device; asserts each output within {@code tolerance}. */
    static void assertMatchesReference(Case c, double tolerance) {
        OpenClDevice d = device();
        for (Node n : c.graph.nodes()) assertTrue(d.supports(n), () -> d.whyNot(n));
        float[][] got = run(c, d);
        float[][] want = run(c, REFERENCE);
        for (int i = 0; i < want.length; i++) {
            assertTrue(want[i].length == got[i].length);
            double e = nmse(got[i], want[i]);
            String what = c.outputs.get(i).toString();
            assertTrue(e <= tolerance, () -> what + ": nmse " + e + " > " + tolerance);
        }
    }
}
