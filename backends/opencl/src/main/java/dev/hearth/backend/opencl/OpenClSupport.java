package dev.hearth.backend.opencl;

import dev.hearth.runtime.dtype.CacheTypes;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;

import java.util.EnumSet;
import java.util.Set;

/**
 * Which (op, type) pairs the OpenCL kernels compute. Pure and cheap: it reads only the node.
 * <ul>
 *   <li>mul_mat: weights F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K, Q3_K, Q4_K,
 *       Q5_K, Q6_K, MXFP4; activations F32</li>
 *   <li>get_rows: tables of the same types; convert: from those types to F32, F16 or BF16</li>
 *   <li>rms_norm (F32 weight or none), layer_norm (F32 weight and bias, each or none), rope (F32
 *       frequency factors or none, even headDim), swiglu, geglu, softcap, add, mul, scale,
 *       softmax, swiglu_oai: F32; rope with YaRN scaling too</li>
 *   <li>kv_store and attention: F32, F16, Q8_0 or Q4_0 caches, rings too (position p at row p % rows);
 *       attention with headDim up to 512, with or without a sliding window, soft-capped scores
 *       and (F32) attention sinks; prompts of 16 tokens or more with headDim up to 256 by tiles
 *       (attention_tiled.cl), the others one work-group per token (attention.cl)</li>
 *   <li>mul_mat_id: experts' weights of the mul_mat types, F32 activations, I32 ids; top_k,
 *       gather (I32 ids), weighted_sum, add_id (I32 ids): F32</li>
 *   <li>reshape: a view, nothing to launch</li>
 * </ul>
 * Every count a kernel indexes with 32 bits is checked to fit.
 */
final class OpenClSupport {
    static final Set<DType> WEIGHT_TYPES = EnumSet.of(DType.F32, DType.F16, DType.BF16, DType.Q4_0, DType.Q4_1,
            DType.Q5_0, DType.Q5_1, DType.Q8_0, DType.Q8_1, DType.Q2_K, DType.Q3_K, DType.Q4_K, DType.Q5_K, DType.Q6_K,
            DType.MXFP4);
    static final int MAX_HEAD_DIM = 512;
    /** The attention kernel's fixed work-group size (ATT_WG in attention.cl). */
    static final int ATTENTION_GROUP = 64;
    /** The tiled attention kernel's fixed work-group size (AT_WG in attention_tiled.cl). */
    static final int ATTENTION_TILED_GROUP = 128;
    /** The tiled attention kernel's largest headDim (attention_tiled_16; attention_tiled_32 takes up to 128). */
    static final int ATTENTION_TILED_MAX_HEAD_DIM = 256;
    /** Local memory of attention_tiled_32, in bytes: Q tile, K/V tile, weights, partial maxima (see its header). */
    static final long ATTENTION_TILED_LOCAL = 4L * (4096 + 32 * 65 + 32 * 33 + 2 * 128);
    private static final long MAX_ELEMENTS = 0xffff_ffffL;

    private OpenClSupport() {
    }

