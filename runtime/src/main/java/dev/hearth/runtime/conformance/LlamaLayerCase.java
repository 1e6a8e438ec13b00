package dev.hearth.runtime.conformance;

import dev.hearth.runtime.dtype.Codecs;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op.RopeMode;

import java.util.ArrayList;
import java.util.List;

/**
 * A whole LLaMA decoder layer as one case: rms_norm, Q/K/V projections, rope, two kv_stores,
 * grouped-query attention over the cache, the output projection and residual, then rms_norm and
 * the SwiGLU feed-forward with its residual. It checks that ops compose on a device (the cache
 * written by kv_store is what attention reads) for several weight types.
 */
final class LlamaLayerCase {
    static final int DIM = 256;
    static final int HEADS = 4;
    static final int KV_HEADS = 2;
    static final int HEAD_DIM = DIM / HEADS;
    static final int FFN = 512;
    static final int CTX = 32;
    static final int TOKENS = 5;
    static final int FIRST = 3;

    private LlamaLayerCase() {
    }

    static List<OpCase> all() {
        List<OpCase> cases = new ArrayList<>();
        for (DType type : new DType[]{DType.F32, DType.Q8_0, DType.Q4_0, DType.Q4_K}) {
            if (!Codecs.has(type)) continue;
            String name = "llama_layer type=" + OpCases.lower(type) + " dim=" + DIM + " heads=" + HEADS + " kv_heads=" + KV_HEADS
                    + " ffn=" + FFN + " t=" + TOKENS + " pos=" + FIRST;
            cases.add(new OpCase("llama_layer", type, name, 1e-3, b -> define(b, type)));
        }
        return cases;
    }

    private static void define(OpCase.Builder b, DType type) {
        Graph g = b.graph();
        int kvDim = KV_HEADS * HEAD_DIM;
        int[] pos = new int[TOKENS];
        for (int i = 0; i < TOKENS; i++) pos[i] = FIRST + i;
        Node x = b.input("x", DType.F32, 1, DIM, TOKENS);
        Node p = b.ints("pos", pos);
        Node kCache = b.state("k_cache", DType.F16, kvDim, CTX);
        Node vCache = b.state("v_cache", DType.F16, kvDim, CTX);

        Node attnNorm = g.rmsNorm("attn_norm", x, b.weight("attn_norm.weight", DType.F32, DIM), 1e-5f);
        Node q = g.mulMat("q", scaled(b, "attn_q.weight", type, DIM, DIM), attnNorm);
        Node k = g.mulMat("k", scaled(b, "attn_k.weight", type, DIM, kvDim), attnNorm);
        Node v = g.mulMat("v", scaled(b, "attn_v.weight", type, DIM, kvDim), attnNorm);
        q = g.rope("q_rope", q, p, HEAD_DIM, HEAD_DIM, RopeMode.NORMAL, 10000f, 1f, null);
        k = g.rope("k_rope", k, p, HEAD_DIM, HEAD_DIM, RopeMode.NORMAL, 10000f, 1f, null);
        Node kStored = g.kvStore("k_stored", kCache, k, p);
        Node vStored = g.kvStore("v_stored", vCache, v, p);
        Node att = g.attention("att", q, kStored, vStored, p, HEADS, KV_HEADS, HEAD_DIM, (float) (1 / Math.sqrt(HEAD_DIM)));
        Node h = g.add("h", x, g.mulMat("attn_out", scaled(b, "attn_output.weight", type, DIM, DIM), att));

        Node ffnNorm = g.rmsNorm("ffn_norm", h, b.weight("ffn_norm.weight", DType.F32, DIM), 1e-5f);
        Node gate = g.mulMat("gate", scaled(b, "ffn_gate.weight", type, DIM, FFN), ffnNorm);
        Node up = g.mulMat("up", scaled(b, "ffn_up.weight", type, DIM, FFN), ffnNorm);
        Node down = g.mulMat("down", scaled(b, "ffn_down.weight", type, FFN, DIM), g.swiglu("ffn", gate, up));
        b.output(g.add("out", h, down)).output(kStored).output(vStored);
    }

    /** A [k, n] weight with values of about 1/sqrt(k), as trained layers have, so activations stay near 1. */
    private static Node scaled(OpCase.Builder b, String name, DType type, int k, int n) {
        float[] w = b.uniform(k * n, (float) (Math.sqrt(3.0 / k)));
        return b.weight(name, type, w, k, n);
    }
}
