package dev.hearth.runtime.conformance;

import dev.hearth.runtime.dtype.Codecs;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.tensor.TensorDesc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.SoftReference;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * One conformance case: a small graph with its data and a tolerance. The name says the op and its
 * parameters ("mul_mat type=q4_0 k=256 n=64 t=1"); {@link #op()} and {@link #type()} say which row
 * of the ops matrix it belongs to. {@link #instantiate()} builds the graph and its data from a
 * seed derived from the name (or a data key), so every call gives the same bytes.
 */
public final class OpCase {
    private final String op;
    private final DType type;
    private final String name;
    private final double tolerance;
    private final Consumer<Builder> definition;
    private final String dataKey;

    /**
     * Encoded tensors by data key and tensor, shared by all cases: quantizing is the slow part of
     * building a case, and cases that differ only in token count share their weights.
     */
    private static volatile SoftReference<Map<String, byte[]>> encoded = new SoftReference<>(null);

    /**
     * @param op         the op under test, as the ops matrix names it ("mul_mat")
     * @param type       the tensor type the case is about (weight, cache or conversion type), or null
     * @param name       op and parameters, unique among the cases
     * @param tolerance  the largest normalized mean squared error that passes
     * @param definition adds the inputs, weights, states, ops and outputs to a builder
     */
    public OpCase(String op, DType type, String name, double tolerance, Consumer<Builder> definition) {
        this(op, type, name, name, tolerance, definition);
    }

    /**
     * A case whose random data is seeded by {@code dataKey} rather than its name: cases with the
     * same key draw the same values, so the tensors they draw first, in the same order and shape
     * (the weights of mul_mat at several token counts), are the same and are quantized once.
     */
    public OpCase(String op, DType type, String name, String dataKey, double tolerance, Consumer<Builder> definition) {
        this.op = op;
        this.type = type;
        this.name = name;
        this.dataKey = dataKey;
        this.tolerance = tolerance;
        this.definition = definition;
    }

    public String op() {
        return op;
    }

    /** The type this case is about, or null. */
    public DType type() {
        return type;
    }

    public String name() {
        return name;
    }

    /** The largest normalized mean squared error, sum((y - ref)^2) / sum(ref^2), that passes. */
    public double tolerance() {
        return tolerance;
    }

    /** Builds the graph and its data; close the instance to free the data. */
    public Instance instantiate() {
        Map<String, byte[]> memo = encoded.get();
        if (memo == null) encoded = new SoftReference<>(memo = new ConcurrentHashMap<>());
        Builder b = new Builder(dataKey, memo);
        try {
            definition.accept(b);
            if (b.outputs.isEmpty()) throw new IllegalStateException(name + ": a case needs an output");
            for (Node n : b.outputs) b.graph.output(n);
            return new Instance(b.graph, Collections.unmodifiableMap(b.inputs), Collections.unmodifiableMap(b.leaves),
                    List.copyOf(b.outputs), b.arena);
        } catch (RuntimeException e) {
            b.arena.close();
            throw e;
        }
    }

    @Override
    public String toString() {
        return name;
    }

    /**
     * A built case: the graph, the bytes of each input (by input name) and of each weight and state
     * (by leaf name), and the nodes whose values are compared.
     */
    public record Instance(Graph graph, Map<String, MemorySegment> inputs, Map<String, MemorySegment> leaves,
                           List<Node> outputs, Arena arena) implements AutoCloseable {
        @Override
        public void close() {
            if (arena.scope().isAlive()) arena.close();
        }
    }

    /** Adds seeded random data next to the graph a case defines. */
    public static final class Builder {
        private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

        private final Graph graph = new Graph();
        private final Random random;
        private final Arena arena = Arena.ofShared();
        private final Map<String, MemorySegment> inputs = new LinkedHashMap<>();
        private final Map<String, MemorySegment> leaves = new LinkedHashMap<>();
        private final List<Node> outputs = new ArrayList<>();

        private final String dataKey;
        private final Map<String, byte[]> memo;

        Builder(String dataKey, Map<String, byte[]> memo) {
            this.random = new Random(dataKey.hashCode());
            this.dataKey = dataKey;
            this.memo = memo;
        }

        public Graph graph() {
            return graph;
        }

        public Random random() {
            return random;
        }

        /** {@code n} values drawn uniformly from [-range, range). */
        public float[] uniform(int n, float range) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = (random.nextFloat() * 2 - 1) * range;
            return v;
        }

        /** An F32 input of values in [-1, 1). */
        public Node input(String name, long... ne) {
            return input(name, DType.F32, 1, ne);
        }

        /** An input of {@code type} holding values in [-range, range), encoded with the type's codec. */
        public Node input(String name, DType type, float range, long... ne) {
            TensorDesc d = TensorDesc.of(name, type, ne);
            inputs.put(name, encode(d, uniform(Math.toIntExact(d.elements()), range)));
            return graph.input(name, type, ne);
        }

        /** An I32 input of one dimension holding {@code values} (token ids, positions). */
        public Node ints(String name, int... values) {
            MemorySegment s = arena.allocate(4L * values.length, 64);
            MemorySegment.copy(values, 0, s, I32, 0, values.length);
            inputs.put(name, s);
            return graph.input(name, DType.I32, values.length);
        }

        /** An I32 input of shape {@code ne} holding {@code values} (each token's experts). */
        public Node ints(String name, long[] ne, int... values) {
            if (TensorDesc.of(name, DType.I32, ne).elements() != values.length) throw new IllegalArgumentException(values.length + " ids for " + java.util.Arrays.toString(ne));
            MemorySegment s = arena.allocate(4L * values.length, 64);
            MemorySegment.copy(values, 0, s, I32, 0, values.length);
            inputs.put(name, s);
            return graph.input(name, DType.I32, ne);
        }

        /** A weight of values in [-1, 1), quantized with the codec of {@code type}. */
        public Node weight(String name, DType type, long... ne) {
            return weight(name, type, uniform(Math.toIntExact(TensorDesc.of(name, type, ne).elements()), 1), ne);
        }

        /** A weight holding {@code values}, quantized with the codec of {@code type}. */
        public Node weight(String name, DType type, float[] values, long... ne) {
            TensorDesc d = TensorDesc.of(name, type, ne);
            leaves.put(name, encode(d, values));
            return graph.weight(d);
        }

        /** A state (KV cache) whose initial contents are values in [-1, 1). */
        public Node state(String name, DType type, long... ne) {
            TensorDesc d = TensorDesc.of(name, type, ne);
            leaves.put(name, encode(d, uniform(Math.toIntExact(d.elements()), 1)));
            return graph.state(d);
        }

        public Builder output(Node n) {
            outputs.add(n);
            return this;
        }

        private MemorySegment encode(TensorDesc d, float[] values) {
            if (values.length != d.elements()) throw new IllegalArgumentException(values.length + " values for " + d);
            MemorySegment s = arena.allocate(d.bytes(), 64);
            String key = dataKey + " / " + d;
            byte[] known = memo.get(key);
            if (known != null && known.length == d.bytes()) {
                MemorySegment.copy(MemorySegment.ofArray(known), 0, s, 0, known.length);
                return s;
            }
            int k = (int) d.rowLength();
            var codec = Codecs.of(d.type());
            for (long r = 0; r < d.rows(); r++) codec.quantizeRow(values, (int) (r * k), s, r * d.rowBytes(), k);
            memo.put(key, s.toArray(ValueLayout.JAVA_BYTE));
            return s;
        }
    }
}
