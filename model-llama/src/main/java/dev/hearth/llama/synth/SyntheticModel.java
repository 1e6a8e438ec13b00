package dev.hearth.llama.synth;

import dev.hearth.runtime.HearthException;
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
 * Writes LLaMA models of real shapes with seeded random weights, for benchmarks (speed does not
 * depend on the values). Matrices are filled from a pool of blocks quantized from Gaussian
 * values with the type's own codec, so every block is a valid one of its type; norms are 1.
 */
public final class SyntheticModel {
    /** A model shape. */
    public record Shape(String name, int dim, int layers, int ffn, int heads, int kvHeads, int vocab, boolean tied,
                        int context, float ropeBase) {
    }

    public static final Map<String, Shape> SHAPES = new LinkedHashMap<>();

    static {
        for (Shape s : List.of(
                new Shape("tiny", 64, 2, 192, 4, 2, 512, true, 512, 10000f),
                new Shape("llama-3.2-1b", 2048, 16, 8192, 32, 8, 128256, true, 131072, 500000f),
                new Shape("llama-3.2-3b", 3072, 28, 8192, 24, 8, 128256, true, 131072, 500000f),
                new Shape("llama-3-8b", 4096, 32, 14336, 32, 8, 128256, false, 8192, 500000f))) {
            SHAPES.put(s.name(), s);
        }
    }

    private SyntheticModel() {
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
        GgufWriter w = new GgufWriter();
        String a = "llama.";
        w.put("general.architecture", GgufValue.of("llama"));
        w.put("general.name", GgufValue.of("synthetic " + shape.name() + " " + type.name().toLowerCase()));
        w.put("general.file_type", GgufValue.u32(fileType(type)));
        w.put(a + "context_length", GgufValue.u32(shape.context()));
        w.put(a + "embedding_length", GgufValue.u32(shape.dim()));
        w.put(a + "block_count", GgufValue.u32(shape.layers()));
        w.put(a + "feed_forward_length", GgufValue.u32(shape.ffn()));
        w.put(a + "attention.head_count", GgufValue.u32(shape.heads()));
        w.put(a + "attention.head_count_kv", GgufValue.u32(shape.kvHeads()));
        w.put(a + "rope.freq_base", GgufValue.f32(shape.ropeBase()));
        w.put(a + "attention.layer_norm_rms_epsilon", GgufValue.f32(1e-5f));
        w.put(a + "rope.dimension_count", GgufValue.u32(shape.dim() / shape.heads()));
        w.put(a + "vocab_size", GgufValue.u32(shape.vocab()));
        vocabulary(w, shape, vocab);
        int kv = shape.dim() / shape.heads() * shape.kvHeads();
        Pool pool = new Pool(type, seed);
        matrix(w, "token_embd.weight", type, pool, shape.dim(), shape.vocab());
        for (int l = 0; l < shape.layers(); l++) {
            String p = "blk." + l + ".";
            ones(w, p + "attn_norm.weight", shape.dim());
            matrix(w, p + "attn_q.weight", type, pool, shape.dim(), shape.dim());
            matrix(w, p + "attn_k.weight", type, pool, shape.dim(), kv);
            matrix(w, p + "attn_v.weight", type, pool, shape.dim(), kv);
            matrix(w, p + "attn_output.weight", type, pool, shape.dim(), shape.dim());
            ones(w, p + "ffn_norm.weight", shape.dim());
            matrix(w, p + "ffn_gate.weight", type, pool, shape.dim(), shape.ffn());
            matrix(w, p + "ffn_up.weight", type, pool, shape.dim(), shape.ffn());
            matrix(w, p + "ffn_down.weight", shape.ffn() % type.blockSize == 0 ? type : DType.F16, pool, shape.ffn(), shape.dim());
        }
        ones(w, "output_norm.weight", shape.dim());
        if (!shape.tied()) matrix(w, "output.weight", type, pool, shape.dim(), shape.vocab());
        w.write(out);
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
        DType t = k % type.blockSize == 0 ? type : DType.F16;
        TensorDesc d = TensorDesc.of(name, t, k, n);
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
