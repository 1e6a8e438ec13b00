package dev.hearth.cli;

import dev.hearth.runtime.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code hearth serve} as the command line starts it: options, the key, slots, the log. */
class ServeCommandTest {
    static final HttpClient HTTP = HttpClient.newHttpClient();

    static HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    @SuppressWarnings("unchecked")
    void servesWithAKeyOnLoopback() throws Exception {
        String model = StoriesTest.models().resolve("stories260K-q8_0.gguf").toString();
        ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
        PrintStream log = new PrintStream(logBytes, true, StandardCharsets.UTF_8);
        try (ServeCommand.Running r = ServeCommand.start(new String[] {"-m", model, "--port", "0", "--backend", "reference", "--parallel", "2",
                "--api-key", "s3cret", "-c", "128", "--temp", "0"}, log)) {
            assertEquals("127.0.0.1", r.server().host(), "loopback by default");
            assertEquals(2, r.server().slots());
            String base = "http://127.0.0.1:" + r.server().port();
            String body = "{\"model\": \"x\", \"messages\": [{\"role\": \"user\", \"content\": \"Once upon a time\"}], \"max_tokens\": 5}";

            HttpResponse<String> noKey = send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions")).POST(HttpRequest.BodyPublishers.ofString(body)));
            assertEquals(401, noKey.statusCode());
            assertEquals("invalid_api_key", ((Map<String, Object>) ((Map<String, Object>) Json.parse(noKey.body())).get("error")).get("code"));
            HttpResponse<String> wrongKey = send(HttpRequest.newBuilder(URI.create(base + "/v1/models")).header("Authorization", "Bearer nope"));
            assertEquals(401, wrongKey.statusCode());
            assertEquals(200, send(HttpRequest.newBuilder(URI.create(base + "/health"))).statusCode(), "/health needs no key");
            HttpResponse<String> ollamaNoKey = send(HttpRequest.newBuilder(URI.create(base + "/api/tags")));
            assertEquals(401, ollamaNoKey.statusCode(), "Ollama's routes need the key too");
            assertTrue(((Map<String, Object>) Json.parse(ollamaNoKey.body())).get("error") instanceof String, ollamaNoKey.body());
            assertEquals(200, send(HttpRequest.newBuilder(URI.create(base + "/api/tags")).header("Authorization", "Bearer s3cret")).statusCode());
            assertEquals(200, send(HttpRequest.newBuilder(URI.create(base + "/api/version"))).statusCode(), "/api/version needs no key");

            HttpResponse<String> ok = send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions")).header("Authorization", "Bearer s3cret")
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)));
            assertEquals(200, ok.statusCode(), ok.body());
            Map<String, Object> res = (Map<String, Object>) Json.parse(ok.body());
            assertEquals("stories260K-q8_0", res.get("model"), "named after the file");
            assertEquals(5L, ((Map<String, Object>) res.get("usage")).get("completion_tokens"));

            long end = System.currentTimeMillis() + 5000; // the line comes just after the answer
            while (!logBytes.toString(StandardCharsets.UTF_8).contains("POST /v1/chat/completions slot") && System.currentTimeMillis() < end) Thread.sleep(10);
            String text = logBytes.toString(StandardCharsets.UTF_8);
            assertTrue(text.contains("listening on http://127.0.0.1:" + r.server().port() + "/v1"), text);
            assertTrue(text.contains("2 slots"), text);
            assertTrue(text.contains("POST /v1/chat/completions slot"), "a line per request: " + text);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void servesAFolderOfModels(@TempDir Path dir) throws Exception {
        Files.copy(StoriesTest.models().resolve("stories260K-f32.gguf"), dir.resolve("a.gguf"));
        Files.copy(StoriesTest.models().resolve("stories260K-q8_0.gguf"), dir.resolve("b.gguf"));
        ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
        PrintStream log = new PrintStream(logBytes, true, StandardCharsets.UTF_8);
        try (ServeCommand.Running r = ServeCommand.start(new String[] {"--models", dir.toString(), "--max-loaded", "1", "--port", "0",
                "--backend", "reference", "-c", "128", "--temp", "0"}, log)) {
            String base = "http://127.0.0.1:" + r.server().port();
            Map<String, Object> tags = (Map<String, Object>) Json.parse(send(HttpRequest.newBuilder(URI.create(base + "/api/tags"))).body());
            assertEquals(2, ((List<?>) tags.get("models")).size(), tags.toString());
            for (String name : List.of("a", "b")) {
                String body = "{\"model\": \"" + name + "\", \"prompt\": \"Once upon a time\", \"stream\": false, \"options\": {\"num_predict\": 4}}";
                HttpResponse<String> ok = send(HttpRequest.newBuilder(URI.create(base + "/api/generate")).POST(HttpRequest.BodyPublishers.ofString(body)));
                assertEquals(200, ok.statusCode(), ok.body());
                assertEquals(4L, ((Map<String, Object>) Json.parse(ok.body())).get("eval_count"));
            }
            Map<String, Object> ps = (Map<String, Object>) Json.parse(send(HttpRequest.newBuilder(URI.create(base + "/api/ps"))).body());
            assertEquals("b", ((Map<String, Object>) ((List<?>) ps.get("models")).getFirst()).get("name"), "a was unloaded for b");
            String text = logBytes.toString(StandardCharsets.UTF_8);
            assertTrue(text.contains("2 models in " + dir) && text.contains("unloading a"), text);
        }
    }

    @Test
    void badOptionsAreUsageErrors() {
        String model = StoriesTest.models().resolve("stories260K-q8_0.gguf").toString();
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        assertThrows(Args.UsageException.class, () -> ServeCommand.start(new String[] {"-m", model, "--parallel", "0"}, quiet));
        assertThrows(Args.UsageException.class, () -> ServeCommand.start(new String[] {"-m", model, "--port", "70000"}, quiet));
        assertThrows(Args.UsageException.class, () -> ServeCommand.start(new String[] {"-m", model, "--max-body", "10"}, quiet));
        assertThrows(Args.UsageException.class, () -> ServeCommand.start(new String[] {"-m", model, "--api-key", ""}, quiet));
        assertThrows(Args.UsageException.class, () -> ServeCommand.start(new String[] {"-m", model, "--bogus"}, quiet));
        assertThrows(Args.UsageException.class, () -> ServeCommand.start(new String[] {"-m", model, "--models", "."}, quiet));
        assertThrows(Args.UsageException.class, () -> ServeCommand.start(new String[] {"-m", model, "--max-loaded", "2"}, quiet));
        assertThrows(Args.UsageException.class, () -> ServeCommand.start(new String[] {"--models", ".", "--max-loaded", "0"}, quiet));
        assertThrows(Args.UsageException.class, () -> ServeCommand.start(new String[] {"-m", model, "--cors-origin", "https://a.example/path"}, quiet));
        assertThrows(Args.UsageException.class, () -> ServeCommand.start(new String[] {"-m", model, "--allowed-hosts", "http://x"}, quiet));
        assertThrows(Args.UsageException.class, () -> ServeCommand.start(new String[] {"-m", model, "--context-overflow", "shift"}, quiet));
        assertThrows(Args.UsageException.class, () -> ServeCommand.start(new String[] {"-m", model, "--max-conn-per-client", "-1"}, quiet));
    }

    @Test
    void hardeningOptionsReachTheServer() throws Exception {
        String model = StoriesTest.models().resolve("stories260K-q8_0.gguf").toString();
        ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
        PrintStream log = new PrintStream(logBytes, true, StandardCharsets.UTF_8);
        try (ServeCommand.Running r = ServeCommand.start(new String[] {"-m", model, "--port", "0", "--backend", "reference", "-c", "64",
                "--metrics", "--cors-origin", "https://app.example", "--allowed-hosts", "my.lan", "--context-overflow", "truncate",
                "--max-conn-per-client", "8"}, log)) {
            String base = "http://127.0.0.1:" + r.server().port();
            HttpResponse<String> m = send(HttpRequest.newBuilder(URI.create(base + "/metrics")));
            assertEquals(200, m.statusCode());
            assertTrue(m.body().contains("hearth_slots 1"), m.body());
            HttpResponse<String> cors = send(HttpRequest.newBuilder(URI.create(base + "/v1/models")).header("Origin", "https://app.example"));
            assertEquals("https://app.example", cors.headers().firstValue("access-control-allow-origin").orElse(null));
            String longChat = "{\"messages\": [" + "{\"role\": \"user\", \"content\": \"Tell me a story about a dog and a cat.\"}, {\"role\": \"assistant\", \"content\": \"Once upon a time there was a dog.\"}, ".repeat(8)
                    + "{\"role\": \"user\", \"content\": \"Again.\"}], \"max_tokens\": 4}";
            HttpResponse<String> truncated = send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(longChat)));
            assertEquals(200, truncated.statusCode(), truncated.body());
            String text = logBytes.toString(StandardCharsets.UTF_8);
            assertTrue(text.contains("Prometheus metrics on http://127.0.0.1:" + r.server().port() + "/metrics"), text);
            assertTrue(text.contains("cross-origin requests allowed from https://app.example"), text);
        }
    }
}
