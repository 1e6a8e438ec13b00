package dev.hearth.backend.cuda;

import dev.hearth.runtime.dtype.CacheTypes;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;

import java.util.Set;

/**
 * Which nodes the CUDA kernels compute: a pure function of the node, with no driver call, so it
 * answers (and is tested) on machines without a GPU.
 *
 * <ul>
 *   <li>mul_mat, mul_mat_id and get_rows: weights of F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, MXFP4,
 *       Q2_K, Q3_K, Q4_K, Q5_K or Q6_K (every type the CPU backend reads);</li>
 *   <li>top_k, gather, mul_mat_id, add_id: I32 expert ids;</li>
 *   <li>kv_store and attention: F32, F16, Q8_0 or Q4_0 caches (attention: both caches of one type, head
 *       dimension at most 256; sinks F32);</li>
 *   <li>rope: at most 1024 rotated dimensions, with or without YaRN; convert: between F32, F16 and BF16;</li>
 *   <li>every other op: F32 tensors;</li>
 *   <li>sizes: rows and row lengths that fit a signed 32-bit int.</li>
 * </ul>
 */
final class CudaSupport {
    static final Set<DType> WEIGHT_TYPES = Set.of(DType.F32, DType.F16, DType.BF16, DType.Q4_0, DType.Q4_1, DType.Q5_0, DType.Q5_1,
            DType.Q8_0, DType.MXFP4, DType.Q2_K, DType.Q3_K, DType.Q4_K, DType.Q5_K, DType.Q6_K);
    static final Set<DType> FLOAT_TYPES = Set.of(DType.F32, DType.F16, DType.BF16);
    static final int MAX_HEAD_DIM = 256;
    static final int MAX_ROPE_DIMS = 1024;

    private CudaSupport() {
    }

    /** Why the CUDA backend cannot compute {@code n}, or null where it can. */
    static String whyNot(Node n) {
        if (n.isLeaf()) return null;
        String op = n.op().getClass().getSimpleName();
        for (Node in : n.inputs()) {
            if (in.desc().rowLength() > Integer.MAX_VALUE || in.desc().rows() > Integer.MAX_VALUE) {
                return op + ": " + in.name() + " " + in.desc().shapeString() + " is too large for the CUDA kernels";
            }
        }
        if (n.desc().rowLength() > Integer.MAX_VALUE || n.desc().rows() > Integer.MAX_VALUE) {
            return op + ": result " + n.desc().shapeString() + " is too large for the CUDA kernels";
        }
        return switch (n.op()) {
            case Op.GetRows g -> first(type(op, g.table(), WEIGHT_TYPES), i32(op, g.ids()));
            case Op.MulMat m -> first(type(op, m.w(), WEIGHT_TYPES), f32(op, m.x()));
            case Op.RmsNorm r -> first(f32(op, r.x()), r.weight() != null ? f32(op, r.weight()) : null);
            case Op.Rope r -> first(f32(op, r.x()), i32(op, r.pos()),
                    r.freqFactors() != null ? f32(op, r.freqFactors()) : null,
                    r.ropeDims() > MAX_ROPE_DIMS ? op + ": " + r.ropeDims() + " rotated dimensions (at most " + MAX_ROPE_DIMS + ")" : null);
            case Op.KvStore k -> first(cache(op, k.cache()), f32(op, k.src()), i32(op, k.pos()));
            case Op.Attention a -> first(f32(op, a.q()), cache(op, a.kCache()), cache(op, a.vCache()), i32(op, a.pos()),
                    a.sinks() != null ? f32(op, a.sinks()) : null,
                    a.kCache().desc().type() != a.vCache().desc().type()
                            ? op + ": K cache " + a.kCache().desc().type() + " and V cache " + a.vCache().desc().type() + " differ" : null,
                    a.headDim() > MAX_HEAD_DIM ? op + ": head dimension " + a.headDim() + " (at most " + MAX_HEAD_DIM + ")" : null);
            case Op.Swiglu s -> first(f32(op, s.gate()), f32(op, s.up()));
            case Op.Add a -> first(f32(op, a.a()), f32(op, a.b()));
            case Op.Mul m -> first(f32(op, m.a()), f32(op, m.b()));
            case Op.Scale s -> f32(op, s.x());
            case Op.Softmax s -> f32(op, s.x());
            case Op.Convert c -> first(type(op, c.x(), FLOAT_TYPES),
                    FLOAT_TYPES.contains(c.to()) ? null : op + ": cannot convert to " + c.to());
            case Op.Geglu g -> first(f32(op, g.gate()), f32(op, g.up()));
            case Op.Softcap s -> f32(op, s.x());
            case Op.LayerNorm l -> first(f32(op, l.x()), l.weight() != null ? f32(op, l.weight()) : null,
                    l.bias() != null ? f32(op, l.bias()) : null);
            case Op.Reshape r -> null; // a view: nothing to launch
            case Op.SwigluOai s -> first(f32(op, s.gate()), f32(op, s.up()));
            case Op.AddId a -> first(f32(op, a.y()), f32(op, a.bias()), i32(op, a.ids()));
            case Op.TopK t -> f32(op, t.x());
            case Op.Gather g -> first(f32(op, g.x()), i32(op, g.ids()));
            case Op.MulMatId m -> first(type(op, m.w(), WEIGHT_TYPES), f32(op, m.x()), i32(op, m.ids()));
            case Op.WeightedSum w -> first(f32(op, w.y()), f32(op, w.weights()));
            case Op.Leaf l -> null;
        };
    }

    private static String first(String... reasons) {
        for (String r : reasons) if (r != null) return r;
        return null;
    }

    private static String type(String op, Node in, Set<DType> allowed) {
        DType t = in.desc().type();
        return allowed.contains(t) ? null : op + ": " + in.name() + " of type " + t + " (CUDA kernels read " + names(allowed) + ")";
    }

    private static String f32(String op, Node in) {
        return in.desc().type() == DType.F32 ? null : op + ": " + in.name() + " must be F32, not " + in.desc().type();
    }

    private static String i32(String op, Node in) {
        return in.desc().type() == DType.I32 ? null : op + ": " + in.name() + " must be I32, not " + in.desc().type();
    }

    private static String cache(String op, Node c) {
        String why = CacheTypes.whyNot(c.desc().type(), c.desc().rowLength());
        return why == null ? null : op + ": cache " + c.name() + ": " + why;
    }

    private static String names(Set<DType> types) {
        return types.stream().map(Enum::name).sorted().collect(java.util.stream.Collectors.joining(", "));
    }
}
