package dev.hearth.cli;

import dev.hearth.runtime.gguf.GgufFile;
import dev.hearth.runtime.gguf.GgufTensorInfo;
import dev.hearth.runtime.gguf.GgufWriter;
import dev.hearth.runtime.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** JSON output stays JSON whatever the numbers: a NaN or an infinity is written as null, with a warning. */
class JsonOutputTest {
    @TempDir
    Path dir;

    /** stories260K with NaN in its output norm: every logit, and so every probability, is NaN. */
    private Path nanModel() {
        Path out = dir.resolve("nan.gguf");
        try (GgufFile f = GgufFile.open(StoriesTest.models().resolve("stories260K-f32.gguf"))) {
            GgufWriter w = new GgufWriter(f.metadata());
            for (GgufTensorInfo t : f.tensorList()) {
                if (t.name().equals("output_norm.weight")) {
                    float[] nan = new float[Math.toIntExact(t.desc().elements())];
                    java.util.Arrays.fill(nan, Float.NaN);
                    w.add(t.desc(), MemorySegment.ofArray(nan));
                } else {
                    w.add(t.desc(), f.data(t));
                }
            }
            w.write(out);
        }
        return out;
    }

    @Test
    @SuppressWarnings("unchecked")
    void scoreWritesNullForNaNAndWarns() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out, oldErr = System.err;
        int rc;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            rc = ScoreCommand.run(new String[] {"-m", nanModel().toString(), "--tokens", "1,403,407", "--top", "2", "--backend", "cpu", "-t", "1"});
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        assertEquals(0, rc);
        String text = out.toString(StandardCharsets.UTF_8);
        List<Object> rows = (List<Object>) Json.parse(text.strip());
        assertEquals(3, rows.size(), text);
        for (Object row : rows) {
            for (Object o : (List<Object>) row) {
                Map<String, Object> e = (Map<String, Object>) o;
                assertTrue(e.containsKey("p"), text);
                assertNull(e.get("p"), text);
            }
        }
        String warning = err.toString(StandardCharsets.UTF_8);
        assertTrue(warning.contains("score: warning: ") && warning.contains("\"p\"") && warning.contains("null"), warning);
    }

    @Test
    @SuppressWarnings("unchecked")
    void benchRowsWriteNullForNonFiniteRates() {
        JsonNumbers nums = new JsonNumbers("bench");
        String row = BenchCommand.jsonRow(nums, "llama \"1B\"\n", 10, 20, "cpu", "dev\t1", 2, 0, 8, "tg8",
                Double.NaN, Double.POSITIVE_INFINITY, 1.5, 0);
        Map<String, Object> m = (Map<String, Object>) Json.parse(row);
        assertNull(m.get("avg_ts"));
        assertNull(m.get("stddev_ts"));
        assertEquals(1.5, ((Number) m.get("gbps")).doubleValue());
        assertEquals("llama \"1B\"\n", m.get("model_type"));
        assertEquals("dev\t1", m.get("device"));
        String w = nums.warning();
        assertTrue(w != null && w.startsWith("bench: warning: ") && w.contains("avg_ts") && w.contains("stddev_ts"), w);
        assertNull(new JsonNumbers("bench").warning());
    }
}
