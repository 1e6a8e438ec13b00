package dev.hearth.llama.arch;

import dev.hearth.llama.Architecture;
import dev.hearth.llama.ModelConfig;
import dev.hearth.llama.ModelGraph;
import dev.hearth.llama.ModelWeights;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.gguf.GgufFile;

/**
 * Gemma 2 and Gemma 3 (text). Embeddings times sqrt(dim); each block norms its input and its
 * output (post_attention_norm, post_ffw_norm) around attention and a GELU-gated feed-forward;
 * rope over halves. Gemma 2 soft-caps the attention scores and the logits and alternates sliding
 * window and global layers; Gemma 3 norms each head of q and k, has five local layers to one
 * global by default ({@code attention.sliding_window_pattern}) and a rope base of their own for
 * the local ones ({@code rope.freq_base_swa}). The norm weights are used as stored: the converter
 * has already added Gemma's 1.
 */
public class Gemma2 implements Architecture {
    @Override
    public String name() {
        return "gemma2";
    }

    /** Layers of the 27B model, whose attention scale is 1/sqrt(dim / heads) rather than 1/sqrt(headDim). */
    int layersOf27b() {
        return 46;
    }

    boolean headNorms() {
        return false;
    }

    ModelConfig.Features features(GgufFile f, ModelConfig c) {
        String p = name() + ".";
        return new ModelConfig.Features(attnScale(c), (float) Math.sqrt(c.dim()),
                f.getInt(p + "attention.sliding_window", 4096), 2, 0,
                ModelConfig.positive(f, p + "attn_logit_softcapping", 50f),
                ModelConfig.positive(f, p + "final_logit_softcapping", 30f), 0);
    }

    final float attnScale(ModelConfig c) {
        return c.layers() == layersOf27b() ? (float) (1 / Math.sqrt((double) c.dim() / c.heads())) : (float) (1 / Math.sqrt(c.headDim()));
    }

    @Override
    public final ModelConfig config(GgufFile f) {
        ModelConfig.req(f, name() + ".feed_forward_length");
        ModelConfig c = ModelConfig.read(f, this, "attention.layer_norm_rms_epsilon", Op.RopeMode.NEOX);
        ModelConfig.Features fs = features(f, c);
        if (fs.slidingWindow() < 0) throw new dev.hearth.runtime.HearthException(f.path() + ": " + name() + ".attention.sliding_window is negative");
        return c.withFeatures(fs);
    }

    @Override
    public final void weights(ModelConfig c, ModelWeights.Table t) {
        t.embeddingAndHead();
        for (int l = 0; l < c.layers(); l++) {
            Blocks.norms(t, l, "attn_norm", "post_attention_norm", "ffn_norm", "post_ffw_norm");
            Blocks.attentionWeights(t, l);
            if (headNorms()) Blocks.headNorms(t, l);
            Blocks.ffnWeights(t, l);
        }
    }

    @Override
    public final Node forward(ModelGraph.Builder b) {
        Node x = b.embed();
        for (int l = 0; l < b.c.layers(); l++) {
            String p = "l" + l + ".";
            Node a = Blocks.selfAttention(b, l, b.rmsNorm(l, "attn_norm", x), headNorms());
            x = b.g.add(p + "attn_res", x, b.rmsNorm(l, "post_attention_norm", a));
            Node f = Blocks.gatedFfn(b, l, b.rmsNorm(l, "ffn_norm", x), true);
            x = b.g.add(p + "ffn_res", x, b.rmsNorm(l, "post_ffw_norm", f));
        }
        x = b.lastRows(x);
        return b.head(b.g.rmsNorm("out_norm", x, b.weight(ModelWeights.OUT_NORM), b.c.normEps()));
    }
}
