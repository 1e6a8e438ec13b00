package dev.hearth.runtime.conformance;

import dev.hearth.runtime.dtype.Codecs;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op.RopeMode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The conformance cases: every op of {@code Op}, over every weight type that has a reference
 * codec, at shapes and token counts that reach the edges of tiled kernels (odd row counts, one
 * token and many), plus a whole LLaMA layer. Attention also with a sliding window and soft-capped
 * scores (Gemma 2 and 3), geglu, softcap, layer_norm, and rms_norm per head through reshape views. Tolerances are normalized mean squared errors:
 * 1e-7 where a backend should match bit for bit up to rounding, 1e-6 where it may use its own
 * exp, sqrt or sums in float, 5e-4 where it may round activations (mul_mat with quantized
 * activations, attention with F16 queries), as llama.cpp's test-backend-ops does.
 */
public final class OpCases {
    static final double EXACT = 1e-7;
    static final double MATH = 1e-6;
    static final double MATMUL = 5e-4;

    private OpCases() {
    }

    private static volatile List<OpCase> all;

    /** Every case, in a stable order; the same objects each call, so data built once is reused. */
    public static List<OpCase> all() {
        List<OpCase> a = all;
        if (a == null) all = a = build();
        return a;
    }

    private static List<OpCase> build() {
        List<OpCase> cases = new ArrayList<>();
        cases.addAll(mulMat());
        cases.addAll(getRows());
        cases.addAll(rmsNorm());
        cases.addAll(rope());
        cases.addAll(kvStore());
        cases.addAll(attention());
        cases.addAll(attentionVariants());
        cases.addAll(promptAttention());
        cases.addAll(rings());
        cases.addAll(quantizedCaches());
        cases.addAll(elementwise());
        cases.addAll(norms());
        cases.addAll(experts());
        cases.addAll(gptOss());
        cases.addAll(convert());
        cases.addAll(LlamaLayerCase.all());
        return List.copyOf(cases);
    }

    /** The cases of one op ("mul_mat"). */
    public static List<OpCase> of(String op) {
        return all().stream().filter(c -> c.op().equals(op)).toList();
    }

    /** Weight types that have a reference codec: the types the cases cover. */
    public static List<DType> weightTypes() {
        return allWeightTypes().stream().filter(Codecs::has).toList();
    }

    /** Every type a weight can have in GGUF (no retired or integer types), codec or not: floats first, then by GGUF id. */
    public static List<DType> allWeightTypes() {
        List<DType> types = new ArrayList<>(List.of(DType.F32, DType.F16, DType.BF16));
        Arrays.stream(DType.values())
                .filter(t -> t.isQuantized() && !t.retired)
                .forEach(types::add);
        return List.copyOf(types);
    }

    static String lower(DType t) {
        return t.name().toLowerCase();
    }

    static List<OpCase> mulMat() {
        List<OpCase> cases = new ArrayList<>();
        for (DType type : weightTypes()) {
            int[][] shapes = type.blockSize >= 256 ? new int[][]{{256, 64}, {768, 37}}
                    : type.blockSize > 1 ? new int[][]{{256, 64}, {96, 37}}
                    : new int[][]{{256, 64}, {100, 37}};
            for (int[] kn : shapes) {
                for (int t : new int[]{1, 7, 32}) {
                    int k = kn[0];
                    int n = kn[1];
                    String weights = "mul_mat type=" + lower(type) + " k=" + k + " n=" + n;
                    cases.add(new OpCase("mul_mat", type, weights + " t=" + t, weights, MATMUL, b -> {
                        Node w = b.weight("w", type, k, n); // drawn first: the same for every t
                        Node x = b.input("x", k, t);
                        b.output(b.graph().mulMat("y", w, x));
                    }));
                }
            }
        }
        for (DType type : new DType[]{DType.Q4_0, DType.Q8_0}) { // rows a multiple of 256: the GPUs repack these weights
            for (int k : new int[]{256, 512}) {
                for (int t : new int[]{1, 3, 8, 17, 64}) {
                    String weights = "mul_mat type=" + lower(type) + " k=" + k + " n=37";
                    cases.add(new OpCase("mul_mat", type, weights + " t=" + t, weights, MATMUL, b -> {
                        Node w = b.weight("w", type, k, 37);
                        Node x = b.input("x", k, t);
                        b.output(b.graph().mulMat("y", w, x));
                    }));
                }
            }
        }
        return cases;
    }

