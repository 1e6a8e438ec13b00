package dev.hearth.runtime.gguf;

import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.tensor.TensorDesc;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Shared pieces of the GGUF tests: the shared model folder, small files, content comparison. */
final class GgufTestSupport {
    static final List<String> MODEL_FILES = List.of("stories260K-f32.gguf", "stories260K-f32-gguf-v1.gguf",
            "stories260K-f16.gguf", "stories260K-q8_0.gguf", "stories260K-q4_0.gguf",
            "ggml-vocab-llama-spm.gguf", "ggml-vocab-llama-bpe.gguf");

    private GgufTestSupport() {
    }

    /** The repository's test data folder (system property hearth.testdata); fails where it is absent. */
    static Path models() {
        Path dir = Path.of(System.getProperty("hearth.testdata", "../testdata"));
        if (!Files.isDirectory(dir)) {
            throw new AssertionError("test data folder " + dir.toAbsolutePath() + " not found (set -Dhearth.testdata=DIR)");
        }
        return dir;
    }

    /** A file of the test data folder; fails where it is absent. */
    static Path model(String name) {
        Path p = models().resolve(name);
        if (!Files.isRegularFile(p)) throw new AssertionError("test data file " + p.toAbsolutePath() + " is missing");
        return p;
    }

    /** Metadata (order, types, values), tensor descriptors (order) and tensor bytes are equal. */
    static void assertSameContent(GgufFile expected, GgufFile actual) {
        assertEquals(new ArrayList<>(expected.metadata().entrySet()), new ArrayList<>(actual.metadata().entrySet()),
                "metadata of " + actual.path());
        List<TensorDesc> e = expected.tensorList().stream().map(GgufTensorInfo::desc).toList();
        List<TensorDesc> a = actual.tensorList().stream().map(GgufTensorInfo::desc).toList();
        assertEquals(e, a, "tensors of " + actual.path());
        for (GgufTensorInfo t : expected.tensorList()) {
            assertEquals(-1, expected.data(t).mismatch(actual.data(t.name())), "bytes of tensor " + t.name() + " in " + actual.path());
        }
    }

    static byte[] randomBytes(long seed, long n) {
        byte[] b = new byte[Math.toIntExact(n)];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    /** A small model: a few metadata keys of several types and tensors of several types and ranks. */
    static GgufWriter smallWriter() {
        Map<String, GgufValue> meta = new LinkedHashMap<>();
        meta.put("general.architecture", GgufValue.of("llama"));
        meta.put("general.name", GgufValue.of("tiny test model"));
        meta.put("llama.block_count", GgufValue.u32(2));
        meta.put("llama.rope.freq_base", GgufValue.f32(10000f));
        meta.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, List.of("<unk>", "<s>", "</s>", "a", "b")));
        meta.put("tokenizer.ggml.scores", GgufValue.array(GgufValueType.FLOAT32, List.of(0f, -1f, -2f, -3.5f, 1e-3f)));
        meta.put("tokenizer.ggml.add_bos_token", GgufValue.bool(true));
        GgufWriter w = new GgufWriter(meta);
        addRandom(w, TensorDesc.of("token_embd.weight", DType.F32, 8, 5), 1);
        addRandom(w, TensorDesc.of("blk.0.attn_q.weight", DType.Q8_0, 32, 3), 2);
        addRandom(w, TensorDesc.of("blk.0.ffn_norm.weight", DType.F16, 7), 3);
        addRandom(w, TensorDesc.of("blk.0.cube", DType.I8, 3, 2, 2, 2), 4);
        return w;
    }

    static void addRandom(GgufWriter w, TensorDesc d, long seed) {
        w.add(d, MemorySegment.ofArray(randomBytes(seed, d.bytes())));
    }

    static void assertBytes(byte[] expected, MemorySegment actual, String what) {
        assertArrayEquals(expected, actual.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), what);
    }
}
