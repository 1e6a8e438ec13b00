package dev.hearth.runtime.graph;

import dev.hearth.runtime.dtype.DType;

import java.util.ArrayList;
import java.util.List;

/**
 * The closed set of operations that the supported model architectures need. Shapes follow ggml
 * order ({@code ne[0]} innermost); activations are F32 unless an op says otherwise; positions and
 * token ids are I32. The reference backend ({@code dev.hearth.runtime.reference}) is the
 * numerical spec of each op. Every op names its inputs itself ({@link #inputs}).
 */
public sealed interface Op {
    /** The nodes this op reads, in order (absent optional inputs left out). */
    List<Node> inputs();

    /** The given nodes that are not null, in order. */
    private static List<Node> of(Node... nodes) {
        List<Node> in = new ArrayList<>(nodes.length);
        for (Node n : nodes) if (n != null) in.add(n);
        return in;
    }

    /** Ops with no inputs: their data comes from outside the graph. */
    sealed interface Leaf extends Op {
        @Override
        default List<Node> inputs() {
            return List.of();
        }
    }

    /** Data the host writes before each compute (token ids, positions). */
    record Input(String name) implements Leaf {
    }

    /** A constant tensor, bound to weights by name. */
    record Weight(String name) implements Leaf {
    }

    /** A persistent tensor kept between computes (the KV cache), bound by name. */
    record State(String name) implements Leaf {
    }

    /** Rows {@code ids} of {@code table} ([K, V], any type) as F32 [K, T]. */
    record GetRows(Node table, Node ids) implements Op {
        @Override
        public List<Node> inputs() {
            return of(table, ids);
        }
    }

    /** {@code w} [K, N] of any type times {@code x} F32 [K, T]: F32 [N, T]; out[t][n] = dot(w row n, x row t). */
    record MulMat(Node w, Node x) implements Op {
        @Override
        public List<Node> inputs() {
            return of(w, x);
        }
    }

    /** Each row divided by its root mean square (plus {@code eps}), then times {@code weight} if given. */
    record RmsNorm(Node x, Node weight, float eps) implements Op {
        @Override
        public List<Node> inputs() {
            return of(x, weight);
        }
    }

    /** The two ways rotary embeddings pair up a head's dimensions. */
    enum RopeMode {
        /** Adjacent pairs (2i, 2i+1): LLaMA as converted by llama.cpp. */
        NORMAL,
        /** Halves (i, i + n/2): GPT-NeoX, Qwen, Phi. */
        NEOX
    }

    /**
     * Rotary position embedding of {@code x} [headDim * heads, T] at the I32 positions {@code pos} [T].
     * The first {@code ropeDims} of each head rotate; theta_i = pos * freqScale * base^(-2i/ropeDims),
     * divided by {@code freqFactors[i]} where given (Llama 3.1 scaling). With {@code yarn} (not null)
     * the angle and magnitude follow YaRN ({@link Yarn}).
     */
    record Rope(Node x, Node pos, int headDim, int ropeDims, RopeMode mode, float base, float freqScale,
                Node freqFactors, Yarn yarn) implements Op {
        public Rope(Node x, Node pos, int headDim, int ropeDims, RopeMode mode, float base, float freqScale, Node freqFactors) {
            this(x, pos, headDim, ropeDims, mode, base, freqScale, freqFactors, null);
        }

        @Override
        public List<Node> inputs() {
            return of(x, pos, freqFactors);
        }
    }

    /**
     * YaRN rope scaling (as ggml computes it). For pair i, with theta_e = pos * base^(-2i/ropeDims)
     * (the extrapolated angle) and theta_i = freqScale * theta_e (the interpolated one), the angle is
     * theta_i * (1 - r) + theta_e * r with r = ramp(i) * extFactor, where ramp(i) = 1 - clamp((i - low)
     * / max(0.001, high - low), 0, 1) and low/high are the pairs whose wavelength is origCtx / betaFast
     * and origCtx / betaSlow turns (floor and ceiling, within 0..ropeDims-1). Both rotated values are
     * multiplied by attnFactor, times 1 + 0.1 ln(1 / freqScale) where extFactor is not 0.
     */
    record Yarn(int origCtx, float extFactor, float attnFactor, float betaFast, float betaSlow) {
        /** The correction range {low, high} for {@code ropeDims} rotated dimensions and {@code base}. */
        public double[] corrDims(int ropeDims, float base) {
            double low = Math.floor(corrDim(ropeDims, betaFast, base));
            double high = Math.ceil(corrDim(ropeDims, betaSlow, base));
            return new double[]{Math.max(0, low), Math.min(ropeDims - 1, high)};
        }

