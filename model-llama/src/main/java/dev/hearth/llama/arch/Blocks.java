package dev.hearth.llama.arch;

import dev.hearth.llama.ModelConfig;
import dev.hearth.llama.ModelGraph;
import dev.hearth.llama.ModelWeights;
import dev.hearth.runtime.graph.Node;

import static dev.hearth.llama.ModelWeights.blk;

/** The pieces the decoder architectures share: their weight tables and sub-graphs. */
final class Blocks {
    private Blocks() {
    }

    /** attn_q [dim, qDim], attn_k and attn_v [dim, kvDim], attn_output [qDim, dim]. */
    static void attentionWeights(ModelWeights.Table t, int l) {
        ModelConfig c = t.config();
        t.need(blk(l, "attn_q"), c.dim(), c.qDim());
        t.need(blk(l, "attn_k"), c.dim(), c.kvDim());
        t.need(blk(l, "attn_v"), c.dim(), c.kvDim());
        t.need(blk(l, "attn_output"), c.qDim(), c.dim());
    }

    /** The biases of q, k and v: required ({@code need}) or where present. */
    static void qkvBiases(ModelWeights.Table t, int l, boolean need) {
        ModelConfig c = t.config();
        String[] names = {"attn_q", "attn_k", "attn_v"};
        long[] sizes = {c.qDim(), c.kvDim(), c.kvDim()};
        for (int i = 0; i < 3; i++) {
            if (need) t.need(ModelWeights.bias(l, names[i]), sizes[i]);
            else t.optional(ModelWeights.bias(l, names[i]), sizes[i]);
        }
    }

    /** ffn_gate and ffn_up [dim, ffn], ffn_down [ffn, dim]. */
    static void ffnWeights(ModelWeights.Table t, int l) {
        ModelConfig c = t.config();
        t.need(blk(l, "ffn_gate"), c.dim(), c.ffnDim());
        t.need(blk(l, "ffn_up"), c.dim(), c.ffnDim());
        t.need(blk(l, "ffn_down"), c.ffnDim(), c.dim());
    }

    /** The router ffn_gate_inp [dim, experts] and the experts ffn_{gate,up}_exps [dim, expertFfn, experts], ffn_down_exps [expertFfn, dim, experts]. */
    static void expertWeights(ModelWeights.Table t, int l) {
        ModelConfig c = t.config();
        int e = c.features().experts(), f = c.features().expertFfn();
        t.need(blk(l, "ffn_gate_inp"), c.dim(), e);
        t.need(blk(l, "ffn_gate_exps"), c.dim(), f, e);
        t.need(blk(l, "ffn_up_exps"), c.dim(), f, e);
        t.need(blk(l, "ffn_down_exps"), f, c.dim(), e);
    }

    /**
     * The mixture-of-experts feed-forward of layer {@code l} on the normed input {@code h}: the
     * router's logits, each token's top experts, their weights as the softmax of the chosen logits
     * (the softmax over all experts renormalised over the chosen, as Mixtral and Qwen3-MoE do), the
     * SiLU-gated feed-forward of each chosen expert, and the weighted sum.
     */
    static Node moeFfn(ModelGraph.Builder b, int l, Node h) {
        String p = "l" + l + ".";
        int used = b.c.features().expertsUsed();
        Node logits = b.g.mulMat(p + "router", b.weight(l, "ffn_gate_inp"), h);
        Node ids = b.g.topK(p + "experts", logits, used);
        Node weights = b.g.softmax(p + "expert_weights", b.g.gather(p + "chosen_logits", logits, ids));
        Node gate = b.g.mulMatId(p + "gate_exps", b.weight(l, "ffn_gate_exps"), h, ids);
        Node up = b.g.mulMatId(p + "up_exps", b.weight(l, "ffn_up_exps"), h, ids);
        Node act = b.g.swiglu(p + "swiglu_exps", gate, up);
        Node down = b.g.mulMatId(p + "down_exps", b.weight(l, "ffn_down_exps"), act, ids);
        return b.g.weightedSum(p + "moe_out", down, weights);
    }

