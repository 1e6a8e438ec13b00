package dev.hearth.llama;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.gguf.GgufFile;
import dev.hearth.runtime.gguf.GgufTensorInfo;
import dev.hearth.runtime.gguf.GgufValue;
import dev.hearth.runtime.gguf.GgufWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Model files whose hyper-parameters lie: each is refused with one line naming the key, its value
 * and what was expected, before any weight is read.
 */
class ModelConfigCheckTest {
    @TempDir
    Path dir;

    private static Path stories() {
        Path p = Path.of(System.getProperty("hearth.testdata", "../testdata"), "stories260K-f32.gguf");
        if (!Files.isRegularFile(p)) throw new AssertionError("test data file " + p.toAbsolutePath() + " is missing");
        return p;
    }

    /** stories260K with its metadata changed by {@code edit} and only the tensors {@code keep} accepts. */
    private Path damaged(Consumer<GgufWriter> edit, Predicate<String> keep) {
        Path out = dir.resolve("damaged.gguf");
        try (GgufFile f = GgufFile.open(stories())) {
            GgufWriter w = new GgufWriter(f.metadata());
            for (GgufTensorInfo t : f.tensorList()) if (keep.test(t.name())) w.add(t.desc(), f.data(t));
            edit.accept(w);
            w.write(out);
        }
        return out;
    }

    private String refused(Consumer<GgufWriter> edit, Predicate<String> keep, String... said) {
        Path p = damaged(edit, keep);
        String m;
        try (GgufFile f = GgufFile.open(p)) {
            m = assertThrows(HearthException.class, () -> ModelConfig.fromGguf(f)).getMessage();
        }
        assertTrue(m.startsWith(p + ": "), m);
        assertFalse(m.contains("\n"), m);
        for (String s : said) assertTrue(m.contains(s), "says '" + s + "': " + m);
        return m;
    }

    private String refused(String key, GgufValue value, String... said) {
        return refused(w -> w.put(key, value), n -> true, said);
    }

    @Test
    void theRealFileIsAccepted() {
        try (GgufFile f = GgufFile.open(damaged(w -> { }, n -> true))) {
            ModelConfig c = ModelConfig.fromGguf(f);
            assertEquals(5, c.layers());
        }
    }

    @Test
    void epsilonNotSmallAndPositive() {
        for (float eps : new float[]{Float.NaN, Float.POSITIVE_INFINITY, -1e-5f, 0f}) {
            refused("llama.attention.layer_norm_rms_epsilon", GgufValue.f32(eps),
                    "llama.attention.layer_norm_rms_epsilon = " + eps, "expected");
        }
    }

    @Test
    void ropeDimensionCountZeroOddOrTooLarge() {
        for (int n : new int[]{0, 3, 10}) refused("llama.rope.dimension_count", GgufValue.u32(n), "llama.rope.dimension_count = " + n, "expected");
    }

    @Test
    void blockCountFewerThanTheFileHolds() {
        refused("llama.block_count", GgufValue.u32(4), "llama.block_count = 4", "5");
    }

    @Test
    void blockCountMoreThanTheFileHolds() {
        refused("llama.block_count", GgufValue.u32(6), "llama.block_count = 6", "5");
    }

    @Test
    void aBlockMissingInTheMiddle() {
        refused(w -> { }, n -> !n.startsWith("blk.2."), "llama.block_count = 5", "block 2");
    }

    @Test
    void otherKeysOutOfRange() {
        refused("llama.context_length", GgufValue.u32(0), "llama.context_length = 0");
        refused("llama.attention.head_count_kv", GgufValue.u32(3), "llama.attention.head_count_kv = 3");
        refused("llama.attention.head_count_kv", GgufValue.u32(16), "llama.attention.head_count_kv = 16");
        refused("llama.attention.head_count", GgufValue.u32(12), "llama.embedding_length = 64", "head_count = 12");
        refused("llama.embedding_length", GgufValue.u32(128), "llama.embedding_length = 128", "token_embd.weight");
        refused("llama.rope.freq_base", GgufValue.f32(Float.NaN), "llama.rope.freq_base = NaN");
        refused(w -> w.put("llama.rope.scaling.type", GgufValue.of("linear")).put("llama.rope.scaling.factor", GgufValue.f32(-2f)),
                n -> true, "llama.rope.scaling.factor = -2.0");
    }
}
