package dev.hearth.llama;

import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.tensor.TensorDesc;

import java.util.ArrayList;
import java.util.List;

/**
 * The forward pass of a model for a batch of {@code tokens} tokens, built once per batch shape
 * and reused: token ids and positions are inputs, so one graph serves every step. With
 * {@code allLogits} false only the last token's logits are computed. The architecture builds the
 * body ({@link Architecture#forward}) with the helpers of {@link Builder}.
 */
public final class ModelGraph {
    public static final String TOKENS = "tokens";
    public static final String POSITIONS = "positions";
    public static final String LAST = "last";

    public final Graph graph;
    public final Node logits;
    public final int tokens;
    public final boolean allLogits;

    private ModelGraph(Graph graph, Node logits, int tokens, boolean allLogits) {
        this.graph = graph;
        this.logits = logits;
        this.tokens = tokens;
        this.allLogits = allLogits;
    }

    public static String cacheK(int layer) {
        return "cache_k." + layer;
    }

    public static String cacheV(int layer) {
        return "cache_v." + layer;
    }

    /**
     * The KV cache tensors of every layer, K then V per layer, for a context of {@code ctx} and
     * batches of up to {@code batch} tokens ({@link #cacheRows}).
     */
    public static List<TensorDesc> caches(ModelConfig c, DType cacheType, int ctx, int batch) {
        List<TensorDesc> out = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            out.add(cacheDesc(c, l, cacheK(l), cacheType, ctx, batch));
            out.add(cacheDesc(c, l, cacheV(l), cacheType, ctx, batch));
        }
        return out;
    }

    /**
     * Rows of layer {@code l}'s KV cache: the context, or for a sliding-window layer only what its
     * window needs: position p lives at row p % rows (a ring), and a batch of up to {@code batch}
     * tokens writes all its rows before any of them attends, so the ring holds window + batch - 1.
     */
    public static int cacheRows(ModelConfig c, int l, int ctx, int batch) {
        int w = c.window(l);
        return w > 0 ? (int) Math.min(ctx, (long) w + Math.max(1, batch) - 1) : ctx;
    }

    public static TensorDesc cacheDesc(ModelConfig c, int l, String name, DType cacheType, int ctx, int batch) {
        return TensorDesc.of(name, cacheType, c.kvDim(), cacheRows(c, l, ctx, batch));
    }

    /** The graph of a batch of {@code tokens}, for an engine of context {@code ctx} and batches of up to {@code batch}. */
    public static ModelGraph build(ModelWeights w, int tokens, int ctx, int batch, DType cacheType, boolean allLogits) {
        if (tokens > Math.max(1, batch)) throw new IllegalArgumentException("a batch of " + tokens + " tokens in an engine of batches of " + batch);
        Builder b = new Builder(w, tokens, ctx, batch, cacheType, allLogits);
        Node logits = w.config().architecture().forward(b);
        b.g.output(logits);
        return new ModelGraph(b.g, logits, tokens, allLogits);
    }

    /** The graph being built, its inputs, and the pieces that architectures share. */
    public static final class Builder {
        public final Graph g = new Graph();
        public final ModelWeights w;
        public final ModelConfig c;
        public final int tokens;
        public final int ctx;
        /** The most tokens a batch of the engine holds (sizes the sliding-window layers' caches). */
        public final int batch;
        public final DType cacheType;
        public final boolean allLogits;
        /** I32 token ids [T] and positions [T]. */
        public final Node ids, pos;
        private final Node freqs;

        private Builder(ModelWeights w, int tokens, int ctx, int batch, DType cacheType, boolean allLogits) {
            this.w = w;
            this.c = w.config();
            this.tokens = tokens;
            this.ctx = ctx;
            this.batch = batch;
            this.cacheType = cacheType;
            this.allLogits = allLogits;
            this.ids = g.input(TOKENS, DType.I32, tokens);
            this.pos = g.input(POSITIONS, DType.I32, tokens);
            this.freqs = c.hasRopeFreqs() ? g.weight(w.desc(ModelWeights.ROPE_FREQS)) : null;
        }

        /** The weight {@code name}. */
        public Node weight(String name) {
            return g.weight(w.desc(name));
        }

        /** Layer {@code l}'s weight {@code blk.l.name.weight}. */
        public Node weight(int l, String name) {
            return weight(ModelWeights.blk(l, name));
        }

        /** Layer {@code l}'s bias {@code blk.l.name.bias}, or null where the file has none. */
        public Node bias(int l, String name) {
            String n = ModelWeights.bias(l, name);
            return w.has(n) ? weight(n) : null;
        }

        /** The token embeddings [dim, T], times the architecture's embedding scale where it has one. */
        public Node embed() {
            Node x = g.getRows("embd", weight(ModelWeights.EMBED), ids);
            float s = c.features().embedScale();
            return s > 0 ? g.scale("embd_scaled", x, s) : x;
        }

        /** RMS norm of {@code x} with layer {@code l}'s weight {@code norm}. */
        public Node rmsNorm(int l, String norm, Node x) {
            return g.rmsNorm("l" + l + "." + norm, x, weight(l, norm), c.normEps());
        }

        /** {@code x} times layer {@code l}'s matrix {@code name}, plus its bias where the file has one. */
        public Node linear(int l, String name, Node x) {
            Node y = g.mulMat("l" + l + "." + name, weight(l, name), x);
            Node b = bias(l, name);
            return b != null ? g.add("l" + l + "." + name + "_bias", y, b) : y;
        }

        /** RMS norm of each head of {@code x} [heads * headDim, T] with the [headDim] weight {@code norm} (Qwen3, Gemma 3). */
        public Node headNorm(int l, String norm, Node x) {
            long heads = x.desc().ne(0) / c.headDim();
            String p = "l" + l + "." + norm;
            Node h = g.reshape(p + "_heads", x, c.headDim(), heads * tokens);
            Node n = g.rmsNorm(p, h, weight(l, norm), c.normEps());
            return g.reshape(p + "_rows", n, x.desc().ne(0), tokens);
        }

        /**
         * Self-attention of layer {@code l} from its projected q [qDim, T], k and v [kvDim, T]:
         * rope on q and k (the layer's base), both stored in the layer's KV cache, then attention
         * with the layer's window, the model's scale and soft-cap, and the layer's attention sinks
         * where the model has them ({@code attn_sinks}). Out: [qDim, T], before the output projection.
         */
        public Node attention(int l, Node q, Node k, Node v) {
            String p = "l" + l + ".";
            float base = c.ropeBase(l);
            Op.Yarn yarn = c.features().yarn();
            q = g.rope(p + "q_rope", q, pos, c.headDim(), c.ropeDims(), c.ropeMode(), base, c.ropeFreqScale(l), freqs, yarn);
            k = g.rope(p + "k_rope", k, pos, c.headDim(), c.ropeDims(), c.ropeMode(), base, c.ropeFreqScale(l), freqs, yarn);
            Node kc = g.kvStore(p + "k_store", g.state(cacheDesc(c, l, cacheK(l), cacheType, ctx, batch)), k, pos);
            Node vc = g.kvStore(p + "v_store", g.state(cacheDesc(c, l, cacheV(l), cacheType, ctx, batch)), v, pos);
            String sinks = ModelWeights.blk(l, "attn_sinks");
            return g.attention(p + "attn", q, kc, vc, pos, c.heads(), c.kvHeads(), c.headDim(), c.attnScale(),
                    c.window(l), c.features().attnSoftcap(), w.has(sinks) ? weight(sinks) : null);
        }

        /** Only the last token's row of {@code x} where the caller wants the last logits only. */
        public Node lastRows(Node x) {
            return !allLogits && tokens > 1 ? g.getRows("last_row", x, g.input(LAST, DType.I32, 1)) : x;
        }

        /** The output head: {@code x} [dim, T'] times the output matrix, then the model's soft-cap and logit scale. */
        public Node head(Node x) {
            Node logits = g.mulMat("logits", weight(ModelWeights.OUTPUT), x);
            if (c.features().finalSoftcap() > 0) logits = g.softcap("logits_capped", logits, c.features().finalSoftcap());
            if (c.features().logitScale() > 0) logits = g.scale("logits_scaled", logits, c.features().logitScale());
            return logits;
        }
    }
}
