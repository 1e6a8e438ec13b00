package dev.hearth.llama.synth;

import dev.hearth.llama.Architecture;
import dev.hearth.llama.Architectures;
import dev.hearth.llama.ModelConfig;
import dev.hearth.llama.ModelWeights;
import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.dtype.Codecs;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.gguf.GgufArray;
import dev.hearth.runtime.gguf.GgufFile;
import dev.hearth.runtime.gguf.GgufValue;
import dev.hearth.runtime.gguf.GgufValueType;
import dev.hearth.runtime.gguf.GgufWriter;
import dev.hearth.runtime.tensor.TensorDesc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes models of real shapes, of any registered architecture, with seeded random weights, for
 * benchmarks (speed does not depend on the values). The tensors are those the architecture lists
 * ({@link Architecture#weights}), so a synthetic file has exactly what a real one of that shape
 * has. Matrices are filled from a pool of blocks quantized from Gaussian values with the type's
 * own codec, so every block is a valid one of its type; norms are 1.
 */
public final class SyntheticModel {
    /**
     * A model shape: the architecture, its sizes, and any other metadata the architecture reads
     * ({@code extra}, keys without the architecture's prefix).
     */
    public record Shape(String name, String arch, int dim, int layers, int ffn, int heads, int kvHeads, int headDim, int vocab,
                        boolean tied, int context, float ropeBase, Map<String, GgufValue> extra) {
        Shape(String name, int dim, int layers, int ffn, int heads, int kvHeads, int vocab, boolean tied, int context, float ropeBase) {
            this(name, "llama", dim, layers, ffn, heads, kvHeads, dim / heads, vocab, tied, context, ropeBase, Map.of());
        }
    }

    public static final Map<String, Shape> SHAPES = new LinkedHashMap<>();

    static {
        Map<String, GgufValue> gemma2 = Map.of("attn_logit_softcapping", GgufValue.f32(50f), "final_logit_softcapping", GgufValue.f32(30f),
                "attention.sliding_window", GgufValue.u32(4096));
        for (Shape s : List.of(
                new Shape("tiny", 64, 2, 192, 4, 2, 512, true, 512, 10000f),
                new Shape("llama-3.2-1b", 2048, 16, 8192, 32, 8, 128256, true, 131072, 500000f),
                new Shape("llama-3.2-3b", 3072, 28, 8192, 24, 8, 128256, true, 131072, 500000f),
                new Shape("llama-3-8b", 4096, 32, 14336, 32, 8, 128256, false, 8192, 500000f),
                new Shape("qwen2.5-1.5b", "qwen2", 1536, 28, 8960, 12, 2, 128, 151936, true, 32768, 1e6f, Map.of()),
                new Shape("qwen2.5-7b", "qwen2", 3584, 28, 18944, 28, 4, 128, 152064, false, 32768, 1e6f, Map.of()),
                new Shape("qwen3-0.6b", "qwen3", 1024, 28, 3072, 16, 8, 128, 151936, true, 40960, 1e6f, Map.of()),
                new Shape("qwen3-8b", "qwen3", 4096, 36, 12288, 32, 8, 128, 151936, false, 40960, 1e6f, Map.of()),
                new Shape("gemma-2-2b", "gemma2", 2304, 26, 9216, 8, 4, 256, 256000, true, 8192, 1e4f, gemma2),
                new Shape("gemma-3-1b", "gemma3", 1152, 26, 6912, 4, 1, 256, 262144, true, 32768, 1e6f,
                        Map.of("attention.sliding_window", GgufValue.u32(512), "attention.sliding_window_pattern", GgufValue.u32(6),
                                "rope.freq_base_swa", GgufValue.f32(1e4f))),
                new Shape("gemma-3-4b", "gemma3", 2560, 34, 10240, 8, 4, 256, 262208, true, 131072, 1e6f,
                        Map.of("attention.sliding_window", GgufValue.u32(1024), "attention.sliding_window_pattern", GgufValue.u32(6),
                                "rope.freq_base_swa", GgufValue.f32(1e4f))),
                new Shape("phi-3-mini", "phi3", 3072, 32, 8192, 32, 32, 96, 32064, false, 4096, 1e4f, Map.of()),
                new Shape("mixtral-8x7b", "llama", 4096, 32, 14336, 32, 8, 128, 32000, false, 32768, 1e6f,
                        Map.of("expert_count", GgufValue.u32(8), "expert_used_count", GgufValue.u32(2))),
                new Shape("qwen3-30b-a3b", "qwen3moe", 2048, 48, 6144, 32, 4, 128, 151936, false, 40960, 1e6f, qwen3moe(128)),
                // Qwen3-30B-A3B's width with 16 layers and 64 experts: a mixture of experts that fits a small machine
                new Shape("qwen3moe-16l-64e", "qwen3moe", 2048, 16, 6144, 32, 4, 128, 151936, false, 40960, 1e6f, qwen3moe(64)),
                new Shape("gpt-oss-20b", "gpt-oss", 2880, 24, 2880, 64, 8, 64, 201088, false, 131072, 150000f,
                        Map.of("expert_count", GgufValue.u32(32), "expert_used_count", GgufValue.u32(4),
                                "expert_feed_forward_length", GgufValue.u32(2880), "attention.sliding_window", GgufValue.u32(128),
                                "rope.scaling.type", GgufValue.of("yarn"), "rope.scaling.factor", GgufValue.f32(32f),
                                "rope.scaling.original_context_length", GgufValue.u32(4096))),
                new Shape("command-r-35b", "command-r", 8192, 40, 22528, 64, 64, 128, 256000, true, 131072, 8e6f,
                        Map.of("logit_scale", GgufValue.f32(0.0625f))))) {
            SHAPES.put(s.name(), s);
        }
    }

    private SyntheticModel() {
    }

    private static Map<String, GgufValue> qwen3moe(int experts) {
        return Map.of("expert_count", GgufValue.u32(experts), "expert_used_count", GgufValue.u32(8),
                "expert_feed_forward_length", GgufValue.u32(768));
    }

    private static int extraInt(Shape s, String key) {
        GgufValue v = s.extra().get(key);
        return v == null ? 0 : ((Number) v.value()).intValue();
    }

    public static Shape shape(String name) {
        Shape s = SHAPES.get(name);
        if (s == null) throw new HearthException("unknown shape '" + name + "' (shapes: " + String.join(", ", SHAPES.keySet()) + ")");
        return s;
    }

    public static DType type(String name) {
        DType t = switch (name.toLowerCase()) {
            case "q4_0" -> DType.Q4_0;
            case "q8_0" -> DType.Q8_0;
            case "q4_k" -> DType.Q4_K;
            case "q6_k" -> DType.Q6_K;
            case "f16" -> DType.F16;
            case "f32" -> DType.F32;
            default -> null;
        };
        if (t == null) throw new HearthException("unknown type '" + name + "' (types: q4_0, q8_0, q4_k, q6_k, f16, f32)");
        return t;
    }

    /**
     * Writes a model of {@code shape} with matrices of {@code type} to {@code out}. The vocabulary
     * comes from {@code vocab} (a GGUF file with tokenizer keys), or is a synthetic one of the
     * shape's size (byte tokens plus fillers) where null.
     */
    public static void write(Shape shape, DType type, Path vocab, long seed, Path out) {
        Architecture arch = Architectures.get(shape.arch());
        if (arch == null) throw new HearthException("shape " + shape.name() + ": architecture " + shape.arch() + " is not registered");
        GgufWriter w = new GgufWriter();
        String a = shape.arch() + ".";
        w.put("general.architecture", GgufValue.of(shape.arch()));
        w.put("general.name", GgufValue.of("synthetic " + shape.name() + " " + type.name().toLowerCase()));
        w.put("general.file_type", GgufValue.u32(fileType(type)));
        w.put(a + "context_length", GgufValue.u32(shape.context()));
        w.put(a + "embedding_length", GgufValue.u32(shape.dim()));
        w.put(a + "block_count", GgufValue.u32(shape.layers()));
        w.put(a + "feed_forward_length", GgufValue.u32(shape.ffn()));
        w.put(a + "attention.head_count", GgufValue.u32(shape.heads()));
        w.put(a + "attention.head_count_kv", GgufValue.u32(shape.kvHeads()));
        if (shape.headDim() != shape.dim() / shape.heads()) {
            w.put(a + "attention.key_length", GgufValue.u32(shape.headDim()));
            w.put(a + "attention.value_length", GgufValue.u32(shape.headDim()));
        }
        w.put(a + "rope.freq_base", GgufValue.f32(shape.ropeBase()));
        w.put(a + (shape.arch().equals("command-r") ? "attention.layer_norm_epsilon" : "attention.layer_norm_rms_epsilon"), GgufValue.f32(1e-5f));
        w.put(a + "rope.dimension_count", GgufValue.u32(shape.headDim()));
        w.put(a + "vocab_size", GgufValue.u32(shape.vocab()));
        for (var e : shape.extra().entrySet()) w.put(a + e.getKey(), e.getValue());
        vocabulary(w, shape, vocab);
        Pool pool = new Pool(type, seed);
        ModelConfig c = new ModelConfig(arch, shape.dim(), shape.layers(), shape.ffn(), shape.heads(), shape.kvHeads(), shape.headDim(),
                shape.headDim(), shape.context(), shape.vocab(), 1e-5f, shape.ropeBase(), 1f, Op.RopeMode.NORMAL, shape.tied(), false,
                new ModelConfig.Features(0, 0, 0, 0, 0, 0, 0, 0, extraInt(shape, "expert_count"), extraInt(shape, "expert_used_count"),
                        extraInt(shape, "expert_feed_forward_length") > 0 ? extraInt(shape, "expert_feed_forward_length") : shape.ffn()));
        for (var t : tensors(c).entrySet()) {
            long[] ne = t.getValue();
            if (ne.length == 1) ones(w, t.getKey(), (int) ne[0]);
            else if (t.getKey().endsWith("ffn_gate_inp.weight") || t.getKey().endsWith(".bias")) {
                matrix(w, t.getKey(), DType.F32, new Pool(DType.F32, 7), ne); // routers and biases stay F32, as converters write them
            }
            else matrix(w, t.getKey(), type, pool, ne);
        }
        w.write(out);
    }

    /** The file tensors of a model of config {@code c} and their shapes, as its architecture lists them (fused tensors whole). */
    static Map<String, long[]> tensors(ModelConfig c) {
        Map<String, long[]> out = new LinkedHashMap<>();
        c.architecture().weights(c, new ModelWeights.Table() {
            @Override
            public ModelConfig config() {
                return c;
            }

            @Override
            public void need(String name, long... ne) {
                out.put(name, ne);
            }

            @Override
            public boolean optional(String name, long... ne) {
                return false; // what real files of these shapes leave out
            }

            @Override
            public boolean has(String name) {
                return true; // fused tensors are written fused, as in real files
            }

            @Override
            public void slice(String name, String source, long k, long totalRows, long first, long rows) {
                out.put(source, new long[]{k, totalRows});
            }

            @Override
            public void tiedHead() {
            }
        });
        // the embedding and the output norm first, as converters write them
        Map<String, long[]> ordered = new LinkedHashMap<>();
        for (String n : List.of(ModelWeights.EMBED)) if (out.containsKey(n)) ordered.put(n, out.get(n));
        for (var e : out.entrySet()) if (!e.getKey().equals(ModelWeights.OUT_NORM) && !e.getKey().equals(ModelWeights.OUTPUT)) ordered.putIfAbsent(e.getKey(), e.getValue());
        for (String n : List.of(ModelWeights.OUT_NORM, ModelWeights.OUTPUT)) if (out.containsKey(n)) ordered.put(n, out.get(n));
        return ordered;
    }

    private static int fileType(DType t) {
        return switch (t) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q8_0 -> 7;
            case Q4_K -> 15;
            case Q6_K -> 18;
            default -> 0;
        };
    }

    private static void ones(GgufWriter w, String name, int n) {
        TensorDesc d = TensorDesc.of(name, DType.F32, n);
        w.add(d, o -> {
            ByteBuffer b = ByteBuffer.allocate(4 * n).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) b.putFloat(1f);
            b.flip();
            o.write(b);
        });
    }

    private static void matrix(GgufWriter w, String name, DType type, Pool pool, int k, int n) {
        matrix(w, name, type, pool, new long[]{k, n});
    }

    /** A matrix, or a stack of expert matrices [k, n, experts], filled from the pool. */
    private static void matrix(GgufWriter w, String name, DType type, Pool pool, long[] ne) {
        long k = ne[0];
        DType t = k % type.blockSize == 0 ? type : DType.F16;
        TensorDesc d = TensorDesc.of(name, t, ne);
        Pool p = t == type ? pool : new Pool(t, name.hashCode());
        long seed = name.hashCode();
        w.add(d, o -> p.fill(o, seed));
    }

    /** Valid blocks of one type, from seeded Gaussian values; tensors are filled by drawing from them. */
    private static final class Pool {
        private final byte[] blocks;
        private final int blockBytes;
        private final int count;

        Pool(DType type, long seed) {
            int perBlock = type.blockSize;
            count = 4096;
            blockBytes = type.typeSize;
            SplittableRandom r = new SplittableRandom(seed);
            float[] values = new float[perBlock * count];
            for (int i = 0; i < values.length; i++) values[i] = (float) (r.nextGaussian() * 0.02);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment seg = arena.allocate((long) blockBytes * count);
                Codecs.of(type).quantizeRow(values, 0, seg, 0, values.length);
                blocks = seg.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            }
        }

        void fill(GgufWriter.TensorOutput o, long seed) throws java.io.IOException {
            SplittableRandom r = new SplittableRandom(seed);
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            int perChunk = (1 << 20) / blockBytes;
            long total = o.remaining() / blockBytes;
            for (long done = 0; done < total; ) {
                int n = (int) Math.min(perChunk, total - done);
                buf.clear();
                for (int i = 0; i < n; i++) buf.put(blocks, r.nextInt(count) * blockBytes, blockBytes);
                buf.flip();
                o.write(buf);
                done += n;
            }
        }
    }

    private static void vocabulary(GgufWriter w, Shape shape, Path vocab) {
        if (vocab != null) {
            try (GgufFile v = GgufFile.open(vocab)) {
                GgufArray tokens = v.getArray("tokenizer.ggml.tokens");
                if (tokens == null) throw new HearthException(vocab + ": has no tokenizer.ggml.tokens");
                if (tokens.size() != shape.vocab()) {
                    throw new HearthException(vocab + ": has " + tokens.size() + " tokens; shape " + shape.name() + " needs " + shape.vocab());
                }
                for (var e : v.metadata().entrySet()) if (e.getKey().startsWith("tokenizer.")) w.put(e.getKey(), e.getValue());
            }
            return;
        }
        List<String> toks = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        toks.add("<unk>");
        toks.add("<s>");
        toks.add("</s>");
        types.addAll(List.of(2, 3, 3));
        for (int b = 0; b < 256; b++) {
            toks.add(String.format("<0x%02X>", b));
            types.add(6);
        }
        int i = 0;
        while (toks.size() < shape.vocab()) {
            toks.add("\u2581w" + i++);
            types.add(1);
        }
        for (int t = 0; t < toks.size(); t++) scores.add(-(float) t);
        w.put("tokenizer.ggml.model", GgufValue.of("llama"));
        w.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, toks));
        w.put("tokenizer.ggml.scores", GgufValue.array(GgufValueType.FLOAT32, scores));
        w.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        w.put("tokenizer.ggml.bos_token_id", GgufValue.u32(1));
        w.put("tokenizer.ggml.eos_token_id", GgufValue.u32(2));
        w.put("tokenizer.ggml.unknown_token_id", GgufValue.u32(0));
    }
}
