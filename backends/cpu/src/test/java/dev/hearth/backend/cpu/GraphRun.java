package dev.hearth.backend.cpu;

import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Stream;
import dev.hearth.runtime.backend.Subgraph;
import dev.hearth.runtime.backend.TensorRef;
import dev.hearth.runtime.dtype.Codecs;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Runs a graph on a CPU device with one buffer per tensor (a KV store shares its cache's). */
final class GraphRun implements AutoCloseable {
    final CpuDevice device;
    final Graph graph;
    final Map<Node, TensorRef> refs = new IdentityHashMap<>();
    private final List<Buffer> buffers = new ArrayList<>();
    private final Stream stream;
    private final Subgraph split;

    GraphRun(CpuDevice device, Graph graph) {
        this.device = device;
        this.graph = graph;
        for (Node n : graph.nodes()) {
            if (n.op() instanceof Op.KvStore kv) {
                refs.put(n, new TensorRef(n.desc(), refs.get(kv.cache()).buffer(), 0));
                continue;
            }
            Buffer b = device.allocate(n.desc().bytes(), n.op() instanceof Op.Weight ? BufferUsage.WEIGHTS : BufferUsage.COMPUTE);
            buffers.add(b);
            refs.put(n, new TensorRef(n.desc(), b, 0));
        }
        stream = device.openStream();
        split = new Subgraph(device, graph.nodes(), refs);
    }

    MemorySegment bytes(Node n) {
        return refs.get(n).buffer().hostSegment();
    }

    /** Encodes {@code v} with the node's type's reference codec. */
    GraphRun set(Node n, float[] v) {
        Codecs.quantize(n.desc().type(), v, 0, bytes(n), 0, v.length);
        return this;
    }

    GraphRun set(Node n, int[] v) {
        MemorySegment.copy(v, 0, bytes(n), ValueLayout.JAVA_INT_UNALIGNED, 0, v.length);
        return this;
    }

    GraphRun compute() {
        stream.compute(split);
        return this;
    }

    /** The node's value decoded to floats. */
    float[] get(Node n) {
        return Codecs.dequantize(n.desc().type(), bytes(n), 0, Math.toIntExact(n.desc().elements()));
    }

    @Override
    public void close() {
        stream.close();
        for (Buffer b : buffers) b.close();
    }

    static float[] gaussian(Random r, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian() * scale;
        return v;
    }

    /** sum((y - ref)^2) / sum(ref^2). */
    static double nmse(float[] y, float[] ref) {
        double e = 0, s = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = (double) y[i] - ref[i];
            e += d * d;
            s += (double) ref[i] * ref[i];
        }
        return s == 0 ? e : e / s;
    }

    static float[] dequantize(DType t, MemorySegment s, int n) {
        return Codecs.dequantize(t, s, 0, n);
    }
}
