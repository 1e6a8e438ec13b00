package dev.hearth.llama.arch;

import dev.hearth.llama.ModelConfig;
import dev.hearth.runtime.gguf.GgufFile;

/** Gemma 3 (text): Gemma 2's blocks with per-head q/k norms, no soft-capping, five local layers to one global. */
public final class Gemma3 extends Gemma2 {
    @Override
    public String name() {
        return "gemma3";
    }

    @Override
    int layersOf27b() {
        return 62;
    }

    @Override
    boolean headNorms() {
        return true;
    }

    @Override
    ModelConfig.Features features(GgufFile f, ModelConfig c) {
        String p = name() + ".";
        int pattern = f.getInt(p + "attention.sliding_window_pattern", 6);
        if (pattern < 0) throw new dev.hearth.runtime.HearthException(f.path() + ": " + p + "attention.sliding_window_pattern = " + pattern + " is not valid");
        return new ModelConfig.Features(attnScale(c), (float) Math.sqrt(c.dim()),
                f.getInt(p + "attention.sliding_window", 512), pattern,
                ModelConfig.positive(f, p + "rope.freq_base_swa", 10000f), 0, 0, 0);
    }
}
