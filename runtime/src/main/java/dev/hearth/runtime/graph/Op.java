package dev.hearth.runtime.graph;

import dev.hearth.runtime.dtype.DType;

import java.util.ArrayList;
import java.util.List;

/**
 * The closed set of operations that LLaMA-family models need. Shapes follow ggml order
 * ({@code ne[0]} innermost); activations are F32 unless an op says otherwise; positions and
 * token ids are I32. The reference backend ({@code dev.hearth.runtime.reference}) is the
 * numerical spec of each op.
 */
public sealed interface Op {
    /** The nodes this op reads, in order. */
    default List<Node> inputs() {
        List<Node> in = new ArrayList<>(3);
        for (var c : getClass().getRecordComponents()) {
            if (c.getType() == Node.class) {
                try {
                    Node n = (Node) c.getAccessor().invoke(this);
                    if (n != null) in.add(n);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return in;
    }

    /** Ops with no inputs: their data comes from outside the graph. */
    sealed interface Leaf extends Op {
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
    }

    /** {@code w} [K, N] of any type times {@code x} F32 [K, T]: F32 [N, T]; out[t][n] = dot(w row n, x row t). */
    record MulMat(Node w, Node x) implements Op {
    }

    /** Each row divided by its root mean square (plus {@code eps}), then times {@code weight} if given. */
    record RmsNorm(Node x, Node weight, float eps) implements Op {
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
     * divided by {@code freqFactors[i]} where given (Llama 3.1 scaling).
     */
    record Rope(Node x, Node pos, int headDim, int ropeDims, RopeMode mode, float base, float freqScale,
                Node freqFactors) implements Op {
    }

    /**
     * Writes {@code src} [kvDim, T] into {@code cache} [kvDim, ctx] (F32 or F16) at rows {@code pos} [T].
     * Its value is the cache after the write, so readers of the cache come after it.
     */
    record KvStore(Node cache, Node src, Node pos) implements Op {
    }

    /**
     * Causal grouped-query attention: for each token t and head h, softmax(scale * q·k) over cache
     * rows 0..pos[t] of KV head h / (heads / kvHeads), weighting the V rows. q [headDim * heads, T];
     * kCache and vCache [headDim * kvHeads, ctx]. Out: F32 [headDim * heads, T].
     */
    record Attention(Node q, Node kCache, Node vCache, Node pos, int heads, int kvHeads, int headDim,
                     float scale) implements Op {
    }

    /** silu(gate) * up, elementwise. */
    record Swiglu(Node gate, Node up) implements Op {
    }

    /** a + b; b's rows repeat over a's when b has one row. */
    record Add(Node a, Node b) implements Op {
    }

    /** a * b elementwise; b's rows repeat over a's when b has one row. */
    record Mul(Node a, Node b) implements Op {
    }

    /** x * s. */
    record Scale(Node x, float s) implements Op {
    }

    /** Softmax of each row. */
    record Softmax(Node x) implements Op {
    }

    /** x converted to {@code to} (F32, F16 or BF16). */
    record Convert(Node x, DType to) implements Op {
    }
}