    /** Why the kernels cannot compute {@code n}, or null where they can. */
    static String whyNot(Node n) {
        String name = opName(n.op());
        if (n.isLeaf()) return null;
        if (n.desc().elements() > MAX_ELEMENTS) return name + " of more than 2^32 elements";
        for (Node in : n.inputs()) {
            if (in.desc().elements() > MAX_ELEMENTS && !(n.op() instanceof Op.MulMat)
                    && !(n.op() instanceof Op.MulMatId) && !(n.op() instanceof Op.GetRows)) {
                return name + " reading more than 2^32 elements";
            }
        }
        return switch (n.op()) {
            case Op.MulMat m -> weightType(name, m.w()) != null ? weightType(name, m.w()) : f32(name, m.x());
            case Op.GetRows g -> weightType(name, g.table());
            case Op.Convert c -> weightType(name, c.x());
            case Op.RmsNorm r -> r.weight() != null && r.weight().desc().type() != DType.F32
                    ? name + " with a " + r.weight().desc().type() + " weight (F32 only)" : f32(name, r.x());
            case Op.Rope r -> {
                if (r.headDim() % 2 != 0) yield name + " with an odd headDim " + r.headDim();
                if (r.freqFactors() != null && r.freqFactors().desc().type() != DType.F32) yield name + " with non-F32 frequency factors";
                yield f32(name, r.x());
            }
            case Op.KvStore k -> {
                String why = cache(name, k.cache());
                yield why != null ? why : f32(name, k.src());
            }
            case Op.Attention a -> {
                if (a.window() < 0) yield name + " with a negative window " + a.window();
                if (a.sinks() != null && a.sinks().desc().type() != DType.F32) yield name + " with " + a.sinks().desc().type() + " sinks (F32 only)";
                if (a.softcap() < 0) yield name + " with a negative softcap " + a.softcap();
                if (a.headDim() > MAX_HEAD_DIM) yield name + " with headDim " + a.headDim() + " (at most " + MAX_HEAD_DIM + ")";
                String why = cache(name, a.kCache());
                if (why == null) why = cache(name, a.vCache());
                yield why != null ? why : f32(name, a.q());
            }
            case Op.Swiglu s -> f32(name, s.gate(), s.up());
            case Op.Add a -> f32(name, a.a(), a.b());
            case Op.Mul m -> f32(name, m.a(), m.b());
            case Op.Scale s -> f32(name, s.x());
            case Op.Softmax s -> f32(name, s.x());
            case Op.Geglu g -> f32(name, g.gate(), g.up());
            case Op.Softcap s -> f32(name, s.x());
            case Op.LayerNorm l -> {
                if (l.weight() != null && l.weight().desc().type() != DType.F32) yield name + " with a " + l.weight().desc().type() + " weight (F32 only)";
                if (l.bias() != null && l.bias().desc().type() != DType.F32) yield name + " with a " + l.bias().desc().type() + " bias (F32 only)";
                yield f32(name, l.x());
            }
            case Op.Reshape r -> null; // a view: nothing to launch
            case Op.TopK t -> f32(name, t.x());
            case Op.Gather g -> {
                String why = i32(name, g.ids());
                yield why != null ? why : f32(name, g.x());
            }
            case Op.MulMatId m -> {
                String why = weightType(name, m.w());
                if (why == null) why = i32(name, m.ids());
                yield why != null ? why : f32(name, m.x());
            }
            case Op.WeightedSum w -> f32(name, w.y(), w.weights());
            case Op.SwigluOai s -> f32(name, s.gate(), s.up());
            case Op.AddId a -> {
                String why = i32(name, a.ids());
                yield why != null ? why : f32(name, a.y(), a.bias());
            }
            case Op.Leaf l -> null;
        };
    }

    static String opName(Op op) {
        return switch (op) {
            case Op.MulMat m -> "mul_mat";
            case Op.GetRows g -> "get_rows";
            case Op.Convert c -> "convert";
            case Op.RmsNorm r -> "rms_norm";
            case Op.Rope r -> "rope";
            case Op.KvStore k -> "kv_store";
            case Op.Attention a -> "attention";
            case Op.Swiglu s -> "swiglu";
            case Op.Add a -> "add";
            case Op.Mul m -> "mul";
            case Op.Scale s -> "scale";
            case Op.Softmax s -> "softmax";
            case Op.Geglu g -> "geglu";
            case Op.Softcap s -> "softcap";
            case Op.LayerNorm l -> "layer_norm";
            case Op.Reshape r -> "reshape";
            case Op.TopK t -> "top_k";
            case Op.Gather g -> "gather";
            case Op.MulMatId m -> "mul_mat_id";
            case Op.WeightedSum w -> "weighted_sum";
            case Op.SwigluOai s -> "swiglu_oai";
            case Op.AddId a -> "add_id";
            case Op.Leaf l -> "leaf";
        };
    }

    private static String weightType(String name, Node w) {
        DType t = w.desc().type();
        return WEIGHT_TYPES.contains(t) ? null : name + " of " + t + " (OpenCL kernels read " + WEIGHT_TYPES + ")";
    }

    private static String cache(String name, Node c) {
        String why = CacheTypes.whyNot(c.desc().type(), c.desc().rowLength());
        return why == null ? null : name + ": " + why;
    }

    private static String i32(String name, Node ids) {
        DType t = ids.desc().type();
        return t == DType.I32 ? null : name + " with " + t + " ids " + ids.name() + " (I32 only)";
    }

    private static String f32(String name, Node... xs) {
        for (Node x : xs) {
            if (x.desc().type() != DType.F32) return name + " of " + x.desc().type() + " " + x.name() + " (F32 only)";
        }
        return null;
    }
}
