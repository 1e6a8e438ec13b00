package dev.hearth.runtime.gguf;

import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.tensor.TensorDesc;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static dev.hearth.runtime.gguf.GgufTestSupport.model;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report of {@code hearth info}. Expected numbers come from the model's description, not from the report. */
class GgufInfoTest {
    private static List<String> lines(String s) {
        return s.lines().toList();
    }

    private static String lineStarting(String report, String prefix) {
        return report.lines().filter(l -> l.startsWith(prefix)).findFirst()
                .orElseThrow(() -> new AssertionError("no line starting with '" + prefix + "' in:\n" + report));
    }

    @Test
    void f32Model() {
        Path p = model("stories260K-f32.gguf");
        try (GgufFile f = GgufFile.open(p)) {
            String r = GgufInfo.render(f);
            assertTrue(lineStarting(r, "file").endsWith(p.toString()), r);
            assertTrue(lineStarting(r, "format").contains("GGUF version 3"));
            assertTrue(lineStarting(r, "file size").contains("1,185,344 bytes (1.13 MiB)"), r);
            assertTrue(lineStarting(r, "alignment").endsWith(" 32"));
            assertTrue(lineStarting(r, "architecture").endsWith("\"llama\""));
            assertTrue(lineStarting(r, "name").endsWith("\"tinyllamas-stories-260k\""));
            assertTrue(r.contains("  llama.embedding_length (uint32) = 64\n"), r);
            assertTrue(r.contains("  llama.attention.layer_norm_rms_epsilon (float32) = 1.0E-5\n"), r);
            assertTrue(r.contains("  tokenizer.ggml.tokens (array) = [string x 512] \"<unk>\", \"<s>\", \"</s>\", "), r);
            String tokens = lineStarting(r, "  tokenizer.ggml.tokens");
            assertEquals(5, tokens.chars().filter(c -> c == ',').count(), "five items then ...: " + tokens);
            assertTrue(tokens.endsWith(", ..."));
            // 18 keys, 48 tensors, a few headings and totals: nowhere near the 512 tokens.
            assertTrue(lines(r).size() < 18 + 48 + 25, "report has " + lines(r).size() + " lines");
            assertTrue(r.contains("metadata: 18 keys\n"));
            assertTrue(r.contains("tensors: 48\n"));
            assertTrue(r.matches("(?s).*\\n  token_embd\\.weight +F32 +\\[64, 512] +131,072\\n.*"), r);
            assertTrue(r.matches("(?s).*\\n  blk\\.4\\.ffn_down\\.weight +F32 +\\[172, 64] +44,032\\n.*"), r);
            // All F32: the data section is 4 bytes per parameter, with no padding between tensors.
            long params = (f.fileSize() - f.dataOffset()) / 4;
            assertEquals(292_800, params);
            assertTrue(lineStarting(r, "parameters").contains("292,800 (292.8K)"), r);
            assertTrue(lineStarting(r, "bits/weight").endsWith(" 32.00"), r);
            assertTrue(r.matches("(?s).*\\n  F32 +48 tensors +292,800 parameters +1,171,200 bytes \\(1\\.12 MiB\\)\\n.*"), r);
        }
    }

    @Test
    void quantizedModelTotalsByType() {
        try (GgufFile f = GgufFile.open(model("stories260K-q4_0.gguf"))) {
            String r = GgufInfo.render(f);
            // Norms stay F32 (2 per layer and the output norm), ffn_down stays F16, output is Q8_0.
            assertTrue(r.matches("(?s).*\\n  F32 +11 tensors .*"), r);
            assertTrue(r.matches("(?s).*\\n  F16 +5 tensors .*"), r);
            assertTrue(r.matches("(?s).*\\n  Q8_0 +1 tensor .*"), r);
            assertTrue(r.matches("(?s).*\\n  Q4_0 +31 tensors .*"), r);
            // The same model as the F32 file, so the same number of parameters.
            assertTrue(lineStarting(r, "parameters").contains("292,800"), r);
            long bytes = 0;
            for (GgufTensorInfo t : f.tensorList()) bytes += t.desc().bytes();
            assertTrue(lineStarting(r, "bits/weight").endsWith(String.format(java.util.Locale.ROOT, " %.2f", bytes * 8.0 / 292_800)), r);
            double bpw = Double.parseDouble(lineStarting(r, "bits/weight").replaceAll(".* ", ""));
            assertTrue(bpw > 4.5 && bpw < 8, "mostly Q4_0 (4.5 bits) with some F32 and F16: " + bpw);
        }
    }

    @Test
    void largeVocabularyIsSummarised() {
        try (GgufFile f = GgufFile.open(model("ggml-vocab-llama-bpe.gguf"))) {
            String r = GgufInfo.render(f);
            assertTrue(r.contains("tokenizer.ggml.tokens (array) = [string x 128256] \"!\", \"\\\"\", \"#\""), r);
            assertTrue(r.contains("tokenizer.ggml.merges (array) = [string x 280147] \"Ġ Ġ\""), r);
            assertTrue(r.contains("tensors: 0\n"));
            assertTrue(lineStarting(r, "bits/weight").endsWith(" -"));
            assertTrue(r.length() < 4000, "report is " + r.length() + " characters");
        }
    }

    @Test
    void longStringsAndSpecialValues(@TempDir Path dir) {
        String template = "{% for m in messages %}\n<|user|>\t" + "x".repeat(5000) + "{% endfor %}";
        GgufWriter w = new GgufWriter();
        w.put("tokenizer.chat_template", GgufValue.of(template));
        w.put("big.u64", GgufValue.u64(-1));
        w.put("nested", GgufValue.array(GgufValueType.ARRAY, List.of(GgufArray.of(GgufValueType.UINT64, List.of(-1L)))));
        w.put("u64s", GgufValue.array(GgufValueType.UINT64, List.of(-1L, 3L)));
        w.put("empty", GgufValue.array(GgufValueType.STRING, List.of()));
        w.add(TensorDesc.of("w", DType.Q8_0, 64, 2), MemorySegment.ofArray(new byte[136]));
        Path p = dir.resolve("info.gguf");
        w.write(p);
        try (GgufFile f = GgufFile.open(p)) {
            String r = GgufInfo.render(f);
            String line = lineStarting(r, "  tokenizer.chat_template");
            assertTrue(line.contains("\"{% for m in messages %}\\n<|user|>\\tx"), line);
            assertTrue(line.endsWith("... (" + template.length() + " chars)"), line);
            assertTrue(line.length() < 250, line);
            assertTrue(r.contains("  big.u64 (uint64) = 18446744073709551615\n"), r);
            assertTrue(r.contains("  u64s (array) = [uint64 x 2] 18446744073709551615, 3\n"), r);
            assertTrue(r.contains("  nested (array) = [array x 1] [uint64 x 1]\n"), r);
            assertTrue(r.contains("  empty (array) = [string x 0]\n"), r);
            assertTrue(lineStarting(r, "architecture").endsWith("(not set)"));
            assertTrue(lineStarting(r, "parameters").endsWith(" 128"), r);
            assertTrue(lineStarting(r, "bits/weight").endsWith(" 8.50"), r);

            String without = GgufInfo.render(f, new GgufInfo.Options(2, 20, false));
            assertFalse(without.contains("  w "), without);
            assertTrue(without.contains("Q8_0"), "totals by type remain");

            ByteArrayOutputStream out = new ByteArrayOutputStream();
            GgufInfo.print(f, new PrintStream(out, true, StandardCharsets.UTF_8));
            assertEquals(r, out.toString(StandardCharsets.UTF_8));
        }
    }
}