    static List<OpCase> getRows() {
        List<OpCase> cases = new ArrayList<>();
        for (DType type : weightTypes()) {
            cases.add(new OpCase("get_rows", type, "get_rows type=" + lower(type) + " k=256 rows=40 t=6", EXACT, b -> {
                Node table = b.weight("table", type, 256, 40);
                Node ids = b.ints("ids", 0, 39, 7, 7, 21, 3);
                b.output(b.graph().getRows("rows", table, ids));
            }));
        }
        return cases;
    }

    static List<OpCase> rmsNorm() {
        List<OpCase> cases = new ArrayList<>();
        int[][] shapes = {{256, 7}, {4096, 2}, {100, 1}};
        for (int[] kt : shapes) {
            for (boolean withWeight : new boolean[]{true, false}) {
                int k = kt[0];
                int t = kt[1];
                float eps = withWeight ? 1e-5f : 1e-6f;
                cases.add(new OpCase("rms_norm", null, "rms_norm k=" + k + " t=" + t + " weight=" + (withWeight ? "yes" : "no"), MATH, b -> {
                    Node x = b.input("x", DType.F32, 3, k, t);
                    Node w = withWeight ? b.weight("norm", DType.F32, k) : null;
                    b.output(b.graph().rmsNorm("y", x, w, eps));
                }));
            }
        }
        return cases;
    }

    static List<OpCase> rope() {
        List<OpCase> cases = new ArrayList<>();
        for (RopeMode mode : RopeMode.values()) {
            for (int dims : new int[]{64, 32}) {
                for (boolean ff : new boolean[]{false, true}) {
                    cases.add(ropeCase(mode, 64, 4, dims, ff, 10000f, 1f));
                }
            }
            cases.add(ropeCase(mode, 128, 2, 128, true, 500000f, 0.25f));
        }
        return cases;
    }

    private static OpCase ropeCase(RopeMode mode, int headDim, int heads, int dims, boolean ff, float base, float freqScale) {
        String name = "rope mode=" + mode.name().toLowerCase() + " head_dim=" + headDim + " dims=" + dims
                + " base=" + (int) base + " freq_scale=" + freqScale + " ff=" + (ff ? "yes" : "no") + " t=5";
        return new OpCase("rope", null, name, MATH, b -> {
            Node x = b.input("x", DType.F32, 2, (long) headDim * heads, 5);
            Node pos = b.ints("pos", 0, 1, 7, 100, 2047);
            Node factors = null;
            if (ff) {
                float[] f = new float[dims / 2];
                for (int i = 0; i < f.length; i++) f[i] = 1 + 7 * b.random().nextFloat();
                factors = b.weight("freq_factors", DType.F32, f, f.length);
            }
            b.output(b.graph().rope("y", x, pos, headDim, dims, mode, base, freqScale, factors));
        });
    }

    static List<OpCase> kvStore() {
        List<OpCase> cases = new ArrayList<>();
        for (DType cache : new DType[]{DType.F32, DType.F16}) {
            for (int[] pos : new int[][]{{37}, {10, 11, 12, 13}, {0, 63}}) {
                String name = "kv_store cache=" + lower(cache) + " kv=128 ctx=64 t=" + pos.length + " pos=" + Arrays.toString(pos).replace(" ", "");
                cases.add(new OpCase("kv_store", cache, name, EXACT, b -> {
                    Node c = b.state("cache", cache, 128, 64);
                    Node src = b.input("src", DType.F32, 2, 128, pos.length);
                    Node p = b.ints("pos", pos);
                    b.output(b.graph().kvStore("stored", c, src, p));
                }));
            }
        }
        return cases;
    }

