package dev.hearth.cli;

import dev.hearth.runtime.json.Json;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code hearth bench -o json} on stories260K: one row per test with llama-bench's field names,
 * positive rates, and for generation the GB/s it implies next to the memory probe of the same run.
 */
@Tag("model")
class BenchCommandTest {
    @Test
    @SuppressWarnings("unchecked")
    void jsonRowsCarryLlamaBenchFieldsAndTheSameRunProbe() {
        String model = StoriesTest.models().resolve("stories260K-q8_0.gguf").toString();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream old = System.out;
        int rc;
        String before = System.getProperty("hearth.bench.warmupMillis");
        System.setProperty("hearth.bench.warmupMillis", "200");
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            rc = BenchCommand.run(new String[] {"-m", model, "-p", "8", "-n", "8", "-r", "2", "-t", "2", "--backend", "cpu", "-o", "json"});
        } finally {
            System.setOut(old);
            if (before == null) System.clearProperty("hearth.bench.warmupMillis");
            else System.setProperty("hearth.bench.warmupMillis", before);
        }
        assertEquals(0, rc);
        List<Object> rows = (List<Object>) Json.parse(buf.toString(StandardCharsets.UTF_8));
        assertEquals(2, rows.size(), buf.toString(StandardCharsets.UTF_8));
        Map<String, Object> pp = (Map<String, Object>) rows.get(0), tg = (Map<String, Object>) rows.get(1);
        for (String field : new String[] {"model_type", "model_size", "n_threads", "n_prompt", "n_gen", "avg_ts", "stddev_ts", "gbps", "probe_gbps"}) {
            assertTrue(pp.containsKey(field) && tg.containsKey(field), field);
        }
        assertEquals(8.0, ((Number) pp.get("n_prompt")).doubleValue());
        assertEquals(0.0, ((Number) pp.get("n_gen")).doubleValue());
        assertEquals(8.0, ((Number) tg.get("n_gen")).doubleValue());
        assertEquals(2.0, ((Number) tg.get("n_threads")).doubleValue());
        assertTrue(((Number) pp.get("avg_ts")).doubleValue() > 0 && ((Number) tg.get("avg_ts")).doubleValue() > 0, rows.toString());
        assertTrue(((Number) tg.get("gbps")).doubleValue() > 0, rows.toString());
        assertTrue(((Number) tg.get("probe_gbps")).doubleValue() > 0.1, "the probe measured host memory: " + rows);
        assertEquals(0.0, ((Number) pp.get("probe_gbps")).doubleValue(), "the probe stands next to generation only");
    }
}
