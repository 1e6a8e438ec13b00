package dev.hearth.cli;

import dev.hearth.llama.synth.SyntheticModel;
import dev.hearth.runtime.dtype.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --cache-type}: q8_0 and q4_0 beside f16 and f32 in run, plan and serve; one-line errors for the rest. */
class CacheTypeOptionTest {
    private static String stories() {
        return StoriesTest.models().resolve("stories260K-f32.gguf").toString();
    }

    @Test
    void runsWithQuantizedCaches() {
        for (String type : new String[]{"q8_0", "Q4_0"}) {
            CliOutput o = CliOutput.main("run", "-m", stories(), "-p", "Once upon a time", "-n", "8", "--temp", "0", "--backend", "cpu", "-t", "1", "--cache-type", type);
            assertEquals(0, o.rc(), o.err()); // the text goes to the process's stdout; its fidelity is QuantizedCacheStoriesTest's
            assertTrue(o.err().contains("context: "), o.err());
        }
    }

    @Test
    void serveGivesEverySlotTheCacheType() throws Exception {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        try (ServeCommand.Running r = ServeCommand.start(new String[] {"-m", stories(), "--port", "0", "--backend", "cpu", "--parallel", "2",
                "-c", "128", "--temp", "0", "--cache-type", "q8_0"}, quiet)) {
            assertEquals(DType.Q8_0, r.model().engine().cacheType());
            assertEquals(1, r.extra().size());
            assertEquals(DType.Q8_0, r.extra().getFirst().cacheType(), "the second slot's cache");
            String body = "{\"model\": \"x\", \"prompt\": \"Once upon a time\", \"max_tokens\": 6}";
            var res = ServeCommandTest.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + r.server().port() + "/v1/completions"))
                    .header("Content-Type", "application/json").POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)));
            assertEquals(200, res.statusCode(), res.body());
            assertTrue(res.body().contains("\"completion_tokens\":6") || res.body().contains("\"completion_tokens\": 6"), res.body());
        }
    }

    @Test
    void planCountsTheSmallerCache() {
        CliOutput f16 = CliOutput.main("plan", "-m", stories(), "-c", "4096", "--cache-type", "f16");
        CliOutput q4 = CliOutput.main("plan", "-m", stories(), "-c", "4096", "--cache-type", "q4_0");
        assertEquals(0, f16.rc(), f16.err());
        assertEquals(0, q4.rc(), q4.err());
        // stories260K: 5 layers, K and V rows of 32: 4096 * 5 * 2 * 64 bytes = 2.5 MiB in F16, 2 * 18 bytes a row in Q4_0 = 0.7 MiB
        assertTrue(f16.out().contains("2.5"), f16.out());
        assertTrue(q4.out().contains("0.7"), q4.out());
    }

    @Test
    void llamaCppNamesGiveBothCaches() {
        CliOutput same = CliOutput.main("run", "-m", stories(), "-p", "Once", "-n", "2", "--temp", "0", "--backend", "cpu", "-t", "1", "-ctk", "q8_0", "-ctv", "q8_0");
        assertEquals(0, same.rc(), same.err());
        CliOutput differ = CliOutput.main("run", "-m", stories(), "-p", "Once", "-n", "2", "-ctk", "q8_0", "-ctv", "q4_0");
        assertEquals(2, differ.rc());
        assertEquals("hearth run: --cache-type-v q4_0: the K and V caches have one type here; give --cache-type q4_0 for both, or leave -ctv out",
                differ.err().strip());
    }

    @Test
    void anUnknownTypeIsOneLine() {
        CliOutput o = CliOutput.main("run", "-m", stories(), "-p", "x", "--cache-type", "q4_1");
        assertEquals(2, o.rc());
        assertEquals("hearth run: --cache-type takes f16, f32, q8_0, q4_0, not 'q4_1'", o.err().strip());
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        assertThrows(Args.UsageException.class, () -> ServeCommand.start(new String[] {"-m", stories(), "--cache-type", "iq4_nl"}, quiet));
    }

    @Test
    void aKvDimOfPartBlocksIsOneLine(@TempDir Path dir) {
        // kv dim 24: two KV heads of 12
        Path model = dir.resolve("odd.gguf");
        SyntheticModel.write(new SyntheticModel.Shape("odd", "llama", 48, 1, 96, 4, 2, 12, 300, true, 256, 10000f, Map.of()), DType.F32, null, 1, model);
        CliOutput o = CliOutput.main("run", "-m", model.toString(), "-p", "x", "-n", "1", "--cache-type", "q8_0");
        assertEquals(2, o.rc(), o.err());
        assertEquals("hearth run: --cache-type q8_0: cache type q8_0 needs a kv dim that is a multiple of 32, and this model's is 24: use --cache-type f16",
                o.err().strip());
        CliOutput f16 = CliOutput.main("run", "-m", model.toString(), "-p", "x", "-n", "1", "--cache-type", "f16", "--backend", "cpu");
        assertEquals(0, f16.rc(), f16.err());
    }
}