    static List<OpCase> attention() {
        List<OpCase> cases = new ArrayList<>();
        int heads = 8;
        int headDim = 32;
        for (int kvHeads : new int[]{8, 4, 2, 1}) {
            for (DType cache : new DType[]{DType.F32, DType.F16}) {
                for (int[] tp : new int[][]{{1, 0}, {1, 45}, {6, 17}}) {
                    int t = tp[0];
                    int first = tp[1];
                    String name = "attention heads=" + heads + " kv_heads=" + kvHeads + " head_dim=" + headDim
                            + " cache=" + lower(cache) + " t=" + t + " pos=" + first;
                    cases.add(new OpCase("attention", cache, name, MATMUL, b -> {
                        int[] pos = new int[t];
                        for (int i = 0; i < t; i++) pos[i] = first + i;
                        Node q = b.input("q", DType.F32, 3, (long) heads * headDim, t);
                        Node k = b.state("k_cache", cache, (long) kvHeads * headDim, 64);
                        Node v = b.state("v_cache", cache, (long) kvHeads * headDim, 64);
                        Node p = b.ints("pos", pos);
                        b.output(b.graph().attention("out", q, k, v, p, heads, kvHeads, headDim, (float) (1 / Math.sqrt(headDim))));
                    }));
                }
            }
        }
        return cases;
    }

    /** Sliding-window and soft-capped attention, alone and together, at positions inside and past the window. */
    static List<OpCase> attentionVariants() {
        List<OpCase> cases = new ArrayList<>();
        int heads = 4, kvHeads = 2, headDim = 64;
        float[][] variants = {{8, 0}, {0, 8}, {8, 5}}; // window, softcap
        for (float[] wc : variants) {
            int window = (int) wc[0];
            float softcap = wc[1];
            for (DType cache : new DType[]{DType.F32, DType.F16}) {
                for (int[] tp : new int[][]{{1, 3}, {1, 40}, {6, 17}, {12, 150}}) { // the last: several blocks of tokens and chunks of rows
                    int t = tp[0], first = tp[1];
                    String name = "attention heads=" + heads + " kv_heads=" + kvHeads + " head_dim=" + headDim + " cache=" + lower(cache)
                            + " window=" + window + " softcap=" + softcap + " t=" + t + " pos=" + first;
                    cases.add(new OpCase("attention", cache, name, MATMUL, b -> {
                        int[] pos = new int[t];
                        for (int i = 0; i < t; i++) pos[i] = first + i;
                        Node q = b.input("q", DType.F32, 3, (long) heads * headDim, t);
                        Node k = b.state("k_cache", cache, (long) kvHeads * headDim, first > 64 ? 256 : 64);
                        Node v = b.state("v_cache", cache, (long) kvHeads * headDim, first > 64 ? 256 : 64);
                        Node p = b.ints("pos", pos);
                        b.output(b.graph().attention("out", q, k, v, p, heads, kvHeads, headDim, 0.125f, window, softcap));
                    }));
                }
            }
        }
        return cases;
    }

    /**
     * Prompts, what tiled attention kernels take: 16, 33 and 64 tokens, from position 0 and
     * continuing a cache, with groups of 1, 4 and 8 query heads (head dims 64, 128, 64), each shape
     * and length twice, the cache type and variant (plain; a window of 24; a soft cap; sinks; all
     * three) going round; head dims 256 and 160 (tiles of 16 rows, a partial chunk of dimensions);
     * and a window over a ring of 56 rows (window + tokens - 1), 33 tokens well past its end.
     */
    static List<OpCase> promptAttention() {
        List<OpCase> cases = new ArrayList<>();
        int[][] shapes = {{4, 4, 64}, {8, 2, 128}, {8, 1, 64}}; // heads, kv heads, head dim
        int[][] prompts = {{16, 0}, {33, 40}, {64, 100}}; // tokens, first position
        DType[] caches = {DType.F32, DType.F16, DType.Q8_0, DType.Q4_0};
        String[] variants = {"plain", "window", "softcap", "sinks", "all"};
        for (int s = 0; s < shapes.length; s++) {
            for (int p = 0; p < prompts.length; p++) {
                for (int i = 3 * s + p; i < 3 * s + p + 4; i += 3) {
                    cases.add(prompt(shapes[s], prompts[p][0], prompts[p][1], caches[i % caches.length], variants[i % variants.length], 0));
                }
            }
        }
        cases.add(prompt(new int[]{4, 2, 256}, 20, 30, DType.F16, "all", 0));
        cases.add(prompt(new int[]{4, 1, 160}, 17, 0, DType.Q8_0, "plain", 0));
        cases.add(prompt(new int[]{8, 2, 64}, 33, 200, DType.F16, "window", 56));
        cases.add(prompt(new int[]{8, 2, 64}, 33, 200, DType.Q4_0, "all", 56));
        return cases;
    }