        private double corrDim(int ropeDims, float rotations, float base) {
            return ropeDims * Math.log(origCtx / (rotations * 2 * Math.PI)) / (2 * Math.log(base));
        }

        /** The angle of pair {@code i} from its extrapolated angle. */
        public double theta(double thetaExtrap, float freqScale, double[] corr, int i) {
            double interp = freqScale * thetaExtrap;
            if (extFactor == 0) return interp;
            double y = (i - corr[0]) / Math.max(0.001, corr[1] - corr[0]);
            double mix = (1 - Math.min(1, Math.max(0, y))) * extFactor;
            return interp * (1 - mix) + thetaExtrap * mix;
        }

        /** The factor both rotated values are multiplied by. */
        public double mscale(float freqScale) {
            return extFactor == 0 ? attnFactor : attnFactor * (1 + 0.1 * Math.log(1.0 / freqScale));
        }
    }

    /**
     * Writes {@code src} [kvDim, T] into {@code cache} [kvDim, R] at rows {@code pos} [T] modulo R:
     * position p lives at row p % R, so a cache of fewer rows than the context is a ring (a
     * sliding-window layer's cache holds only its window). Its value is the cache after the write,
     * so readers of the cache come after it. The cache is F32, F16, Q8_0 or Q4_0
     * ({@link dev.hearth.runtime.dtype.CacheTypes}); a row is encoded as its type's reference codec
     * encodes it (for Q8_0 and Q4_0, in blocks of 32 along the row), and attention reads it decoded.
     */
    record KvStore(Node cache, Node src, Node pos) implements Op {
        @Override
        public List<Node> inputs() {
            return of(cache, src, pos);
        }
    }

    /**
     * Causal grouped-query attention: for each token t and head h, softmax of the scores over cache
     * rows j of KV head h / (heads / kvHeads) with j in 0..pos[t] (and, where {@code window} > 0,
     * pos[t] - j < window: sliding-window attention), weighting the V rows. A score is
     * scale * q·k, soft-capped to softcap * tanh(score / softcap) where {@code softcap} > 0. Where
     * {@code sinks} (F32 [heads]) is given, head h's softmax has one more logit, sinks[h], in its
     * denominator only (an attention sink: gpt-oss), so its weights sum to less than 1.
     * q [headDim * heads, T]; kCache and vCache [headDim * kvHeads, R], position j at row j % R (see
     * {@link KvStore}); the positions a token attends to must number at most R. Out: F32 [headDim * heads, T].
     */
    record Attention(Node q, Node kCache, Node vCache, Node pos, int heads, int kvHeads, int headDim,
                     float scale, int window, float softcap, Node sinks) implements Op {
        /** Full causal attention without soft-capping. */
        public Attention(Node q, Node kCache, Node vCache, Node pos, int heads, int kvHeads, int headDim, float scale) {
            this(q, kCache, vCache, pos, heads, kvHeads, headDim, scale, 0, 0f, null);
        }

        public Attention(Node q, Node kCache, Node vCache, Node pos, int heads, int kvHeads, int headDim, float scale, int window,
                         float softcap) {
            this(q, kCache, vCache, pos, heads, kvHeads, headDim, scale, window, softcap, null);
        }

        /** True where the plain causal form applies: no window, no soft-capping, no sinks. */
        public boolean plain() {
            return window == 0 && softcap == 0f && sinks == null;
        }

        @Override
        public List<Node> inputs() {
            return of(q, kCache, vCache, pos, sinks);
        }
    }

    /** silu(gate) * up, elementwise. */
    record Swiglu(Node gate, Node up) implements Op {
        @Override
        public List<Node> inputs() {
            return of(gate, up);
        }
    }

