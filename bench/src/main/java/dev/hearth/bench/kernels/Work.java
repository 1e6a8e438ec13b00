package dev.hearth.bench.kernels;

import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.tensor.TensorDesc;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The work of one kernel case: the bytes it must move at least and the floating-point operations
 * it does. Bytes are every weight, state and input the graph's ops read (each once, at its stored
 * type) plus every output written; intermediate values of a graph of several ops are left out (a
 * kernel may keep them in cache). Attention reads only the cache rows its positions reach, and a
 * KV store writes only its rows. FLOPs per op:
 * <ul>
 * <li>mul_mat: 2·K·N·T (a multiply and an add per weight and token);</li>
 * <li>attention: 4·headDim per head and visible cache row (q·k and p·v), softmax left out;</li>
 * <li>rms_norm: 3 per element (square, sum, scale), 4 with a weight;</li>
 * <li>rope: 3 per rotated element (a pair takes 4 multiplies and 2 adds), sines left out;</li>
 * <li>swiglu: 5 per element (negate, exp, add, divide, multiply); softmax: 4 per element;</li>
 * <li>add, mul, scale: 1 per element; get_rows, kv_store, convert: 0.</li>
 * </ul>
 */
public record Work(long bytes, long flops) {
    /** mul_mat of a weight {@code type} [K, N] by F32 activations [K, T] into F32 [N, T]. */
    public static Work mulMat(DType type, long k, long n, long t) {
        long weight = TensorDesc.of("w", type, k, n).bytes();
        return new Work(weight + 4 * k * t + 4 * n * t, 2 * k * n * t);
    }

    /** Causal attention of T queries at positions {@code pos} over a cache of {@code cache} type. */
    public static Work attention(DType cache, int heads, int kvHeads, int headDim, int[] pos) {
        long visible = 0;
        int maxPos = 0;
        for (int p : pos) {
            visible += p + 1;
            maxPos = Math.max(maxPos, p);
        }
        long kvRow = TensorDesc.of("k", cache, (long) kvHeads * headDim, 1).bytes();
        long q = 4L * heads * headDim * pos.length;
        return new Work(q + 2 * kvRow * (maxPos + 1) + 4L * pos.length + q, 4L * heads * headDim * visible);
    }

    /** The work of a graph, with its integer inputs (positions) by name. */
    public static Work of(Graph graph, Map<String, int[]> ints) {
        Set<Node> read = Collections.newSetFromMap(new IdentityHashMap<>());
        long bytes = 0;
        long flops = 0;
        for (Node n : graph.nodes()) {
            switch (n.op()) {
                case Op.Leaf leaf -> {
                    continue;
                }
                case Op.MulMat m -> flops += 2 * m.w().desc().ne(0) * m.w().desc().rows() * m.x().desc().rows();
                case Op.MulMatId m -> {
                    // only the selected experts are read: count the distinct ones
                    int[] ids = ints.get(m.ids().name());
                    long experts = ids == null ? m.w().desc().ne(2) : java.util.Arrays.stream(ids).distinct().count();
                    long slots = m.ids().desc().elements();
                    flops += 2 * m.w().desc().ne(0) * m.w().desc().ne(1) * slots;
                    if (read.add(m.w())) bytes += m.w().desc().bytes() / m.w().desc().ne(2) * experts;
                }
                case Op.WeightedSum s -> flops += 2 * s.y().desc().elements();
                case Op.SwigluOai s -> flops += 8 * s.gate().desc().elements();
                case Op.AddId a -> flops += a.y().desc().elements();
                case Op.Attention a -> {
                    int[] pos = ints.get(a.pos().name());
                    if (pos == null) throw new IllegalArgumentException("attention positions " + a.pos().name() + " unknown");
                    Work w = attention(a.kCache().desc().type(), a.heads(), a.kvHeads(), a.headDim(), pos);
                    flops += w.flops();
                    long cacheBytes = w.bytes() - 2 * 4L * a.heads() * a.headDim() * pos.length - 4L * pos.length;
                    if (read.add(a.kCache())) bytes += cacheBytes / 2;
                    if (read.add(a.vCache())) bytes += cacheBytes / 2;
                }
                case Op.KvStore s -> {
                    read.add(s.cache()); // written row by row below, never read whole
                    bytes += s.src().desc().rows() * s.cache().desc().rowBytes();
                }
                case Op.RmsNorm r -> flops += (r.weight() != null ? 4 : 3) * r.x().desc().elements();
                case Op.Rope r -> flops += 3L * r.x().desc().rows() * (r.x().desc().ne(0) / r.headDim()) * r.ropeDims();
                case Op.Swiglu s -> flops += 5 * s.gate().desc().elements();
                case Op.Geglu s -> flops += 9 * s.gate().desc().elements();
                case Op.Softcap s -> flops += 3 * s.x().desc().elements();
                case Op.LayerNorm l -> flops += (l.weight() != null ? 6 : 5) * l.x().desc().elements();
                case Op.Softmax s -> flops += 4 * s.x().desc().elements();
                case Op.Add a -> flops += n.desc().elements();
                case Op.Mul m -> flops += n.desc().elements();
                case Op.Scale s -> flops += n.desc().elements();
                default -> {
                }
            }
            for (Node in : n.inputs()) {
                if (in.isLeaf() && read.add(in)) bytes += in.desc().bytes();
            }
        }
        for (Node out : graph.outputs()) {
            if (!(out.op() instanceof Op.KvStore)) bytes += out.desc().bytes();
        }
        return new Work(bytes, flops);
    }

    /** Gigabytes per second at {@code nanos} per run. */
    public double gbps(double nanos) {
        return bytes / nanos;
    }

    /** GFLOP per second at {@code nanos} per run. */
    public double gflops(double nanos) {
        return flops / nanos;
    }
}