    /** One prompt case: {@code ring} rows of cache (a ring), or 0 for rows enough for every position. */
    private static OpCase prompt(int[] shape, int t, int first, DType cache, String variant, int ring) {
        int heads = shape[0], kvHeads = shape[1], headDim = shape[2];
        boolean all = variant.equals("all");
        int window = all || variant.equals("window") ? 24 : 0;
        float softcap = all || variant.equals("softcap") ? 5f : 0f;
        boolean sinks = all || variant.equals("sinks");
        int rows = ring > 0 ? ring : first + t > 64 ? 256 : 64;
        String name = "attention heads=" + heads + " kv_heads=" + kvHeads + " head_dim=" + headDim + " cache=" + lower(cache)
                + (ring > 0 ? " rows=" + ring + " (a ring)" : "") + " " + variant + " prompt t=" + t + " pos=" + first;
        return new OpCase("attention", cache, name, MATMUL, b -> {
            int[] pos = new int[t];
            for (int i = 0; i < t; i++) pos[i] = first + i;
            Node q = b.input("q", DType.F32, 3, (long) heads * headDim, t);
            Node k = b.state("k_cache", cache, (long) kvHeads * headDim, rows);
            Node v = b.state("v_cache", cache, (long) kvHeads * headDim, rows);
            Node sk = null;
            if (sinks) {
                float[] values = new float[heads];
                for (int h = 0; h < heads; h++) values[h] = new float[]{3f, -1f, 0.5f, 6f, -30f, 1.5f, 0f, 2f}[h % 8];
                sk = b.weight("sinks", DType.F32, values, heads);
            }
            b.output(b.graph().attention("out", q, k, v, b.ints("pos", pos), heads, kvHeads, headDim, (float) (1 / Math.sqrt(headDim)),
                    window, softcap, sk));
        });
    }

    /**
     * Q8_0 and Q4_0 caches: kv_store quantizes each row in blocks of 32 (a backend's rounding may
     * differ from the reference codec's at an exact tie, one quant step in a rare element), and
     * attention reads the blocks decoded: head dims of 64 (two blocks per head), 32 (one) and 8
     * (four heads share a block, as in stories260K), a batch, a window over a ring.
     */
    static List<OpCase> quantizedCaches() {
        List<OpCase> cases = new ArrayList<>();
        for (DType cache : new DType[]{DType.Q8_0, DType.Q4_0}) {
            for (int[] pos : new int[][]{{37}, {10, 11, 12, 13}, {45, 46}}) {
                String name = "kv_store cache=" + lower(cache) + " kv=128 rows=40 t=" + pos.length + " pos=" + Arrays.toString(pos).replace(" ", "");
                cases.add(new OpCase("kv_store", cache, name, MATH, b -> {
                    Node c = b.state("cache", cache, 128, 40);
                    Node src = b.input("src", DType.F32, 2, 128, pos.length);
                    b.output(b.graph().kvStore("stored", c, src, b.ints("pos", pos)));
                }));
            }
            for (int[] shape : new int[][]{{8, 2, 64}, {8, 4, 32}, {8, 4, 8}}) {
                int heads = shape[0], kvHeads = shape[1], headDim = shape[2];
                for (int[] tp : new int[][]{{1, 45}, {6, 17}}) {
                    int t = tp[0], first = tp[1];
                    String name = "attention heads=" + heads + " kv_heads=" + kvHeads + " head_dim=" + headDim
                            + " cache=" + lower(cache) + " t=" + t + " pos=" + first;
                    cases.add(new OpCase("attention", cache, name, MATMUL, b -> {
                        int[] pos = new int[t];
                        for (int i = 0; i < t; i++) pos[i] = first + i;
                        Node q = b.input("q", DType.F32, 3, (long) heads * headDim, t);
                        Node k = b.state("k_cache", cache, (long) kvHeads * headDim, 64);
                        Node v = b.state("v_cache", cache, (long) kvHeads * headDim, 64);
                        b.output(b.graph().attention("out", q, k, v, b.ints("pos", pos), heads, kvHeads, headDim, (float) (1 / Math.sqrt(headDim))));
                    }));
                }
            }
            String name = "attention heads=4 kv_heads=2 head_dim=64 cache=" + lower(cache) + " rows=24 (a ring) window=8 t=6 pos=50";
            cases.add(new OpCase("attention", cache, name, MATMUL, b -> {
                int[] pos = {50, 51, 52, 53, 54, 55};
                Node q = b.input("q", DType.F32, 3, 4L * 64, 6);
                Node k = b.state("k_cache", cache, 2L * 64, 24);
                Node v = b.state("v_cache", cache, 2L * 64, 24);
                b.output(b.graph().attention("out", q, k, v, b.ints("pos", pos), 4, 2, 64, 0.125f, 8, 0f));
            }));
        }
        return cases;
    }

