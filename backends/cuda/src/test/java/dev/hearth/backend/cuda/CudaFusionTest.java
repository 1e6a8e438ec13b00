package dev.hearth.backend.cuda;

import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.tensor.TensorDesc;
import org.junit.jupiter.api.Test;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The launches a subgraph compiles to, without a device (fake addresses, no function handles):
 * q8_1 activations quantized once per input, rms_norm (after the residual add it does first)
 * and swiglu writing them themselves, rope doing the K cache's kv_store (see Fusion).
 */
class CudaFusionTest {
    /** LLaMA 3.2 1B: dim 2048, 32 heads of 64, 8 KV heads, feed-forward 8192. */
    private static final int DIM = 2048, HEADS = 32, KV_HEADS = 8, HEAD_DIM = 64, FFN = 8192;
    /** Launches built for an A100's 108 multiprocessors: the 512-row K and V projections take mul_mat_vec's split variant. */
    private static final int A100_MULTIPROCESSORS = 108;

    /**
     * {@code layers} decoder layers in ModelGraph's node order (Blocks.selfAttention,
     * ModelGraph.attention, Blocks.gatedFfn), Q4_K_M's weight types, caches of {@code ctx} rows.
     */
    private static Graph llama(int layers, int tokens, int ctx, DType cache) {
        Graph g = new Graph();
        Node x = g.input("x", DType.F32, DIM, tokens);
        Node pos = g.input("pos", DType.I32, tokens);
        for (int l = 0; l < layers; l++) x = layer(g, "l" + l + ".", x, pos, ctx, cache);
        g.output(x);
        return g;
    }

    private static Node layer(Graph g, String p, Node x, Node pos, int ctx, DType cache) {
        int kvDim = KV_HEADS * HEAD_DIM;
        Node h = g.rmsNorm(p + "attn_norm", x, g.weight(TensorDesc.of(p + "attn_norm.weight", DType.F32, DIM)), 1e-5f);
        Node q = g.mulMat(p + "q", g.weight(TensorDesc.of(p + "attn_q", DType.Q4_K, DIM, DIM)), h);
        Node k = g.mulMat(p + "k", g.weight(TensorDesc.of(p + "attn_k", DType.Q4_K, DIM, kvDim)), h);
        Node v = g.mulMat(p + "v", g.weight(TensorDesc.of(p + "attn_v", DType.Q6_K, DIM, kvDim)), h);
        q = g.rope(p + "q_rope", q, pos, HEAD_DIM, HEAD_DIM, Op.RopeMode.NORMAL, 500000f, 1f, null);
        k = g.rope(p + "k_rope", k, pos, HEAD_DIM, HEAD_DIM, Op.RopeMode.NORMAL, 500000f, 1f, null);
        Node kc = g.kvStore(p + "k_store", g.state(TensorDesc.of(p + "k_cache", cache, kvDim, ctx)), k, pos);
        Node vc = g.kvStore(p + "v_store", g.state(TensorDesc.of(p + "v_cache", cache, kvDim, ctx)), v, pos);
        Node att = g.attention(p + "attn", q, kc, vc, pos, HEADS, KV_HEADS, HEAD_DIM, 0.125f);
        Node o = g.mulMat(p + "attn_output", g.weight(TensorDesc.of(p + "attn_output", DType.Q4_K, DIM, DIM)), att);
        Node r = g.add(p + "attn_res", x, o);
        Node f = g.rmsNorm(p + "ffn_norm", r, g.weight(TensorDesc.of(p + "ffn_norm.weight", DType.F32, DIM)), 1e-5f);
        Node gate = g.mulMat(p + "gate", g.weight(TensorDesc.of(p + "ffn_gate", DType.Q4_K, DIM, FFN)), f);
        Node up = g.mulMat(p + "up", g.weight(TensorDesc.of(p + "ffn_up", DType.Q4_K, DIM, FFN)), f);
        Node down = g.mulMat(p + "down", g.weight(TensorDesc.of(p + "ffn_down", DType.Q6_K, FFN, DIM)), g.swiglu(p + "swiglu", gate, up));
        g.output(kc).output(vc);
        return g.add(p + "ffn_res", r, down);
    }

    private static Graph llamaLayer(int tokens, int ctx, DType cache) {
        return llama(1, tokens, ctx, cache);
    }

    private static List<Launch> launches(List<Node> nodes, Fusion fusion) {
        Map<Node, Long> addresses = new IdentityHashMap<>();
        Function<Node, Long> addr = n -> addresses.computeIfAbsent(n, m -> 0x10000L * (addresses.size() + 1));
        return KernelCalls.launches(nodes, addr, new KernelCalls.Target(k -> null, true, A100_MULTIPROCESSORS, n -> false, 0x7000_0000L, fusion));
    }

    private static List<String> entries(List<Launch> launches) {
        return launches.stream().map(l -> l.kernel().entry).toList();
    }