    /** a + b; b's rows repeat over a's when b has one row. */
    record Add(Node a, Node b) implements Op {
        @Override
        public List<Node> inputs() {
            return of(a, b);
        }
    }

    /** a * b elementwise; b's rows repeat over a's when b has one row. */
    record Mul(Node a, Node b) implements Op {
        @Override
        public List<Node> inputs() {
            return of(a, b);
        }
    }

    /** x * s. */
    record Scale(Node x, float s) implements Op {
        @Override
        public List<Node> inputs() {
            return of(x);
        }
    }

    /** Softmax of each row. */
    record Softmax(Node x) implements Op {
        @Override
        public List<Node> inputs() {
            return of(x);
        }
    }

    /** x converted to {@code to} (F32, F16 or BF16). */
    record Convert(Node x, DType to) implements Op {
        @Override
        public List<Node> inputs() {
            return of(x);
        }
    }

    /** gelu(gate) * up elementwise, gelu in its tanh form: 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3))). */
    record Geglu(Node gate, Node up) implements Op {
        @Override
        public List<Node> inputs() {
            return of(gate, up);
        }
    }

    /** cap * tanh(x / cap), elementwise (Gemma 2's soft-capping of the logits). */
    record Softcap(Node x, float cap) implements Op {
        @Override
        public List<Node> inputs() {
            return of(x);
        }
    }

    /**
     * Layer norm of each row: (x - mean) / sqrt(variance + eps), then times {@code weight} and
     * plus {@code bias} where given (both one row, optional).
     */
    record LayerNorm(Node x, Node weight, Node bias, float eps) implements Op {
        @Override
        public List<Node> inputs() {
            return of(x, weight, bias);
        }
    }

    /**
     * The same F32 values with another shape (same element count): a view, not a copy. The
     * scheduler gives it its input's memory, so no device computes it (q and k seen as one row
     * per head, for a norm per head).
     */
    record Reshape(Node x) implements Op {
        @Override
        public List<Node> inputs() {
            return of(x);
        }
    }

    /**
     * The indices of the {@code k} largest values of each row of {@code x} [E, T], largest first
     * (the lower index first among equal values): I32 [k, T]. The router of mixture-of-experts
     * layers picks each token's experts with it.
     */
    record TopK(Node x, int k) implements Op {
        @Override
        public List<Node> inputs() {
            return of(x);
        }
    }

    /** Per row t, the values of {@code x} [E, T] at the I32 indices {@code ids} [k, T]: F32 [k, T]. */
    record Gather(Node x, Node ids) implements Op {
        @Override
        public List<Node> inputs() {
            return of(x, ids);
        }
    }

    /**
     * The expert-indexed matrix product (ggml's mul_mat_id). {@code w} [K, N, E] holds E matrices of
     * N rows; {@code ids} [k, T] each token's k experts. {@code x} is [K, T] (every selected expert
     * of token t reads row t) or [K, k * T] (expert j of token t reads row t * k + j). Out: F32
     * [N, k * T], row t * k + j = w[ids[t][j]] times the row it reads. Only the selected experts'
     * weights are read.
     */
    record MulMatId(Node w, Node x, Node ids) implements Op {
        @Override
        public List<Node> inputs() {
            return of(w, x, ids);
        }
    }

    /** Per token t, the sum over j of weights[t][j] times row t * k + j of {@code y} [N, k * T]; weights [k, T]. Out: F32 [N, T]. */
    record WeightedSum(Node y, Node weights) implements Op {
        @Override
        public List<Node> inputs() {
            return of(y, weights);
        }
    }

    /**
     * gpt-oss's clamped SwiGLU, elementwise: g = min(gate, limit), u = clamp(up, -limit, limit),
     * out = g * sigmoid(alpha * g) * (u + 1).
     */
    record SwigluOai(Node gate, Node up, float alpha, float limit) implements Op {
        @Override
        public List<Node> inputs() {
            return of(gate, up);
        }
    }

    /** Row t * k + j of {@code y} [N, k * T] plus row ids[t][j] of {@code bias} [N, E]: each expert's bias. */
    record AddId(Node y, Node bias, Node ids) implements Op {
        @Override
        public List<Node> inputs() {
            return of(y, bias, ids);
        }
    }
}