    /**
     * A sliding-window layer's cache as a ring of R rows, position p at row p % R: kv_store past
     * the end and attention over positions that wrapped, one token and a batch.
     */
    static List<OpCase> rings() {
        List<OpCase> cases = new ArrayList<>();
        for (DType cache : new DType[]{DType.F32, DType.F16}) {
            for (int[] pos : new int[][]{{37}, {45, 46, 47, 48}}) {
                String name = "kv_store cache=" + lower(cache) + " kv=128 rows=16 (a ring) t=" + pos.length + " pos=" + Arrays.toString(pos).replace(" ", "");
                cases.add(new OpCase("kv_store", cache, name, EXACT, b -> {
                    Node c = b.state("cache", cache, 128, 16);
                    Node src = b.input("src", DType.F32, 2, 128, pos.length);
                    b.output(b.graph().kvStore("stored", c, src, b.ints("pos", pos)));
                }));
            }
            for (int[] tp : new int[][]{{1, 70}, {6, 50}}) {
                int t = tp[0], first = tp[1];
                String name = "attention heads=4 kv_heads=2 head_dim=64 cache=" + lower(cache) + " rows=24 (a ring) window=8 t=" + t + " pos=" + first;
                cases.add(new OpCase("attention", cache, name, MATMUL, b -> {
                    int[] pos = new int[t];
                    for (int i = 0; i < t; i++) pos[i] = first + i;
                    Node q = b.input("q", DType.F32, 3, 4L * 64, t);
                    Node k = b.state("k_cache", cache, 2L * 64, 24);
                    Node v = b.state("v_cache", cache, 2L * 64, 24);
                    b.output(b.graph().attention("out", q, k, v, b.ints("pos", pos), 4, 2, 64, 0.125f, 8, 0f));
                }));
            }
        }
        return cases;
    }

    /** layer_norm with and without weight and bias; rms_norm of each head through two reshapes. */
    static List<OpCase> norms() {
        List<OpCase> cases = new ArrayList<>();
        for (int[] kt : new int[][]{{256, 7}, {100, 1}}) {
            for (int variant = 0; variant < 3; variant++) {
                int k = kt[0], t = kt[1];
                boolean weight = variant >= 1, bias = variant == 2;
                cases.add(new OpCase("layer_norm", null, "layer_norm k=" + k + " t=" + t + " weight=" + (weight ? "yes" : "no")
                        + " bias=" + (bias ? "yes" : "no"), MATH, b -> {
                    Node x = b.input("x", DType.F32, 3, k, t);
                    Node w = weight ? b.weight("norm", DType.F32, k) : null;
                    Node bs = bias ? b.weight("bias", DType.F32, k) : null;
                    b.output(b.graph().layerNorm("y", x, w, bs, 1e-5f));
                }));
            }
        }
        for (int t : new int[]{1, 5}) {
            cases.add(new OpCase("reshape", null, "rms_norm per head head_dim=64 heads=4 t=" + t, MATH, b -> {
                Graph g = b.graph();
                Node x = g.scale("x1", b.input("x", DType.F32, 3, 256, t), 1f);
                Node heads = g.reshape("heads", x, 64, 4L * t);
                Node normed = g.rmsNorm("normed", heads, b.weight("head_norm", DType.F32, 64), 1e-6f);
                b.output(g.reshape("y", normed, 256, t));
            }));
        }
        return cases;
    }

