package dev.hearth.llama;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.gguf.GgufFile;
import dev.hearth.runtime.gguf.GgufTensorInfo;
import dev.hearth.runtime.gguf.GgufValue;
import dev.hearth.runtime.gguf.GgufWriter;
import dev.hearth.runtime.tensor.TensorDesc;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Files an architecture cannot run: an unknown architecture, a missing tensor, a tensor of the
 * wrong shape, expert counts the tensors contradict. Each is one line naming what is wrong.
 */
class ModelWeightsErrorsTest {
    @TempDir
    Path dir;

    private static Path arch(String name) {
        Path p = Path.of(System.getProperty("hearth.testdata", "../testdata"), "arch", name + "-tiny-f32.gguf");
        if (!Files.isRegularFile(p)) throw new AssertionError("test data file " + p.toAbsolutePath() + " is missing");
        return p;
    }

    /** A tiny model with its metadata changed by {@code edit}, its tensors kept where {@code keep} says, {@code reshaped} given another shape. */
    private Path damaged(String model, Consumer<GgufWriter> edit, Predicate<String> keep, String reshaped) {
        Path out = dir.resolve(model + "-damaged.gguf");
        try (GgufFile f = GgufFile.open(arch(model))) {
            GgufWriter w = new GgufWriter(f.metadata());
            for (GgufTensorInfo t : f.tensorList()) {
                if (!keep.test(t.name())) continue;
                TensorDesc d = t.desc();
                if (t.name().equals(reshaped)) d = new TensorDesc(d.name(), d.type(), new long[]{d.ne(1), d.ne(0)}); // same bytes, transposed shape
                w.add(d, f.data(t));
            }
            edit.accept(w);
            w.write(out);
        }
        return out;
    }

    private static String refused(Path p, String... said) {
        String m;
        try (GgufFile f = GgufFile.open(p)) {
            m = assertThrows(HearthException.class, () -> new ModelWeights(f, ModelConfig.fromGguf(f))).getMessage();
        }
        assertFalse(m.contains("\n"), m);
        for (String s : said) assertTrue(m.contains(s), "says '" + s + "': " + m);
        return m;
    }

    @Test
    void anUnknownArchitectureNamesTheSupportedOnes() {
        refused(damaged("qwen2", w -> w.put("general.architecture", GgufValue.of("mamba")), n -> true, null),
                "architecture 'mamba' is not supported", "qwen2", "gemma3", "phi3", "command-r", "qwen3moe", "gpt-oss");
    }

    @Test
    void aMissingTensorIsNamed() {
        refused(damaged("qwen2", w -> { }, n -> !n.equals("blk.2.attn_k.bias"), null), "tensor blk.2.attn_k.bias is missing", "[64]");
        refused(damaged("phi3", w -> { }, n -> !n.equals("blk.1.attn_qkv.weight"), null), "blk.1.attn_q.weight", "missing");
        refused(damaged("gemma2", w -> { }, n -> !n.equals("blk.3.post_ffw_norm.weight"), null), "blk.3.post_ffw_norm.weight", "missing");
    }

    @Test
    void aTensorOfTheWrongShapeSaysBothShapes() {
        refused(damaged("qwen3", w -> { }, n -> true, "blk.0.attn_q.weight"), "tensor blk.0.attn_q.weight has shape [256, 128]",
                "expected [128, 256]");
        refused(damaged("llama-moe", w -> { }, n -> true, "blk.1.ffn_gate_inp.weight"), "blk.1.ffn_gate_inp.weight has shape [4, 128]",
                "expected [128, 4]");
    }

    @Test
    void expertCountsTheTensorsContradictAreRefused() {
        refused(damaged("qwen3moe", w -> w.put("qwen3moe.expert_count", GgufValue.u32(16)), n -> true, null),
                "blk.0.ffn_gate_inp.weight", "expected [128, 16]");
        refused(damaged("llama-moe", w -> w.put("llama.expert_used_count", GgufValue.u32(5)), n -> true, null),
                "llama.expert_used_count = 5", "1..4");
        refused(damaged("gpt-oss", w -> w.put("gpt-oss.expert_used_count", GgufValue.u32(0)), n -> true, null),
                "gpt-oss.expert_used_count = 0");
    }
}
