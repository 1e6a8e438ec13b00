package dev.hearth.llama;

import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.tensor.TensorDesc;

/**
 * The forward pass of a LLaMA model for a batch of {@code tokens} tokens, built once per batch
 * shape and reused: token ids and positions are inputs, so one graph serves every step. With
 * {@code allLogits} false only the last token's logits are computed.
 */
public final class LlamaGraph {
    public static final String TOKENS = "tokens";
    public static final String POSITIONS = "positions";
    public static final String LAST = "last";

    public final Graph graph;
    public final Node logits;
    public final int tokens;
    public final boolean allLogits;

    private LlamaGraph(Graph graph, Node logits, int tokens, boolean allLogits) {
        this.graph = graph;
        this.logits = logits;
        this.tokens = tokens;
        this.allLogits = allLogits;
    }

    public static String cacheK(int layer) {
        return "cache_k." + layer;
    }

    public static String cacheV(int layer) {
        return "cache_v." + layer;
    }

    public static TensorDesc cacheDesc(LlamaConfig c, String name, DType cacheType, int ctx) {
        return TensorDesc.of(name, cacheType, c.kvDim(), ctx);
    }

    public static LlamaGraph build(LlamaWeights w, int tokens, int ctx, DType cacheType, boolean allLogits) {
        LlamaConfig c = w.config();
        Graph g = new Graph();
        Node ids = g.input(TOKENS, DType.I32, tokens);
        Node pos = g.input(POSITIONS, DType.I32, tokens);
        Node freqs = c.hasRopeFreqs() ? g.weight(w.desc(LlamaWeights.ROPE_FREQS)) : null;
        Node x = g.getRows("embd", g.weight(w.desc(LlamaWeights.EMBED)), ids);
        float scale = (float) (1.0 / Math.sqrt(c.headDim()));
        for (int l = 0; l < c.layers(); l++) {
            String p = "l" + l + ".";
            Node h = g.rmsNorm(p + "attn_norm", x, weight(g, w, l, "attn_norm"), c.rmsEps());
            Node q = g.mulMat(p + "q", weight(g, w, l, "attn_q"), h);
            Node k = g.mulMat(p + "k", weight(g, w, l, "attn_k"), h);
            Node v = g.mulMat(p + "v", weight(g, w, l, "attn_v"), h);
            q = g.rope(p + "q_rope", q, pos, c.headDim(), c.ropeDims(), c.ropeMode(), c.ropeBase(), c.ropeFreqScale(), freqs);
            k = g.rope(p + "k_rope", k, pos, c.headDim(), c.ropeDims(), c.ropeMode(), c.ropeBase(), c.ropeFreqScale(), freqs);
            Node kc = g.kvStore(p + "k_store", g.state(cacheDesc(c, cacheK(l), cacheType, ctx)), k, pos);
            Node vc = g.kvStore(p + "v_store", g.state(cacheDesc(c, cacheV(l), cacheType, ctx)), v, pos);
            Node a = g.attention(p + "attn", q, kc, vc, pos, c.heads(), c.kvHeads(), c.headDim(), scale);
            Node o = g.mulMat(p + "attn_out", weight(g, w, l, "attn_output"), a);
            x = g.add(p + "attn_res", x, o);
            h = g.rmsNorm(p + "ffn_norm", x, weight(g, w, l, "ffn_norm"), c.rmsEps());
            Node gate = g.mulMat(p + "gate", weight(g, w, l, "ffn_gate"), h);
            Node up = g.mulMat(p + "up", weight(g, w, l, "ffn_up"), h);
            Node s = g.swiglu(p + "swiglu", gate, up);
            Node d = g.mulMat(p + "down", weight(g, w, l, "ffn_down"), s);
            x = g.add(p + "ffn_res", x, d);
        }
        if (!allLogits && tokens > 1) x = g.getRows("last_row", x, g.input(LAST, DType.I32, 1));
        Node out = g.rmsNorm("out_norm", x, g.weight(w.desc(LlamaWeights.OUT_NORM)), c.rmsEps());
        Node head = g.weight(w.desc(LlamaWeights.OUTPUT));
        Node logits = g.mulMat("logits", head, out);
        g.output(logits);
        return new LlamaGraph(g, logits, tokens, allLogits);
    }

    private static Node weight(Graph g, LlamaWeights w, int layer, String name) {
        return g.weight(w.desc(LlamaWeights.blk(layer, name)));
    }
}