    /** The mixture-of-experts ops: top_k, gather, mul_mat_id in every weight type (one token and several), weighted_sum. */
    static List<OpCase> experts() {
        List<OpCase> cases = new ArrayList<>();
        for (int[] ekt : new int[][]{{8, 2, 5}, {64, 8, 3}, {4, 4, 1}}) {
            int e = ekt[0], k = ekt[1], t = ekt[2];
            cases.add(new OpCase("top_k", null, "top_k e=" + e + " k=" + k + " t=" + t, EXACT, b ->
                    b.output(b.graph().topK("ids", b.input("x", DType.F32, 4, e, t), k))));
        }
        cases.add(new OpCase("gather", null, "gather e=8 k=3 t=4", EXACT, b -> {
            Node x = b.input("x", DType.F32, 4, 8, 4);
            Node ids = b.ints("ids", new long[]{3, 4}, 7, 0, 3, 1, 1, 2, 6, 5, 4, 0, 7, 2);
            b.output(b.graph().gather("y", x, ids));
        }));
        for (DType type : weightTypes()) {
            int kk = type.blockSize >= 256 ? 256 : type.blockSize > 1 ? 96 : 100;
            for (int t : new int[]{1, 5}) {
                for (boolean perSlot : new boolean[]{false, true}) {
                    String weights = "mul_mat_id type=" + lower(type) + " k=" + kk + " n=40 experts=6";
                    String name = weights + " used=2 t=" + t + " x=" + (perSlot ? "per_expert" : "per_token");
                    cases.add(new OpCase("mul_mat_id", type, name, weights, MATMUL, b -> {
                        Node w = b.weight("w", type, kk, 40, 6);
                        int[] ids = new int[2 * t];
                        for (int i = 0; i < ids.length; i++) ids[i] = (i * 5 + 3 + i / 2) % 6;
                        Node x = b.input("x", kk, perSlot ? 2L * t : t);
                        b.output(b.graph().mulMatId("y", w, x, b.ints("ids", new long[]{2, t}, ids)));
                    }));
                }
            }
        }
        cases.add(new OpCase("weighted_sum", null, "weighted_sum n=128 k=3 t=5", MATH, b -> {
            Node y = b.input("y", 128, 15);
            Node w = b.input("w", DType.F32, 1, 3, 5);
            b.output(b.graph().weightedSum("out", y, w));
        }));
        return cases;
    }

