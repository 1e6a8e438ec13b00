package dev.hearth.llama.arch;

import dev.hearth.llama.Architecture;
import dev.hearth.llama.ModelConfig;
import dev.hearth.llama.ModelGraph;
import dev.hearth.llama.ModelWeights;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.gguf.GgufFile;

/**
 * Qwen2 and Qwen2.5 (and the DeepSeek-R1 distills built on them): LLaMA's blocks with biases on
 * q, k and v, and rope over halves (NEOX).
 */
public final class Qwen2 implements Architecture {
    @Override
    public String name() {
        return "qwen2";
    }

    @Override
    public ModelConfig config(GgufFile f) {
        ModelConfig.req(f, "qwen2.feed_forward_length");
        return ModelConfig.read(f, this, "attention.layer_norm_rms_epsilon", Op.RopeMode.NEOX);
    }

    @Override
    public void weights(ModelConfig c, ModelWeights.Table t) {
        Blocks.preNormWeights(t, true, false);
    }

    @Override
    public Node forward(ModelGraph.Builder b) {
        return Blocks.preNormDecoder(b, false);
    }
}
