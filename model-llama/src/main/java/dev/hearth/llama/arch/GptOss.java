package dev.hearth.llama.arch;

import dev.hearth.llama.Architecture;
import dev.hearth.llama.ModelConfig;
import dev.hearth.llama.ModelGraph;
import dev.hearth.llama.ModelWeights;
import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.gguf.GgufFile;

import static dev.hearth.llama.ModelWeights.bias;
import static dev.hearth.llama.ModelWeights.blk;

/**
 * OpenAI gpt-oss (20b, 120b): attention with biases on q, k, v and the output, an attention sink
 * per head, sliding-window attention on every other layer (0, 2, ...), YaRN rope over halves; a
 * mixture of experts in every layer after {@code post_attention_norm}: a router with a bias whose
 * top experts' weights are the softmax over their logits, experts with biases, and the clamped
 * SwiGLU (alpha 1.702, limit 7) between them.
 */
public final class GptOss implements Architecture {
    static final float ALPHA = 1.702f, LIMIT = 7f;

    @Override
    public String name() {
        return "gpt-oss";
    }

    @Override
    public ModelConfig config(GgufFile f) {
        ModelConfig c = ModelConfig.read(f, this, "attention.layer_norm_rms_epsilon", Op.RopeMode.NEOX);
        if (!c.moe()) throw new HearthException(f.path() + ": gpt-oss model without gpt-oss.expert_count; expected the number of experts per layer");
        int window = f.getInt("gpt-oss.attention.sliding_window", 128);
        if (window <= 0) throw new HearthException(f.path() + ": metadata gpt-oss.attention.sliding_window = " + window + " is not valid (a positive integer expected)");
        return c.withFeatures(new ModelConfig.Features(0, 0, window, 2, 0, 0, 0, 0));
    }

    @Override
    public void weights(ModelConfig c, ModelWeights.Table t) {
        t.embeddingAndHead();
        int e = c.features().experts(), ffn = c.features().expertFfn();
        for (int l = 0; l < c.layers(); l++) {
            Blocks.norms(t, l, "attn_norm", "post_attention_norm");
            Blocks.attentionWeights(t, l);
            Blocks.qkvBiases(t, l, true);
            t.need(bias(l, "attn_output"), c.dim());
            t.need(blk(l, "attn_sinks"), c.heads());
            Blocks.expertWeights(t, l);
            t.need(bias(l, "ffn_gate_inp"), e);
            t.need(bias(l, "ffn_gate_exps"), ffn, e);
            t.need(bias(l, "ffn_up_exps"), ffn, e);
            t.need(bias(l, "ffn_down_exps"), c.dim(), e);
        }
    }

    @Override
    public Node forward(ModelGraph.Builder b) {
        Node x = b.embed();
        int used = b.c.features().expertsUsed();
        for (int l = 0; l < b.c.layers(); l++) {
            String p = "l" + l + ".";
            Node a = Blocks.selfAttention(b, l, b.rmsNorm(l, "attn_norm", x), false);
            x = b.g.add(p + "attn_res", x, a);
            Node h = b.rmsNorm(l, "post_attention_norm", x);
            Node logits = b.linear(l, "ffn_gate_inp", h);
            Node ids = b.g.topK(p + "experts", logits, used);
            Node weights = b.g.softmax(p + "expert_weights", b.g.gather(p + "chosen_logits", logits, ids));
            Node gate = b.g.addId(p + "gate_bias", b.g.mulMatId(p + "gate_exps", b.weight(l, "ffn_gate_exps"), h, ids),
                    b.weight(bias(l, "ffn_gate_exps")), ids);
            Node up = b.g.addId(p + "up_bias", b.g.mulMatId(p + "up_exps", b.weight(l, "ffn_up_exps"), h, ids),
                    b.weight(bias(l, "ffn_up_exps")), ids);
            Node act = b.g.swigluOai(p + "swiglu_oai", gate, up, ALPHA, LIMIT);
            Node down = b.g.addId(p + "down_bias", b.g.mulMatId(p + "down_exps", b.weight(l, "ffn_down_exps"), act, ids),
                    b.weight(bias(l, "ffn_down_exps")), ids);
            x = b.g.add(p + "ffn_res", x, b.g.weightedSum(p + "moe_out", down, weights));
        }
        x = b.lastRows(x);
        return b.head(b.g.rmsNorm("out_norm", x, b.weight(ModelWeights.OUT_NORM), b.c.normEps()));
    }
}