    private static long count(List<Launch> launches, Kernel k) {
        return launches.stream().filter(l -> l.kernel() == k).count();
    }

    /**
     * Before these fusions a decode step of a layer took 25 launches (24 and attention's
     * combine): a quantize_q8_1 before each of the 7 quantized matrix-vector products, rope and
     * kv_store apart, the residual adds apart. Now 16 from the second layer on (the first has
     * no add before its attn_norm).
     */
    @Test
    void llamaLayerDecode() {
        List<String> decode = List.of("add_rms_norm_q8_1", "mul_mat_vec_q4_k_t1", "mul_mat_vec_split_q4_k_t1", "mul_mat_vec_split_q6_k_t1", "rope",
                "rope_store", "kv_store_f16", "attention_partial_f16", "attention_combine", "quantize_q8_1", "mul_mat_vec_q4_k_t1",
                "add_rms_norm_q8_1", "mul_mat_vec_q4_k_t1", "mul_mat_vec_q4_k_t1", "swiglu_q8_1", "mul_mat_vec_q6_k_t1");
        Graph g = llama(3, 1, 4096, DType.F16);
        List<String> l = entries(launches(g.nodes(), Fusion.of(g.nodes())));
        List<String> first = new java.util.ArrayList<>(decode);
        first.set(0, "rms_norm_q8_1");
        List<String> want = new java.util.ArrayList<>(first);
        want.addAll(decode);
        want.addAll(decode);
        want.add("add");
        assertEquals(want, l);
        System.out.println("LLaMA 1B decode, 1 token, 4096-row F16 cache: " + decode.size() + " launches a layer " + decode
                + " (the first layer rms_norm_q8_1 for add_rms_norm_q8_1, the last add after the last layer)");
    }

    /** Up to 8 tokens take the same fusions; a prompt batch (tiled kernels, F32 activations) none of the q8_1 ones. */
    @Test
    void tokensAndPrompts() {
        Graph g = llamaLayer(8, 4096, DType.F16);
        List<Launch> l = launches(g.nodes(), Fusion.of(g.nodes()));
        assertEquals(1, count(l, Kernel.RMS_NORM_Q8_1));
        assertEquals(1, count(l, Kernel.ADD_RMS_NORM_Q8_1));
        assertEquals(1, count(l, Kernel.ADD), "the residual add no norm follows");
        assertEquals(1, count(l, Kernel.SWIGLU_Q8_1));
        assertEquals(1, count(l, Kernel.QUANTIZE_Q8_1), "attention's output");
        assertEquals(1, count(l, Kernel.ROPE_STORE));
        assertEquals(1, count(l, Kernel.KV_STORE_F16));
        Graph p = llamaLayer(64, 4096, DType.F16);
        List<Launch> pl = launches(p.nodes(), Fusion.of(p.nodes()));
        assertEquals(2, count(pl, Kernel.RMS_NORM));
        assertEquals(0, count(pl, Kernel.QUANTIZE_Q8_1) + count(pl, Kernel.RMS_NORM_Q8_1) + count(pl, Kernel.SWIGLU_Q8_1)
                + count(pl, Kernel.ADD_RMS_NORM_Q8_1));
        assertEquals(2, count(pl, Kernel.ADD));
        assertEquals(KernelCalls.scratchBytes(byName(p, "l0.attn")), Fusion.of(p.nodes()).scratchBytes(), "attention's splits alone, no q8_1");
        assertEquals(1, count(pl, Kernel.ROPE_STORE));
    }

    /** A quantized cache takes the rope's values 32 at a time: kv_store stays its own launch. */
    @Test
    void quantizedCacheKeepsItsStore() {
        Graph g = llamaLayer(1, 4096, DType.Q8_0);
        List<Launch> l = launches(g.nodes(), Fusion.of(g.nodes()));
        assertEquals(0, count(l, Kernel.ROPE_STORE));
        assertEquals(2, count(l, Kernel.ROPE));
        assertEquals(2, count(l, Kernel.KV_STORE_Q8_0));
    }

    /** Readers of the same input that is no rms_norm (here a graph input): one quantize_q8_1 for all three. */
    @Test
    void sharedInputQuantizedOnce() {
        Graph g = new Graph();
        Node x = g.input("x", DType.F32, 256, 3);
        for (String n : new String[]{"a", "b", "c"}) g.mulMat(n, g.weight(TensorDesc.of("w" + n, DType.Q4_0, 256, 64)), x);
        Node y = g.input("y", DType.F32, 256, 3);
        g.mulMat("d", g.weight(TensorDesc.of("wd", DType.Q8_0, 256, 64)), y);
        g.mulMat("e", g.weight(TensorDesc.of("we", DType.F16, 256, 64)), y);
        List<Launch> l = launches(g.nodes(), Fusion.of(g.nodes()));
        assertEquals(List.of("quantize_q8_1", "mul_mat_vec_split_q4_0_t4", "mul_mat_vec_split_q4_0_t4", "mul_mat_vec_split_q4_0_t4",
                "quantize_q8_1", "mul_mat_vec_split_q8_0_t4", "mul_mat_vec_split_f16_t4"), entries(l));
    }

