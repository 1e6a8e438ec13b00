package dev.hearth.llama.arch;

import dev.hearth.llama.Architecture;
import dev.hearth.llama.ModelConfig;
import dev.hearth.llama.ModelGraph;
import dev.hearth.llama.ModelWeights;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.gguf.GgufFile;

/**
 * Qwen3 (dense): LLaMA's blocks with an RMS norm over each head of q and k before rope, rope over
 * halves (NEOX), and a head size of its own ({@code attention.key_length}, so q is not dim wide).
 * With experts ({@code expert_count}) its feed-forward is a mixture of experts: see {@link Qwen3Moe}.
 */
public class Qwen3 implements Architecture {
    @Override
    public String name() {
        return "qwen3";
    }

    @Override
    public ModelConfig config(GgufFile f) {
        ModelConfig c = ModelConfig.read(f, this, "attention.layer_norm_rms_epsilon", Op.RopeMode.NEOX);
        if (!c.moe()) ModelConfig.req(f, name() + ".feed_forward_length");
        return c;
    }

    @Override
    public void weights(ModelConfig c, ModelWeights.Table t) {
        Blocks.preNormWeights(t, false, true);
    }

    @Override
    public Node forward(ModelGraph.Builder b) {
        return Blocks.preNormDecoder(b, true);
    }
}
