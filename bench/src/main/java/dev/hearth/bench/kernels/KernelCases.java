package dev.hearth.bench.kernels;

import dev.hearth.runtime.conformance.OpCase;
import dev.hearth.runtime.conformance.OpCases;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op.RopeMode;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The kernel cases: the ops of a LLaMA layer at the shapes of real models, and the conformance
 * cases of {@link OpCases} (family "ops"). For Llama-3.2-1B ("1b") and Llama-3-8B ("8b"):
 * <ul>
 * <li>mul_mat W[K, N] x x[K, T] for each matrix shape of the model (attention q and output, k and
 * v, feed-forward gate/up and down, the vocabulary projection), at T = 1 (generation), 4 and 8
 * (a few sequences generated at once, or drafted tokens checked) and 512 (a prompt batch), for
 * every weight type that has a reference codec;</li>
 * <li>attention with an F32, F16, Q8_0 and Q4_0 cache at contexts 512 and 4096: one token at the last
 * position, and 16, 64 and 512 tokens at the last positions (short prompts and a prompt batch);</li>
 * <li>rms_norm over the embedding, rope over the query heads, swiglu over the feed-forward width,
 * at T = 1 and 512.</li>
 * </ul>
 * For the mixture-of-experts shapes of Mixtral-8x7B ("mixtral") and Qwen3-30B-A3B
 * ("qwen3-30b-a3b"): mul_mat_id over the stacked experts (gate/up and down) at T = 1 and 512, each
 * token with its own distinct experts, so that a generated token reads only the experts it uses.
 */
public final class KernelCases {
    /** A model's shapes: embedding, feed-forward width, KV width, vocabulary, heads. */
    public record ModelShape(String family, int embd, int ffn, int kv, int vocab, int heads, int kvHeads, int headDim) {
        /** The (K, N) of each distinct weight matrix, with the tensors it stands for. */
        public List<Matrix> matrices() {
            return List.of(new Matrix("attn_q", embd, embd), new Matrix("attn_kv", embd, kv), new Matrix("ffn_up", embd, ffn),
                    new Matrix("ffn_down", ffn, embd), new Matrix("output", embd, vocab));
        }
    }

    /** A weight matrix of K columns (inputs) and N rows (outputs); {@code role} names the tensors. */
    public record Matrix(String role, int k, int n) {
    }

    public static final ModelShape LLAMA_3_2_1B = new ModelShape("1b", 2048, 8192, 512, 128256, 32, 8, 64);
    public static final ModelShape LLAMA_3_8B = new ModelShape("8b", 4096, 14336, 1024, 128256, 32, 8, 128);
    public static final List<ModelShape> MODELS = List.of(LLAMA_3_2_1B, LLAMA_3_8B);

    /** A mixture-of-experts layer's shapes: embedding, one expert's feed-forward width, experts, experts used per token. */
    public record MoeShape(String family, int embd, int expertFfn, int experts, int used) {
    }

    public static final MoeShape MIXTRAL = new MoeShape("mixtral", 4096, 14336, 8, 2);
    public static final MoeShape QWEN3_30B_A3B = new MoeShape("qwen3-30b-a3b", 2048, 768, 128, 8);
    public static final List<MoeShape> MOE_MODELS = List.of(MIXTRAL, QWEN3_30B_A3B);

    /** Token counts of the model cases: one (generation) and a prompt batch. */
    public static final int[] TOKENS = {1, 512};
    /** Token counts of the mul_mat cases: TOKENS, the small batches of batched generation and short prompts. */
    public static final int[] MUL_MAT_TOKENS = {1, 4, 8, 16, 32, 512};
    /** Token counts of the attention cases: TOKENS and short prompts (16 tokens is where the OpenCL tiled kernel starts). */
    public static final int[] ATTENTION_TOKENS = {1, 16, 64, 512};
    /** Contexts of the attention cases. */
    public static final int[] CONTEXTS = {512, 4096};
    /** Cache types of the attention cases. */
    public static final List<DType> CACHE_TYPES = List.of(DType.F32, DType.F16, DType.Q8_0, DType.Q4_0);
    /** The weight types a run covers when none are named: the common ones. */
    public static final List<DType> DEFAULT_TYPES = List.of(DType.F32, DType.F16, DType.Q4_0, DType.Q8_0, DType.Q4_K, DType.Q6_K);

