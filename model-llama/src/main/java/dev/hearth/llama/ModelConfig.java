package dev.hearth.llama;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.gguf.GgufArray;
import dev.hearth.runtime.gguf.GgufFile;

/**
 * The hyper-parameters of a model, from GGUF metadata ({@code ARCH.*} keys): what every
 * decoder-only transformer has, read the same way for each architecture, plus the
 * {@link Features} that only some architectures use. {@link Architectures#config} reads a file's;
 * the architecture decides how the numbers become a graph ({@link Architecture}).
 *
 * @param normEps      epsilon of the RMS norm ({@code attention.layer_norm_rms_epsilon}) or of
 *                     the layer norm ({@code attention.layer_norm_epsilon}) the architecture uses
 * @param headDim      the size of a query/key head ({@code attention.key_length}, else dim / heads)
 */
public record ModelConfig(Architecture architecture, int dim, int layers, int ffnDim, int heads, int kvHeads, int headDim,
                          int ropeDims, int contextLength, int vocabSize, float normEps, float ropeBase,
                          float ropeFreqScale, Op.RopeMode ropeMode, boolean tiedEmbeddings, boolean hasRopeFreqs,
                          Features features) {

    /**
     * What only some architectures have; zero means "not used".
     *
     * @param attnScale     the attention scale, where not 1/sqrt(headDim)
     * @param embedScale    the factor the token embeddings are multiplied by (Gemma: sqrt(dim))
     * @param slidingWindow the attention window of sliding-window layers
     * @param swaPattern    as llama.cpp counts it: layer l uses the window when l % swaPattern < swaPattern - 1
     *                      (Gemma 2: 2, Gemma 3: 6); 0 means every layer does
     * @param ropeBaseSwa   the rope base of sliding-window layers, where it differs (Gemma 3)
     * @param attnSoftcap   soft-capping of the attention scores (Gemma 2)
     * @param finalSoftcap  soft-capping of the logits (Gemma 2)
     * @param logitScale    the factor the logits are multiplied by (Command R)
     * @param experts       experts per layer of a mixture-of-experts model ({@code expert_count}), 0 for a dense one
     * @param expertsUsed   experts each token uses ({@code expert_used_count})
     * @param expertFfn     the feed-forward size of one expert ({@code expert_feed_forward_length}, else {@code feed_forward_length})
     * @param yarn          YaRN rope scaling ({@code rope.scaling.type} "yarn"), or null
     */
    public record Features(float attnScale, float embedScale, int slidingWindow, int swaPattern, float ropeBaseSwa,
                           float attnSoftcap, float finalSoftcap, float logitScale, int experts, int expertsUsed, int expertFfn,
                           Op.Yarn yarn) {
        public static final Features NONE = new Features(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, null);

        public Features(float attnScale, float embedScale, int slidingWindow, int swaPattern, float ropeBaseSwa,
                        float attnSoftcap, float finalSoftcap, float logitScale) {
            this(attnScale, embedScale, slidingWindow, swaPattern, ropeBaseSwa, attnSoftcap, finalSoftcap, logitScale, 0, 0, 0, null);
        }

        public Features(float attnScale, float embedScale, int slidingWindow, int swaPattern, float ropeBaseSwa,
                        float attnSoftcap, float finalSoftcap, float logitScale, int experts, int expertsUsed, int expertFfn) {
            this(attnScale, embedScale, slidingWindow, swaPattern, ropeBaseSwa, attnSoftcap, finalSoftcap, logitScale, experts,
                    expertsUsed, expertFfn, null);
        }

        /** These features with what {@link #read} found in the file for every architecture: the expert counts and YaRN scaling of {@code read}. */
        public Features withRead(Features other) {
            return new Features(attnScale, embedScale, slidingWindow, swaPattern, ropeBaseSwa, attnSoftcap, finalSoftcap, logitScale,
                    other.experts, other.expertsUsed, other.expertFfn, yarn != null ? yarn : other.yarn);
        }
    }

    /** True for a mixture-of-experts model. */
    public boolean moe() {
        return features.experts() > 0;
    }

    /** The architecture's name, as {@code general.architecture} gives it. */
    public String arch() {
        return architecture.name();
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    public int qDim() {
        return heads * headDim;
    }

    /** True where layer {@code l} attends through a sliding window. */
    public boolean slidingLayer(int l) {
        int n = features.swaPattern();
        return features.slidingWindow() > 0 && (n == 0 || l % n < n - 1);
    }

    /** The attention window of layer {@code l}, 0 for full attention. */
    public int window(int l) {
        return slidingLayer(l) ? features.slidingWindow() : 0;
    }

    /** The rope base of layer {@code l}. */
    public float ropeBase(int l) {
        return slidingLayer(l) && features.ropeBaseSwa() > 0 ? features.ropeBaseSwa() : ropeBase;
    }

    /** The rope frequency scale of layer {@code l}: sliding-window layers with a rope base of their own take none (Gemma 3). */
    public float ropeFreqScale(int l) {
        return slidingLayer(l) && features.ropeBaseSwa() > 0 ? 1f : ropeFreqScale;
    }

    /** The attention scale: 1/sqrt(headDim) unless the architecture says otherwise. */
    public float attnScale() {
        return features.attnScale() > 0 ? features.attnScale() : (float) (1.0 / Math.sqrt(headDim));
    }

    /** This config with {@code f} as its features (the expert counts read from the file are kept). */
    public ModelConfig withFeatures(Features f) {
        f = f.withRead(features);
        return new ModelConfig(architecture, dim, layers, ffnDim, heads, kvHeads, headDim, ropeDims, contextLength, vocabSize,
                normEps, ropeBase, ropeFreqScale, ropeMode, tiedEmbeddings, hasRopeFreqs, f);
    }

    /** The config of a file's model: its architecture found in {@link Architectures}, which reads the metadata. */
    public static ModelConfig fromGguf(GgufFile f) {
        return Architectures.config(f);
    }

    /**
     * The hyper-parameters every architecture reads the same way, under {@code arch.}: sizes,
     * heads, rope, context, vocabulary; each checked for range. The norm epsilon is read from
     * {@code epsKey}; the rope pairs dimensions as {@code ropeMode} says.
     */
    public static ModelConfig read(GgufFile f, Architecture architecture, String epsKey, Op.RopeMode ropeMode) {
        String p = f.getString("general.architecture", architecture.name()) + ".";
        int dim = req(f, p + "embedding_length");
        int layers = req(f, p + "block_count");
        int ffn = f.has(p + "feed_forward_length") ? req(f, p + "feed_forward_length") : 0;
        int heads = req(f, p + "attention.head_count");
        if (heads > dim) throw bad(f, p + "attention.head_count", heads, "at most " + p + "embedding_length = " + dim);
        int kvHeads = f.getInt(p + "attention.head_count_kv", heads);
        int headDim = f.getInt(p + "attention.key_length", heads > 0 ? dim / heads : 0);
        int valueDim = f.getInt(p + "attention.value_length", headDim);
        int ropeDims = f.getInt(p + "rope.dimension_count", headDim);
        int ctx = f.getInt(p + "context_length", 2048);
        float eps = f.getFloat(p + epsKey, 1e-5f);
        float base = f.getFloat(p + "rope.freq_base", 10000f);
        float scale = 1f;
        String scalingType = f.getString(p + "rope.scaling.type", "none");
        Op.Yarn yarn = null;
        if (scalingType.equals("linear") || scalingType.equals("yarn")) {
            float factor = f.getFloat(p + "rope.scaling.factor", 1f);
            if (factor > 0 && !Float.isInfinite(factor)) scale = 1f / factor;
            if (scalingType.equals("yarn")) {
                // llama.cpp's defaults: extrapolation mix 1, magnitude 1, beta_fast 32, beta_slow 1
                int orig = f.getInt(p + "rope.scaling.original_context_length", f.getInt(p + "context_length", 2048));
                if (orig <= 0) throw bad(f, p + "rope.scaling.original_context_length", orig, "a positive integer");
                yarn = new Op.Yarn(orig, 1f, 1f, 32f, 1f);
            }
        }
        int vocab = f.getInt(p + "vocab_size", 0);
        if (vocab == 0) {
            GgufArray toks = f.getArray("tokenizer.ggml.tokens");
            if (toks != null) vocab = toks.size();
            else if (f.tensor("token_embd.weight") != null) vocab = (int) f.tensor("token_embd.weight").desc().ne(1);
        }
        if (kvHeads <= 0 || kvHeads > heads || heads % kvHeads != 0) {
            throw bad(f, p + "attention.head_count_kv", kvHeads, "a divisor of " + p + "attention.head_count = " + heads);
        }
        if (!f.has(p + "attention.key_length") && dim % heads != 0) {
            throw bad(f, p + "embedding_length", dim, "a multiple of " + p + "attention.head_count = " + heads
                    + " where " + p + "attention.key_length is absent");
        }
        if (headDim <= 0 || headDim % 2 != 0) throw bad(f, p + "attention.key_length", headDim, "a positive even number");
        if (ropeDims <= 0 || ropeDims % 2 != 0 || ropeDims > headDim) {
            throw bad(f, p + "rope.dimension_count", ropeDims, "an even number from 2 to the head size " + headDim);
        }
        if (valueDim != headDim) {
            throw bad(f, p + "attention.value_length", valueDim, "the key_length " + headDim + "; heads of two sizes are not supported");
        }
        if (ctx <= 0) throw bad(f, p + "context_length", ctx, "a positive integer");
        if (!(eps > 0 && eps < 1)) throw bad(f, p + epsKey, eps, "a small positive number");
        if (!(base > 0) || Float.isInfinite(base)) throw bad(f, p + "rope.freq_base", base, "a positive number");
        if (scalingType.equals("linear") || scalingType.equals("yarn")) {
            float factor = f.getFloat(p + "rope.scaling.factor", 1f);
            if (!(factor > 0) || Float.isInfinite(factor)) throw bad(f, p + "rope.scaling.factor", factor, "a positive number");
        } else if (!scalingType.equals("none")) {
            throw bad(f, p + "rope.scaling.type", scalingType, "none, linear or yarn");
        }
        if (vocab < 0) throw bad(f, p + "vocab_size", vocab, "a positive integer");
        if (vocab == 0) throw new HearthException(f.path() + ": the vocabulary size is unknown (no " + p + "vocab_size, tokens or embedding)");
        checkBlocks(f, p + "block_count", layers);
        var embd = f.tensor("token_embd.weight");
        if (embd != null && embd.desc().ne(0) != dim) {
            throw bad(f, p + "embedding_length", dim, embd.desc().ne(0) + ", the row size of token_embd.weight");
        }
        boolean tied = f.tensor("output.weight") == null;
        boolean freqs = f.tensor("rope_freqs.weight") != null;
        Features experts = yarn != null ? new Features(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, yarn) : Features.NONE;
        if (f.has(p + "expert_count") && f.getInt(p + "expert_count", 0) != 0) {
            int count = f.getInt(p + "expert_count", 0);
            int used = f.getInt(p + "expert_used_count", 0);
            int size = f.has(p + "expert_feed_forward_length") ? req(f, p + "expert_feed_forward_length") : ffn;
            if (count < 0 || count > 4096) throw new HearthException(f.path() + ": metadata " + p + "expert_count = " + count + " is not valid (1..4096 expected)");
            if (used <= 0 || used > count) {
                throw new HearthException(f.path() + ": metadata " + p + "expert_used_count = " + used + " is not valid (1.." + count + " expected: the experts each token uses)");
            }
            if (size <= 0) throw new HearthException(f.path() + ": the expert size is unknown (no " + p + "expert_feed_forward_length or feed_forward_length)");
            experts = new Features(0, 0, 0, 0, 0, 0, 0, 0, count, used, size, yarn);
        }
        return new ModelConfig(architecture, dim, layers, ffn, heads, kvHeads, headDim, ropeDims, ctx, vocab, eps, base, scale,
                ropeMode, tied, freqs, experts);
    }

    /** The one-line error for a metadata value out of range: the file, the key, its value and what was expected. */
    public static HearthException bad(GgufFile f, String key, Object value, String expected) {
        return new HearthException(f.path() + ": metadata " + key + " = " + value + " is not valid (" + expected + " expected)");
    }

    /**
     * The blocks whose tensors ({@code blk.N.*}) the file holds must be exactly 0 to {@code layers - 1},
     * as {@code key} says; a file without tensors (a vocabulary-only file) is left to the loader.
     */
    static void checkBlocks(GgufFile f, String key, int layers) {
        if (f.tensorList().isEmpty()) return;
        java.util.BitSet seen = new java.util.BitSet();
        int max = -1;
        for (var t : f.tensorList()) {
            String name = t.name();
            if (!name.startsWith("blk.")) continue;
            int dot = name.indexOf('.', 4);
            int n;
            try {
                n = Integer.parseInt(name.substring(4, dot < 0 ? name.length() : dot));
            } catch (NumberFormatException e) {
                continue;
            }
            if (n < 0) continue;
            max = Math.max(max, n);
            if (n < layers) seen.set(n);
        }
        long count = max + 1L;
        if (count != layers) throw bad(f, key, layers, count + ", the number of blocks whose tensors (blk.N) the file holds");
        int missing = seen.nextClearBit(0);
        if (missing < layers) {
            throw bad(f, key, layers, "tensors of every block below it, but the file holds none of block " + missing);
        }
    }

    /** A positive integer under {@code key}; a one-line error where it is missing or not positive. */
    public static int req(GgufFile f, String key) {
        if (!f.has(key)) throw new HearthException(f.path() + ": metadata key " + key + " is missing; the file is not a complete model");
        int v = f.getInt(key, 0);
        if (v <= 0) throw new HearthException(f.path() + ": metadata " + key + " = " + v + " is not valid (a positive integer expected)");
        return v;
    }

    /** A positive finite float under {@code key}, or {@code fallback} where the key is absent. */
    public static float positive(GgufFile f, String key, float fallback) {
        if (!f.has(key)) return fallback;
        float v = f.getFloat(key, fallback);
        if (!(v > 0) || Float.isInfinite(v)) throw new HearthException(f.path() + ": metadata " + key + " = " + v + " is not valid (a positive number expected)");
        return v;
    }
}
