package dev.hearth.llama.arch;

import dev.hearth.llama.Architecture;
import dev.hearth.llama.ModelConfig;
import dev.hearth.llama.ModelGraph;
import dev.hearth.llama.ModelWeights;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.gguf.GgufFile;

/**
 * LLaMA 2 and 3 (3.1 with its rope factors, 3.2 with tied embeddings), TinyLlama, Mistral:
 * pre-norm blocks of RMS norm, attention with adjacent-pair rope, SiLU-gated feed-forward.
 * Biases on q, k and v are used where a file has them. With experts ({@code expert_count}:
 * Mixtral) the feed-forward is a mixture of experts, the router's softmax renormalised over each
 * token's chosen experts.
 */
public final class Llama implements Architecture {
    private final String name;

    public Llama(String name) {
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public ModelConfig config(GgufFile f) {
        ModelConfig c = ModelConfig.read(f, this, "attention.layer_norm_rms_epsilon", Op.RopeMode.NORMAL);
        if (!c.moe()) ModelConfig.req(f, f.getString("general.architecture", name) + ".feed_forward_length");
        return c;
    }

    @Override
    public void weights(ModelConfig c, ModelWeights.Table t) {
        Blocks.preNormWeights(t, false, false);
    }

    @Override
    public Node forward(ModelGraph.Builder b) {
        return Blocks.preNormDecoder(b, false);
    }
}
