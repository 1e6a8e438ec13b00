package dev.hearth.bench.kernels;

import dev.hearth.runtime.conformance.OpCase;
import dev.hearth.runtime.dtype.Codecs;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.tensor.TensorDesc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Builds the graph of a {@link KernelCase} and, where asked, its data, fast enough for tensors of
 * real models (an output matrix of 4096 x 128256). A weight or cache is a tile of up to
 * {@link #TILE_ROWS} rows of seeded values in [-1, 1), quantized with the type's reference codec
 * and repeated down the tensor: valid blocks of the type, built in milliseconds. Activations are
 * seeded values in [-1, 1). Without data ({@code withData} false) only the graph and the integer
 * inputs are made, to ask a device whether it supports the case and to count its work.
 */
public final class CaseData {
    /** Distinct rows of a weight before its tile repeats. */
    static final int TILE_ROWS = 64;

    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Graph graph = new Graph();
    private final boolean withData;
    private final SplittableRandom random;
    private final Arena arena;
    private final Map<String, MemorySegment> inputs = new LinkedHashMap<>();
    private final Map<String, MemorySegment> leaves = new LinkedHashMap<>();
    private final Map<String, int[]> ints = new LinkedHashMap<>();
    private final List<Node> outputs = new ArrayList<>();

    CaseData(String seedKey, boolean withData) {
        this.withData = withData;
        this.random = new SplittableRandom(seedKey.hashCode());
        this.arena = withData ? Arena.ofShared() : null;
    }

    public Graph graph() {
        return graph;
    }

    /** An F32 input of values in [-range, range). */
    public Node input(String name, float range, long... ne) {
        Node n = graph.input(name, DType.F32, ne);
        if (withData) {
            long count = n.desc().elements();
            MemorySegment s = arena.allocate(4 * count, 64);
            for (long i = 0; i < count; i++) s.setAtIndex(F32, i, (float) ((random.nextDouble() * 2 - 1) * range));
            inputs.put(name, s);
        }
        return n;
    }

    /** An I32 input of one dimension (positions). */
    public Node ints(String name, int... values) {
        ints.put(name, values.clone());
        if (withData) {
            MemorySegment s = arena.allocate(4L * values.length, 64);
            MemorySegment.copy(values, 0, s, I32, 0, values.length);
            inputs.put(name, s);
        }
        return graph.input(name, DType.I32, values.length);
    }

    /** An I32 input of shape {@code ne} (each token's experts). */
    public Node ints(String name, long[] ne, int... values) {
        ints.put(name, values.clone());
        if (withData) {
            MemorySegment s = arena.allocate(4L * values.length, 64);
            MemorySegment.copy(values, 0, s, I32, 0, values.length);
            inputs.put(name, s);
        }
        return graph.input(name, DType.I32, ne);
    }

    /** A weight of {@code type}: a quantized tile of seeded rows, repeated. */
    public Node weight(String name, DType type, long... ne) {
        TensorDesc d = TensorDesc.of(name, type, ne);
        if (withData) leaves.put(name, tiled(d));
        return graph.weight(d);
    }

    /** A state (KV cache) of {@code type}, filled like a weight. */
    public Node state(String name, DType type, long... ne) {
        TensorDesc d = TensorDesc.of(name, type, ne);
        if (withData) leaves.put(name, tiled(d));
        return graph.state(d);
    }

    public CaseData output(Node n) {
        outputs.add(n);
        return this;
    }

    /** The integer inputs by name (positions), known with or without data. */
    Map<String, int[]> intInputs() {
        return Collections.unmodifiableMap(ints);
    }

    List<Node> outputs() {
        return outputs;
    }

    /** The built case; only where made with data. */
    OpCase.Instance instance() {
        if (!withData) throw new IllegalStateException("built without data");
        for (Node n : outputs) graph.output(n);
        return new OpCase.Instance(graph, Collections.unmodifiableMap(inputs), Collections.unmodifiableMap(leaves),
                List.copyOf(outputs), arena);
    }

    /** Frees the data after a failed build. */
    void discard() {
        if (arena != null && arena.scope().isAlive()) arena.close();
    }

    private MemorySegment tiled(TensorDesc d) {
        int k = Math.toIntExact(d.rowLength());
        long rows = d.rows();
        int tileRows = (int) Math.min(rows, TILE_ROWS);
        long rowBytes = d.rowBytes();
        MemorySegment all = arena.allocate(d.bytes(), 64);
        float[] values = new float[k];
        var codec = Codecs.of(d.type());
        for (int r = 0; r < tileRows; r++) {
            for (int i = 0; i < k; i++) values[i] = (float) (random.nextDouble() * 2 - 1);
            codec.quantizeRow(values, 0, all, r * rowBytes, k);
        }
        long tileBytes = tileRows * rowBytes;
        for (long done = tileBytes; done < d.bytes(); ) {
            long n = Math.min(done, d.bytes() - done); // doubling copies: log2(rows / tile) of them
            MemorySegment.copy(all, 0, all, done, n);
            done += n;
        }
        return all;
    }
}