    private static volatile List<KernelCase> all;
    private static volatile Map<String, KernelCase> byName;

    private KernelCases() {
    }

    /** Every case: the model shapes first, then the conformance cases; the same objects each call. */
    public static List<KernelCase> all() {
        List<KernelCase> a = all;
        if (a == null) {
            List<KernelCase> cases = new ArrayList<>();
            for (ModelShape m : MODELS) cases.addAll(model(m));
            for (MoeShape m : MOE_MODELS) cases.addAll(experts(m));
            for (OpCase c : OpCases.all()) cases.add(KernelCase.conformance(c));
            Map<String, KernelCase> names = new HashMap<>();
            for (KernelCase c : cases) {
                if (names.put(c.name(), c) != null) throw new IllegalStateException("two kernel cases named " + c.name());
            }
            byName = names;
            all = a = List.copyOf(cases);
        }
        return a;
    }

    /** The case of this name, or null. */
    public static KernelCase byName(String name) {
        all();
        return byName.get(name);
    }

    /** The cases of one model's shapes. */
    public static List<KernelCase> model(ModelShape m) {
        List<KernelCase> cases = new ArrayList<>();
        for (Matrix w : m.matrices()) {
            for (DType type : OpCases.weightTypes()) {
                if (w.k() % type.blockSize != 0) continue;
                for (int t : MUL_MAT_TOKENS) cases.add(mulMat(m.family(), w, type, t));
            }
        }
        for (DType cache : CACHE_TYPES) {
            for (int ctx : CONTEXTS) {
                for (int t : ATTENTION_TOKENS) cases.add(attention(m, cache, ctx, t));
            }
        }
        for (int t : TOKENS) {
            cases.add(rmsNorm(m, t));
            cases.add(rope(m, t));
            cases.add(swiglu(m, t));
        }
        return cases;
    }

    /** mul_mat_id over the experts of one layer: gate/up [embd, expertFfn, experts] and down [expertFfn, embd, experts]. */
    public static List<KernelCase> experts(MoeShape m) {
        List<KernelCase> cases = new ArrayList<>();
        Matrix[] ms = {new Matrix("ffn_up_exps", m.embd(), m.expertFfn()), new Matrix("ffn_down_exps", m.expertFfn(), m.embd())};
        for (Matrix w : ms) {
            for (DType type : OpCases.weightTypes()) {
                if (w.k() % type.blockSize != 0) continue;
                for (int t : TOKENS) {
                    String shape = w.role() + " k=" + w.k() + " n=" + w.n() + " experts=" + m.experts() + " used=" + m.used() + " t=" + t;
                    cases.add(KernelCase.model("mul_mat_id", type, m.family(), shape, t, b -> {
                        Node wn = b.weight("w", type, w.k(), w.n(), m.experts());
                        Node x = b.input("x", 1, w.k(), w.role().equals("ffn_down_exps") ? (long) m.used() * t : t);
                        Node ids = b.ints("ids", new long[]{m.used(), t}, expertIds(m.experts(), m.used(), t));
                        b.output(b.graph().mulMatId("y", wn, x, ids));
                    }));
                }
            }
        }
        return cases;
    }

    /** Each token's {@code used} distinct experts, spread over all of them (a fixed pseudo-random draw). */
    static int[] expertIds(int experts, int used, int tokens) {
        int[] ids = new int[used * tokens];
        java.util.SplittableRandom r = new java.util.SplittableRandom(used * 31L + experts);
        for (int t = 0; t < tokens; t++) {
            for (int j = 0; j < used; j++) {
                int e;
                boolean taken;
                do {
                    e = r.nextInt(experts);
                    taken = false;
                    for (int i = 0; i < j; i++) taken |= ids[t * used + i] == e;
                } while (taken);
                ids[t * used + j] = e;
            }
        }
        return ids;
    }

