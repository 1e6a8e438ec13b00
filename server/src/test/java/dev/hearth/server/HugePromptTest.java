package dev.hearth.server;

import dev.hearth.server.http.ApiError;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A prompt of 7 MB is refused (400 context_length_exceeded) soon, at a cost in memory that
 * follows the context rather than the prompt: it is never tokenized whole.
 */
class HugePromptTest {
    static final String SEVEN_MB = "Once upon a time, there was a little dog who liked to run in the park. ".repeat(100_000);
    static final com.sun.management.ThreadMXBean THREADS = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Bytes allocated so far by each live platform thread. */
    static Map<Long, Long> allocated() {
        long[] ids = THREADS.getAllThreadIds();
        long[] bytes = THREADS.getThreadAllocatedBytes(ids);
        Map<Long, Long> m = new HashMap<>();
        for (int i = 0; i < ids.length; i++) if (bytes[i] >= 0) m.put(ids[i], bytes[i]);
        return m;
    }

    static long since(Map<Long, Long> before) {
        long sum = 0;
        for (Map.Entry<Long, Long> e : allocated().entrySet()) sum += e.getValue() - before.getOrDefault(e.getKey(), 0L);
        return sum;
    }

    @Test
    void tokenizingASevenMegabytePromptStopsAtTheContext() throws Exception {
        try (TestModel m = new TestModel(TestModel.stories(), 1, 2048, TestModel.options())) {
            Prompts prompts = new Prompts(m.tokenizer, null, null);
            PromptFit fit = new PromptFit(m.tokenizer, 2048, ServerPolicy.ContextOverflow.ERROR);
            List<Map<String, Object>> messages = List.of(Map.of("role", "system", "content", "Be brief."), Map.of("role", "user", "content", SEVEN_MB));
            fit.completion("warm up");
            long b0 = THREADS.getCurrentThreadAllocatedBytes();
            long t0 = System.nanoTime();
            ApiError e = assertThrows(ApiError.class, () -> fit.chat(messages, null, prompts::chatText));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            long bytes = THREADS.getCurrentThreadAllocatedBytes() - b0;
            assertEquals("context_length_exceeded", e.code());
            assertTrue(e.getMessage().contains("more than 2048 tokens"), e.getMessage());
            // rendering the chat copies the 7 MB text a few times; tokenizing it whole took hundreds of MB
            assertTrue(bytes < 50L << 20, (bytes >> 20) + " MiB allocated to render and count a 7 MB chat prompt");
            assertTrue(ms < 1500, ms + " ms");
            b0 = THREADS.getCurrentThreadAllocatedBytes();
            e = assertThrows(ApiError.class, () -> fit.completion(SEVEN_MB));
            assertEquals("context_length_exceeded", e.code());
            bytes = THREADS.getCurrentThreadAllocatedBytes() - b0;
            assertTrue(bytes < 10L << 20, (bytes >> 20) + " MiB allocated to count a 7 MB completion prompt");
        }
    }

    @Test
    void aSevenMegabyteRequestIsRefusedSoonAndCheaply() throws Exception {
        try (TestModel m = new TestModel(TestModel.stories(), 1, 2048, TestModel.options())) {
            String chat = "{\"messages\": [{\"role\": \"user\", \"content\": \"" + SEVEN_MB + "\"}], \"max_tokens\": 4}";
            String completion = "{\"prompt\": \"" + SEVEN_MB + "\", \"max_tokens\": 4}";
            assertEquals(400, HardeningTest.post(m, "/v1/completions", "{\"prompt\": \"" + "warm up ".repeat(2000) + "\"}", "application/json").status());
            String ollamaChat = "{\"model\": \"stories260K\", " + chat.substring(1), ollamaGenerate = "{\"model\": \"stories260K\", " + completion.substring(1);
            for (String[] c : new String[][] {{"/v1/chat/completions", chat}, {"/v1/completions", completion}, {"/api/chat", ollamaChat},
                    {"/api/generate", ollamaGenerate}}) {
                byte[] request = RawHttp.post(c[0], c[1]);
                System.gc();
                Map<Long, Long> before = allocated();
                long t0 = System.nanoTime();
                RawHttp.Response r = RawHttp.exchange(m.server.port(), request, 10_000);
                long ms = (System.nanoTime() - t0) / 1_000_000;
                long bytes = since(before);
                assertEquals(400, r.status(), r.body());
                if (c[0].startsWith("/api/")) assertTrue(r.body().contains("maximum context length"), r.body()); // Ollama's {"error": ...}
                else assertEquals("context_length_exceeded", HardeningTest.code(r));
                System.out.printf("7 MB prompt on %s: 400 in %d ms, %d MiB allocated by the server's platform threads%n", c[0], ms, bytes >> 20);
                assertTrue(ms < 3000, ms + " ms");
                assertTrue(bytes < 50L << 20, (bytes >> 20) + " MiB allocated");
            }
            assertEquals(200, HardeningTest.post(m, "/v1/completions", HardeningTest.COMPLETION, "application/json").status());
        }
    }
}