    /** The feed-forward weights of layer {@code l}: the experts and their router in a mixture-of-experts model, else the dense three. */
    static void ffnOrExperts(ModelWeights.Table t, int l) {
        if (t.config().moe()) expertWeights(t, l);
        else ffnWeights(t, l);
    }

    /**
     * The weights of LLaMA's pre-norm blocks, every layer: attn_norm and ffn_norm, the attention
     * projections, their q/k/v biases (required, or where present), per-head q/k norms where
     * {@code headNorms}, and the feed-forward (dense, or the experts and their router).
     */
    static void preNormWeights(ModelWeights.Table t, boolean needBiases, boolean headNorms) {
        t.embeddingAndHead();
        for (int l = 0; l < t.config().layers(); l++) {
            norms(t, l, "attn_norm", "ffn_norm");
            attentionWeights(t, l);
            if (!headNorms) qkvBiases(t, l, needBiases);
            if (headNorms) headNorms(t, l);
            ffnOrExperts(t, l);
        }
    }

    /** One [dim] norm weight per name. */
    static void norms(ModelWeights.Table t, int l, String... names) {
        for (String n : names) t.need(blk(l, n), t.config().dim());
    }

    /** Per-head q and k norms of [headDim] (Qwen3, Gemma 3). */
    static void headNorms(ModelWeights.Table t, int l) {
        t.need(blk(l, "attn_q_norm"), t.config().headDim());
        t.need(blk(l, "attn_k_norm"), t.config().headDim());
    }

    /**
     * Self-attention of layer {@code l} on the normed input {@code h}: the q, k, v projections
     * (with their biases where the file has them), per-head q/k norms where {@code headNorms},
     * attention, and the output projection.
     */
    static Node selfAttention(ModelGraph.Builder b, int l, Node h, boolean headNorms) {
        Node q = b.linear(l, "attn_q", h);
        Node k = b.linear(l, "attn_k", h);
        Node v = b.linear(l, "attn_v", h);
        if (headNorms) {
            q = b.headNorm(l, "attn_q_norm", q);
            k = b.headNorm(l, "attn_k_norm", k);
        }
        return b.linear(l, "attn_output", b.attention(l, q, k, v));
    }

    /** The gated feed-forward of layer {@code l} on the normed input {@code h}: down(act(gate h) * up h), act SiLU or GELU. */
    static Node gatedFfn(ModelGraph.Builder b, int l, Node h, boolean gelu) {
        String p = "l" + l + ".";
        Node gate = b.linear(l, "ffn_gate", h);
        Node up = b.linear(l, "ffn_up", h);
        Node act = gelu ? b.g.geglu(p + "geglu", gate, up) : b.g.swiglu(p + "swiglu", gate, up);
        return b.linear(l, "ffn_down", act);
    }

    /** The pre-norm residual block of LLaMA and most of its descendants, every layer, then the output norm and head. */
    static Node preNormDecoder(ModelGraph.Builder b, boolean headNorms) {
        Node x = b.embed();
        for (int l = 0; l < b.c.layers(); l++) {
            String p = "l" + l + ".";
            Node a = selfAttention(b, l, b.rmsNorm(l, "attn_norm", x), headNorms);
            x = b.g.add(p + "attn_res", x, a);
            Node hn = b.rmsNorm(l, "ffn_norm", x);
            Node f = b.c.moe() ? moeFfn(b, l, hn) : gatedFfn(b, l, hn, false);
            x = b.g.add(p + "ffn_res", x, f);
        }
        x = b.lastRows(x);
        Node out = b.g.rmsNorm("out_norm", x, b.weight(ModelWeights.OUT_NORM), b.c.normEps());
        return b.head(out);
    }
}
