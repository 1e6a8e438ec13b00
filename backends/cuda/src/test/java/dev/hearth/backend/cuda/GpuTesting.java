package dev.hearth.backend.cuda;

import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.backend.TensorRef;
import dev.hearth.runtime.dtype.Codecs;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.sched.Executor;
import dev.hearth.runtime.sched.Schedule;
import dev.hearth.runtime.sched.Scheduler;
import dev.hearth.runtime.tensor.TensorDesc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Helpers of the GPU tests: the first CUDA device, seeded data, running a graph on a device, the error measure. */
final class GpuTesting {
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final CudaProvider PROVIDER = new CudaProvider();

    private GpuTesting() {
    }

    /** The first CUDA device; the test is skipped with the provider's reason where there is none. */
    static CudaDevice device() {
        List<Device> d = PROVIDER.devices();
        assumeTrue(!d.isEmpty(), PROVIDER.unavailableReason());
        return (CudaDevice) d.getFirst();
    }

    static float[] uniform(Random r, int n, float range) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (r.nextFloat() * 2 - 1) * range;
        return v;
    }

    /** {@code values} encoded with the codec of {@code type}, in native memory. */
    static MemorySegment encode(DType type, float[] values) {
        MemorySegment heap = Codecs.quantize(type, values);
        MemorySegment s = Arena.ofAuto().allocate(Math.max(1, heap.byteSize()), 64).asSlice(0, heap.byteSize());
        s.copyFrom(heap);
        return s;
    }

    static MemorySegment ints(int... values) {
        MemorySegment s = Arena.ofAuto().allocate(4L * values.length, 64);
        MemorySegment.copy(values, 0, s, I32, 0, values.length);
        return s;
    }

    /** Decodes a tensor's raw bytes to floats with its type's codec (I32: each int as a float). */
    static float[] decode(TensorDesc d, MemorySegment raw) {
        int k = (int) d.rowLength();
        int rows = (int) d.rows();
        float[] v = new float[k * rows];
        if (d.type() == DType.I32) {
            for (int i = 0; i < v.length; i++) v[i] = raw.getAtIndex(I32, i);
            return v;
        }
        var codec = Codecs.of(d.type());
        for (int r = 0; r < rows; r++) codec.dequantizeRow(raw, r * d.rowBytes(), v, r * k, k);
        return v;
    }

    /**
     * Sum of squared differences over sum of squares of {@code want} (plain sum of squares where
     * {@code want} is zero); infinite where lengths differ or a value that is not finite in one is
     * not the same in the other.
     */
    static double nmse(float[] got, float[] want) {
        if (got.length != want.length) return Double.POSITIVE_INFINITY;
        double err = 0, ref = 0;
        for (int i = 0; i < got.length; i++) {
            if (!Float.isFinite(got[i]) || !Float.isFinite(want[i])) {
                if (Float.compare(got[i], want[i]) != 0) return Double.POSITIVE_INFINITY;
                continue;
            }
            double d = (double) got[i] - want[i];
            err += d * d;
            ref += (double) want[i] * want[i];
        }
        return ref > 0 ? err / ref : err;
    }

    /** A graph with its data: the bytes of every input, weight and state by name, and the nodes to read back. */
    static final class Case {
        final Graph graph = new Graph();
        final Map<String, MemorySegment> data = new LinkedHashMap<>();
        final List<Node> outputs = new ArrayList<>();
        final Random random;

        Case(long seed) {
            random = new Random(seed);
        }

        Node input(String name, DType type, float range, long... ne) {
            TensorDesc d = TensorDesc.of(name, type, ne);
            data.put(name, encode(type, uniform(random, Math.toIntExact(d.elements()), range)));
            return graph.input(name, type, ne);
        }

        Node ints(String name, int... values) {
            data.put(name, GpuTesting.ints(values));
            return graph.input(name, DType.I32, values.length);
        }

        /** An I32 input of shape {@code ne}. */
        Node ints(String name, long[] ne, int... values) {
            data.put(name, GpuTesting.ints(values));
            return graph.input(name, DType.I32, ne);
        }

        /** An F32 input with the given values. */
        Node floats(String name, float[] values, long... ne) {
            data.put(name, encode(DType.F32, values));
            return graph.input(name, DType.F32, ne);
        }

        Node weight(String name, DType type, float range, long... ne) {
            TensorDesc d = TensorDesc.of(name, type, ne);
            data.put(name, encode(type, uniform(random, Math.toIntExact(d.elements()), range)));
            return graph.weight(d);
        }

        Node state(String name, DType type, float range, long... ne) {
            TensorDesc d = TensorDesc.of(name, type, ne);
            data.put(name, encode(type, uniform(random, Math.toIntExact(d.elements()), range)));
            return graph.state(d);
        }

        Case output(Node n) {
            outputs.add(n);
            graph.output(n);
            return this;
        }
    }

    /** Runs the case on {@code device} alone, through the Scheduler and Executor; returns each output decoded. */
    static float[][] compute(Case c, Device device) {
        return compute(c, device, false);
    }

    /**
     * As {@link #compute(Case, Device)}; with {@code prepareWeights}, each weight goes through
     * Device.prepareWeight once loaded (as the engine does), and at least one must be prepared.
     */
    static float[][] compute(Case c, Device device, boolean prepareWeights) {
        List<Buffer> buffers = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            Map<Node, TensorRef> leaves = new IdentityHashMap<>();
            long prepared = 0;
            for (Node n : c.graph.nodes()) {
                if (!(n.op() instanceof Op.Weight) && !(n.op() instanceof Op.State)) continue;
                MemorySegment bytes = c.data.get(n.name());
                Buffer b = device.allocate(bytes.byteSize(), n.op() instanceof Op.Weight ? BufferUsage.WEIGHTS : BufferUsage.KV);
                buffers.add(b);
                b.write(0, bytes);
                leaves.put(n, new TensorRef(n.desc(), b, 0));
                if (prepareWeights && n.op() instanceof Op.Weight) prepared += device.prepareWeight(leaves.get(n));
            }
            if (prepareWeights && prepared == 0) throw new AssertionError("no weight of the case was prepared");
            Schedule s = Scheduler.schedule(c.graph, n -> device, List.of(device));
            try (Executor ex = s.instantiate(leaves::get)) {
                for (Node n : c.graph.nodes()) if (n.op() instanceof Op.Input in) ex.setInput(in.name(), c.data.get(in.name()));
                ex.run();
                float[][] out = new float[c.outputs.size()][];
                for (int i = 0; i < out.length; i++) {
                    Node n = c.outputs.get(i);
                    MemorySegment raw = arena.allocate(n.desc().bytes(), 64);
                    ex.read(n, raw);
                    out[i] = decode(n.desc(), raw);
                }
                return out;
            }
        } finally {
            for (Buffer b : buffers) b.close();
        }
    }
}