    /** What gpt-oss adds: attention sinks (with and without a window), YaRN rope, the clamped SwiGLU and per-expert biases. */
    static List<OpCase> gptOss() {
        List<OpCase> cases = new ArrayList<>();
        int heads = 4, kvHeads = 2, headDim = 64;
        for (int window : new int[]{0, 8}) {
            for (int[] tp : new int[][]{{1, 3}, {1, 40}, {6, 17}, {12, 150}}) {
                int t = tp[0], first = tp[1];
                String name = "attention heads=4 kv_heads=2 head_dim=64 cache=f32 window=" + window + " sinks=yes t=" + t + " pos=" + first;
                cases.add(new OpCase("attention", DType.F32, name, MATMUL, b -> {
                    int[] pos = new int[t];
                    for (int i = 0; i < t; i++) pos[i] = first + i;
                    Node q = b.input("q", DType.F32, 3, (long) heads * headDim, t);
                    Node k = b.state("k_cache", DType.F32, (long) kvHeads * headDim, first > 64 ? 256 : 64);
                    Node v = b.state("v_cache", DType.F32, (long) kvHeads * headDim, first > 64 ? 256 : 64);
                    float[] sinks = {3f, -1f, 0.5f, 6f};
                    Node sk = b.weight("sinks", DType.F32, sinks, heads);
                    b.output(b.graph().attention("out", q, k, v, b.ints("pos", pos), heads, kvHeads, headDim, 0.125f, window, 0f, sk));
                }));
            }
        }
        for (RopeMode mode : RopeMode.values()) {
            var yarn = new dev.hearth.runtime.graph.Op.Yarn(4096, 1f, 1f, 32f, 1f);
            cases.add(new OpCase("rope", null, "rope mode=" + mode.name().toLowerCase() + " head_dim=32 yarn=32x base=150000 t=5", MATH, b -> {
                Node x = b.input("x", DType.F32, 2, 32 * 4, 5);
                Node pos = b.ints("pos", 0, 1, 7, 100, 2047);
                b.output(b.graph().rope("y", x, pos, 32, 32, mode, 150000f, 1f / 32, null, yarn));
            }));
        }
        cases.add(new OpCase("swiglu_oai", null, "swiglu_oai k=256 t=7 alpha=1.702 limit=7", MATH, b -> {
            Node g = b.input("gate", DType.F32, 12, 256, 7);
            Node u = b.input("up", DType.F32, 12, 256, 7);
            b.output(b.graph().swigluOai("y", g, u, 1.702f, 7f));
        }));
        cases.add(new OpCase("add_id", null, "add_id n=64 experts=6 used=2 t=3", EXACT, b -> {
            Node y = b.input("y", 64, 6);
            Node bias = b.weight("bias", DType.F32, 64, 6);
            b.output(b.graph().addId("out", y, bias, b.ints("ids", new long[]{2, 3}, 5, 0, 2, 3, 1, 5)));
        }));
        return cases;
    }

    static List<OpCase> elementwise() {
        List<OpCase> cases = new ArrayList<>();
        cases.add(new OpCase("swiglu", null, "swiglu k=256 t=7", MATH, b -> {
            Node g = b.input("gate", DType.F32, 6, 256, 7);
            Node u = b.input("up", 256, 7);
            b.output(b.graph().swiglu("y", g, u));
        }));
        cases.add(new OpCase("geglu", null, "geglu k=256 t=7", MATH, b -> {
            Node g = b.input("gate", DType.F32, 4, 256, 7);
            Node u = b.input("up", 256, 7);
            b.output(b.graph().geglu("y", g, u));
        }));
        for (float cap : new float[]{30f, 2f}) {
            cases.add(new OpCase("softcap", null, "softcap k=512 t=3 cap=" + cap, MATH, b ->
                    b.output(b.graph().softcap("y", b.input("x", DType.F32, 8, 512, 3), cap))));
        }
        for (String op : new String[]{"add", "mul"}) {
            for (int bRows : new int[]{7, 1}) {
                cases.add(new OpCase(op, null, op + " k=256 t=7 b_rows=" + bRows, EXACT, b -> {
                    Node x = b.input("a", 256, 7);
                    Node y = b.input("b", 256, bRows);
                    Graph g = b.graph();
                    b.output(op.equals("add") ? g.add("y", x, y) : g.mul("y", x, y));
                }));
            }
        }
        cases.add(new OpCase("scale", null, "scale k=256 t=7 s=0.125", EXACT, b ->
                b.output(b.graph().scale("y", b.input("x", 256, 7), 0.125f))));
        for (int[] kt : new int[][]{{100, 7}, {1000, 2}}) {
            cases.add(new OpCase("softmax", null, "softmax k=" + kt[0] + " t=" + kt[1], MATH, b ->
                    b.output(b.graph().softmax("y", b.input("x", DType.F32, 8, kt[0], kt[1])))));
        }
        return cases;
    }

    static List<OpCase> convert() {
        List<OpCase> cases = new ArrayList<>();
        for (DType half : new DType[]{DType.F16, DType.BF16}) {
            if (!Codecs.has(half)) continue;
            cases.add(new OpCase("convert", half, "convert from=f32 to=" + lower(half) + " k=256 t=7", EXACT, b ->
                    b.output(b.graph().convert("y", b.input("x", DType.F32, 4, 256, 7), half))));
            cases.add(new OpCase("convert", half, "convert from=" + lower(half) + " to=f32 k=256 t=7", EXACT, b ->
                    b.output(b.graph().convert("y", b.input("x", half, 4, 256, 7), DType.F32))));
        }
        return cases;
    }
}