    static KernelCase mulMat(String family, Matrix m, DType type, int t) {
        String shape = m.role() + " k=" + m.k() + " n=" + m.n() + " t=" + t;
        return KernelCase.model("mul_mat", type, family, shape, t, b -> {
            Node w = b.weight("w", type, m.k(), m.n());
            Node x = b.input("x", 1, m.k(), t);
            b.output(b.graph().mulMat("y", w, x));
        });
    }

    static KernelCase attention(ModelShape m, DType cache, int ctx, int t) {
        String shape = "heads=" + m.heads() + "/" + m.kvHeads() + " head_dim=" + m.headDim() + " ctx=" + ctx + " t=" + t;
        return KernelCase.model("attention", cache, m.family(), shape, t, b -> {
            Node q = b.input("q", 1, (long) m.heads() * m.headDim(), t);
            Node k = b.state("k_cache", cache, (long) m.kvHeads() * m.headDim(), ctx);
            Node v = b.state("v_cache", cache, (long) m.kvHeads() * m.headDim(), ctx);
            Node pos = b.ints("pos", lastPositions(ctx, t));
            float scale = (float) (1 / Math.sqrt(m.headDim()));
            b.output(b.graph().attention("out", q, k, v, pos, m.heads(), m.kvHeads(), m.headDim(), scale));
        });
    }

    static KernelCase rmsNorm(ModelShape m, int t) {
        return KernelCase.model("rms_norm", null, m.family(), "k=" + m.embd() + " t=" + t, t, b -> {
            Node x = b.input("x", 3, m.embd(), t);
            Node w = b.weight("norm", DType.F32, m.embd());
            b.output(b.graph().rmsNorm("y", x, w, 1e-5f));
        });
    }

    static KernelCase rope(ModelShape m, int t) {
        int width = m.heads() * m.headDim();
        String shape = "k=" + width + " head_dim=" + m.headDim() + " t=" + t;
        return KernelCase.model("rope", null, m.family(), shape, t, b -> {
            Node x = b.input("x", 2, width, t);
            Node pos = b.ints("pos", lastPositions(512, t));
            b.output(b.graph().rope("y", x, pos, m.headDim(), m.headDim(), RopeMode.NORMAL, 500000f, 1f, null));
        });
    }

    static KernelCase swiglu(ModelShape m, int t) {
        return KernelCase.model("swiglu", null, m.family(), "k=" + m.ffn() + " t=" + t, t, b -> {
            Node gate = b.input("gate", 6, m.ffn(), t);
            Node up = b.input("up", 1, m.ffn(), t);
            b.output(b.graph().swiglu("y", gate, up));
        });
    }

    /**
     * A small conformance case of the same op and type as {@code c}, one token where {@code c} has
     * one and the most tokens otherwise, to warm a device's kernel up (compile it) before {@code c}
     * is timed; null where there is none.
     */
    public static KernelCase warmupFor(KernelCase c) {
        KernelCase best = null;
        int bestTokens = 0;
        for (KernelCase o : all()) {
            if (!o.family().equals("ops") || !o.op().equals(c.op()) || o.type() != c.type()) continue;
            int t = tokensOf(o.shape());
            if (t <= 0 || (c.tokens() == 1) != (t == 1)) continue;
            if (best == null || t > bestTokens) {
                best = o;
                bestTokens = t;
            }
        }
        return best;
    }

    /** The "t=N" of a case's parameters, or -1. */
    static int tokensOf(String shape) {
        for (String w : shape.split(" ")) {
            if (w.startsWith("t=")) {
                try {
                    return Integer.parseInt(w.substring(2));
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
        }
        return -1;
    }

    /** The last {@code t} positions of a context of {@code ctx}. */
    static int[] lastPositions(int ctx, int t) {
        int[] pos = new int[t];
        for (int i = 0; i < t; i++) pos[i] = ctx - t + i;
        return pos;
    }
}
