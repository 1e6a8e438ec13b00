package dev.hearth.server;

import dev.hearth.runtime.json.Json;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Requests at the same time: /health answers while a slot generates, a client that goes away
 * stops its generation (streamed or not), a full queue answers 503, and two slots give each
 * request the same text as one slot does.
 */
class ConcurrencyTest {
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** A streamed request on its own socket, read line by line. */
    static final class Stream implements AutoCloseable {
        final Socket socket;
        final BufferedReader in;

        Stream(int port, String path, String body) throws Exception {
            socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout(20_000);
            socket.getOutputStream().write(RawHttp.post(path, body));
            socket.getOutputStream().flush();
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        }

        String status() throws Exception {
            return in.readLine();
        }

        /** The next "data:" payload. */
        String event() throws Exception {
            String l;
            while ((l = in.readLine()) != null) if (l.startsWith("data: ")) return l.substring(6);
            return null;
        }

        @Override
        public void close() throws Exception {
            socket.close();
        }
    }

    static final class Log {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

        synchronized String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }

        /** Waits for a log line with "cancelled" and returns its generated-token count. */
        int cancelledAfter(long timeoutMs) throws InterruptedException {
            long end = System.currentTimeMillis() + timeoutMs;
            Pattern p = Pattern.compile("(\\d+) generated, cancelled");
            while (System.currentTimeMillis() < end) {
                Matcher m = p.matcher(text());
                if (m.find()) return Integer.parseInt(m.group(1));
                Thread.sleep(20);
            }
            throw new AssertionError("no cancelled generation in the log:\n" + text());
        }
    }

    static HttpResponse<String> get(TestModel m, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(m.base() + path)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> health(TestModel m) throws Exception {
        HttpResponse<String> r = get(m, "/health");
        assertEquals(200, r.statusCode());
        return (Map<String, Object>) Json.parse(r.body());
    }

    static void awaitIdle(TestModel m, int slots, long timeoutMs) throws Exception {
        long end = System.currentTimeMillis() + timeoutMs;
        while (((Number) health(m).get("slots_idle")).intValue() != slots) {
            if (System.currentTimeMillis() > end) throw new AssertionError("slots still busy: " + health(m));
            Thread.sleep(20);
        }
    }

    static final String LONG = "{\"prompt\": \"Once upon a time\", \"stream\": true, \"max_tokens\": 240, \"temperature\": 1, \"seed\": 7}";

    @Test
    void healthAnswersWhileGenerating() throws Exception {
        try (TestModel m = new TestModel(TestModel.stories(), 1, 256, TestModel.options());
             Stream s = new Stream(m.server.port(), "/v1/completions", LONG)) {
            assertTrue(s.status().contains(" 200 "));
            s.event();
            for (int i = 0; i < 5; i++) {
                long t0 = System.nanoTime();
                Map<String, Object> h = health(m);
                double ms = (System.nanoTime() - t0) / 1e6;
                assertEquals(1L, ((Number) h.get("slots_processing")).longValue(), "the slot is busy: " + h);
                assertTrue(ms < 1000, "/health took " + ms + " ms");
                assertEquals(200, get(m, "/v1/models").statusCode());
            }
        }
    }

    @Test
    void streamedClientThatLeavesStopsGeneration() throws Exception {
        Log log = new Log();
        try (TestModel m = new TestModel(TestModel.stories(), 1, 256, TestModel.options().withLog(log.out))) {
            try (Stream s = new Stream(m.server.port(), "/v1/completions", LONG)) {
                assertTrue(s.status().contains(" 200 "));
                for (int i = 0; i < 3; i++) s.event();
            }
            int generated = log.cancelledAfter(10_000);
            assertTrue(generated < 240, "stopped early: " + generated);
            awaitIdle(m, 1, 5000);
        }
    }

    @Test
    void wholeAnswerClientThatLeavesStopsGeneration() throws Exception {
        Log log = new Log();
        try (TestModel m = new TestModel(TestModel.stories(), 1, 256, TestModel.options().withLog(log.out))) {
            try (Socket s = new Socket("127.0.0.1", m.server.port())) {
                s.getOutputStream().write(RawHttp.post("/v1/completions", LONG.replace("\"stream\": true", "\"stream\": false")));
                s.getOutputStream().flush();
                long end = System.currentTimeMillis() + 10_000;
                while (((Number) health(m).get("slots_processing")).intValue() == 0 && System.currentTimeMillis() < end) Thread.sleep(5);
            }
            int generated = log.cancelledAfter(10_000);
            assertTrue(generated < 240, "stopped early: " + generated);
            awaitIdle(m, 1, 5000);
        }
    }

    @Test
    void fullQueueAnswers503() throws Exception {
        try (TestModel m = new TestModel(TestModel.stories(), 1, 256, TestModel.options().withMaxQueue(1));
             Stream first = new Stream(m.server.port(), "/v1/completions", LONG)) {
            assertTrue(first.status().contains(" 200 "));
            first.event();
            CompletableFuture<HttpResponse<String>> queued = HTTP.sendAsync(HttpRequest.newBuilder(URI.create(m.base() + "/v1/completions"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"The little dog\", \"max_tokens\": 4}")).build(), HttpResponse.BodyHandlers.ofString());
            long end = System.currentTimeMillis() + 10_000;
            while (((Number) health(m).get("requests_queued")).intValue() < 1 && System.currentTimeMillis() < end) Thread.sleep(5);
            HttpResponse<String> refused = HTTP.send(HttpRequest.newBuilder(URI.create(m.base() + "/v1/completions"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"x\", \"max_tokens\": 4}")).build(), HttpResponse.BodyHandlers.ofString());
            Map<String, Object> e = BadInputTest.error(503, refused.statusCode(), refused.body());
            assertEquals("queue_full", e.get("code"));
            first.close(); // the first client leaves: the queued request runs
            HttpResponse<String> r = queued.get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(200, r.statusCode(), r.body());
        }
    }

    @SuppressWarnings("unchecked")
    @Test
    void twoSlotsGiveTheSameTextAsOne() throws Exception {
        List<Map<String, Object>> cases = OpenAiSdkTest.greedyCases();
        try (TestModel m = new TestModel(TestModel.stories(), 2, 256, TestModel.options())) {
            List<CompletableFuture<HttpResponse<String>>> fs = new java.util.ArrayList<>();
            for (Map<String, Object> c : cases) {
                String body = "{\"prompt\": " + Json.quote((String) c.get("prompt")) + ", \"max_tokens\": 40, \"temperature\": 0}";
                fs.add(HTTP.sendAsync(HttpRequest.newBuilder(URI.create(m.base() + "/v1/completions")).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            for (int i = 0; i < cases.size(); i++) {
                HttpResponse<String> r = fs.get(i).get(60, java.util.concurrent.TimeUnit.SECONDS);
                assertEquals(200, r.statusCode(), r.body());
                Map<String, Object> body = (Map<String, Object>) Json.parse(r.body());
                String text = (String) ((Map<String, Object>) ((List<?>) body.get("choices")).getFirst()).get("text");
                assertEquals(((String) cases.get(i).get("text")).strip(), text.strip(), "prompt " + cases.get(i).get("prompt"));
            }
        }
    }
}
