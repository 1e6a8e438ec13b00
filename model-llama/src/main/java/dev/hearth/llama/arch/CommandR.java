package dev.hearth.llama.arch;

import dev.hearth.llama.Architecture;
import dev.hearth.llama.ModelConfig;
import dev.hearth.llama.ModelGraph;
import dev.hearth.llama.ModelWeights;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.gguf.GgufFile;

/**
 * Cohere Command R: layer norm (without bias) instead of RMS norm, attention and the SiLU-gated
 * feed-forward side by side on the same normed input (x + attention + ffn: no ffn_norm),
 * adjacent-pair rope, tied embeddings, and logits times {@code logit_scale}.
 */
public final class CommandR implements Architecture {
    @Override
    public String name() {
        return "command-r";
    }

    @Override
    public ModelConfig config(GgufFile f) {
        ModelConfig.req(f, "command-r.feed_forward_length");
        ModelConfig c = ModelConfig.read(f, this, "attention.layer_norm_epsilon", Op.RopeMode.NORMAL);
        float scale = ModelConfig.positive(f, "command-r.logit_scale", 1f);
        return c.withFeatures(new ModelConfig.Features(0, 0, 0, 0, 0, 0, 0, scale));
    }

    @Override
    public void weights(ModelConfig c, ModelWeights.Table t) {
        t.embeddingAndHead();
        for (int l = 0; l < c.layers(); l++) {
            Blocks.norms(t, l, "attn_norm");
            Blocks.attentionWeights(t, l);
            Blocks.qkvBiases(t, l, false);
            Blocks.ffnWeights(t, l);
        }
    }

    @Override
    public Node forward(ModelGraph.Builder b) {
        Node x = b.embed();
        for (int l = 0; l < b.c.layers(); l++) {
            String p = "l" + l + ".";
            Node h = b.g.layerNorm(p + "attn_norm", x, b.weight(l, "attn_norm"), null, b.c.normEps());
            Node a = Blocks.selfAttention(b, l, h, false);
            Node f = Blocks.gatedFfn(b, l, h, false);
            x = b.g.add(p + "res", b.g.add(p + "ffn_res", x, f), a);
        }
        x = b.lastRows(x);
        Node out = b.g.layerNorm("out_norm", x, b.weight(ModelWeights.OUT_NORM), null, b.c.normEps());
        return b.head(out);
    }
}
