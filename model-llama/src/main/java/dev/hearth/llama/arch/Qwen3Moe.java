package dev.hearth.llama.arch;

import dev.hearth.llama.ModelConfig;
import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.gguf.GgufFile;

/**
 * Qwen3-MoE (Qwen3-30B-A3B, Qwen3-235B-A22B): Qwen3's attention with a mixture-of-experts
 * feed-forward in every layer: a router over {@code expert_count} experts, each token through its
 * {@code expert_used_count} best with the router's softmax renormalised over them, experts of
 * {@code expert_feed_forward_length}.
 */
public final class Qwen3Moe extends Qwen3 {
    @Override
    public String name() {
        return "qwen3moe";
    }

    @Override
    public ModelConfig config(GgufFile f) {
        ModelConfig c = super.config(f);
        if (!c.moe()) throw new HearthException(f.path() + ": qwen3moe model without qwen3moe.expert_count; expected the number of experts per layer");
        return c;
    }
}