    /**
     * q8_1 regions whose lives overlap get separate memory; one that starts after another's last
     * reader reuses it. Attention's splits come first in the scratch, apart from all of them.
     */
    @Test
    void scratchLayout() {
        Graph g = llamaLayer(1, 4096, DType.F16);
        Fusion f = Fusion.of(g.nodes());
        Node attnNorm = byName(g, "l0.attn_norm"), att = byName(g, "l0.attn"), ffnNorm = byName(g, "l0.ffn_norm"), swiglu = byName(g, "l0.swiglu");
        long splits = KernelCalls.scratchBytes(att);
        assertTrue(splits > 0, "16 splits at 4096 rows");
        for (Node x : new Node[]{attnNorm, att, ffnNorm, swiglu}) assertTrue(f.q8Offset(x) >= splits, x.name());
        assertEquals(f.q8Offset(attnNorm), f.q8Offset(att), "attn_norm's region is free once v has read it");
        assertEquals(f.q8Offset(attnNorm), f.q8Offset(ffnNorm));
        assertEquals(f.q8Offset(attnNorm), f.q8Offset(swiglu), "gate and up have read ffn_norm's before swiglu's is written");
        assertTrue(f.writesQ8(attnNorm) && f.writesQ8(ffnNorm) && f.writesQ8(swiglu));
        assertFalse(f.writesQ8(byName(g, "l0.attn_res")));
        assertTrue(f.addedByNorm(byName(g, "l0.attn_res")), "ffn_norm adds first");
        assertFalse(f.addedByNorm(byName(g, "l0.ffn_res")), "no norm after it");

        // x's region lives to its last reader, across y's quantization: they must not share memory
        Graph h = new Graph();
        Node x = h.input("x", DType.F32, 256, 2), y = h.input("y", DType.F32, 512, 2);
        h.mulMat("a", h.weight(TensorDesc.of("wa", DType.Q4_0, 256, 8)), x);
        h.mulMat("b", h.weight(TensorDesc.of("wb", DType.Q4_0, 512, 8)), y);
        h.mulMat("c", h.weight(TensorDesc.of("wc", DType.Q4_0, 256, 8)), x);
        Fusion fh = Fusion.of(h.nodes());
        long xEnd = fh.q8Offset(x) + Fusion.q8Bytes(x), yEnd = fh.q8Offset(y) + Fusion.q8Bytes(y);
        assertTrue(xEnd <= fh.q8Offset(y) || yEnd <= fh.q8Offset(x), "overlapping lives, overlapping memory");
        assertTrue(fh.scratchBytes() >= Fusion.q8Bytes(x) + Fusion.q8Bytes(y));
    }

    /** A node between rope and its kv_store that reads the cache keeps them apart. */
    @Test
    void readerBetweenRopeAndStore() {
        Graph g = new Graph();
        Node pos = g.input("pos", DType.I32, 1);
        Node cache = g.state(TensorDesc.of("k_cache", DType.F16, 64, 16));
        Node k = g.rope("k_rope", g.input("k", DType.F32, 64, 1), pos, 64, 64, Op.RopeMode.NEOX, 10000f, 1f, null);
        g.attention("early", g.input("q", DType.F32, 64, 1), cache, cache, pos, 1, 1, 64, 0.125f);
        g.kvStore("k_store", cache, k, pos);
        List<Launch> l = launches(g.nodes(), Fusion.of(g.nodes()));
        assertEquals(List.of("rope", "attention_partial_f16", "kv_store_f16"), entries(l));
    }

    /** Positions of the cache rows computed between rope and kv_store: the store waits for them. */
    @Test
    void positionsComputedBetweenRopeAndStore() {
        Graph g = new Graph();
        Node pos = g.input("pos", DType.I32, 1);
        Node cache = g.state(TensorDesc.of("k_cache", DType.F32, 64, 16));
        Node k = g.rope("k_rope", g.input("k", DType.F32, 64, 1), pos, 64, 64, Op.RopeMode.NORMAL, 10000f, 1f, null);
        Node rows = g.topK("rows", g.input("scores", DType.F32, 4, 1), 1); // I32 [1, 1], the best of four
        g.kvStore("k_store", cache, k, rows);
        List<Launch> l = launches(g.nodes(), Fusion.of(g.nodes()));
        assertEquals(List.of("rope", "top_k", "kv_store_f32"), entries(l));
    }

    private static Node byName(Graph g, String name) {
        return g.nodes().stream().filter(n -> n.desc().name().equals(name)).findFirst().orElseThrow();
    }
}
