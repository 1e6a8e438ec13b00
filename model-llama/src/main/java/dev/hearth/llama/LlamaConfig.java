package dev.hearth.llama;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.gguf.GgufArray;
import dev.hearth.runtime.gguf.GgufFile;

/**
 * The hyper-parameters of a LLaMA-family model, from GGUF metadata ({@code llama.*} keys;
 * Llama 2 and 3, 3.1 with its frequency factors, 3.2 with tied embeddings, TinyLlama, Mistral).
 */
public record LlamaConfig(String arch, int dim, int layers, int ffnDim, int heads, int kvHeads, int headDim,
                          int ropeDims, int contextLength, int vocabSize, float rmsEps, float ropeBase,
                          float ropeFreqScale, Op.RopeMode ropeMode, boolean tiedEmbeddings, boolean hasRopeFreqs) {
    public static final java.util.Set<String> ARCHITECTURES = java.util.Set.of("llama", "mistral");

    public static LlamaConfig fromGguf(GgufFile f) {
        String arch = f.getString("general.architecture", null);
        if (arch == null) throw new HearthException(f.path() + ": no general.architecture in the metadata; is it a model file?");
        if (!ARCHITECTURES.contains(arch)) {
            throw new HearthException(f.path() + ": architecture '" + arch + "' is not supported (supported: llama, mistral)");
        }
        String p = arch + ".";
        int dim = req(f, p + "embedding_length");
        int layers = req(f, p + "block_count");
        int ffn = req(f, p + "feed_forward_length");
        int heads = req(f, p + "attention.head_count");
        int kvHeads = f.getInt(p + "attention.head_count_kv", heads);
        int headDim = f.getInt(p + "attention.key_length", heads > 0 ? dim / heads : 0);
        int ropeDims = f.getInt(p + "rope.dimension_count", headDim);
        int ctx = f.getInt(p + "context_length", 2048);
        float eps = f.getFloat(p + "attention.layer_norm_rms_epsilon", 1e-5f);
        float base = f.getFloat(p + "rope.freq_base", 10000f);
        float scale = 1f;
        String scalingType = f.getString(p + "rope.scaling.type", "none");
        if (scalingType.equals("linear")) {
            float factor = f.getFloat(p + "rope.scaling.factor", 1f);
            if (factor > 0) scale = 1f / factor;
        }
        int vocab = f.getInt(p + "vocab_size", 0);
        if (vocab == 0) {
            GgufArray toks = f.getArray("tokenizer.ggml.tokens");
            if (toks != null) vocab = toks.size();
            else if (f.tensor("token_embd.weight") != null) vocab = (int) f.tensor("token_embd.weight").desc().ne(1);
        }
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) {
            throw new HearthException(f.path() + ": head counts " + heads + "/" + kvHeads + " are not valid (heads must be a multiple of KV heads)");
        }
        if (headDim <= 0 || ropeDims % 2 != 0 || ropeDims > headDim) {
            throw new HearthException(f.path() + ": head size " + headDim + " / rope dimensions " + ropeDims + " are not valid");
        }
        boolean tied = f.tensor("output.weight") == null;
        boolean freqs = f.tensor("rope_freqs.weight") != null;
        return new LlamaConfig(arch, dim, layers, ffn, heads, kvHeads, headDim, ropeDims, ctx, vocab, eps, base, scale,
                Op.RopeMode.NORMAL, tied, freqs);
    }

    private static int req(GgufFile f, String key) {
        if (!f.has(key)) throw new HearthException(f.path() + ": metadata key " + key + " is missing; the file is not a complete llama model");
        int v = f.getInt(key, 0);
        if (v <= 0) throw new HearthException(f.path() + ": metadata " + key + " = " + v + " is not valid");
        return v;
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    public int qDim() {
        return heads * headDim;
    }

    /** Parameters, counted from the shapes. */
    public long parameters() {
        long perLayer = 2L * dim + (long) dim * qDim() * 2 + 2L * dim * kvDim() + 3L * dim * ffnDim;
        return perLayer * layers + (long) vocabSize * dim * (tiedEmbeddings ? 1 : 2) + dim;
    }
}
