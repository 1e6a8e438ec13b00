package dev.hearth.server.pull;

import dev.hearth.llama.sampling.SamplerParams;
import dev.hearth.runtime.json.Json;
import dev.hearth.server.HearthServer;
import dev.hearth.server.ModelPool;
import dev.hearth.server.ServerOptions;
import dev.hearth.server.http.Limits;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * POST /api/pull into a models folder from a loopback file server: Ollama's progress objects
 * as newline-delimited JSON, the file in the folder and in /api/tags afterwards, a download
 * that is not a GGUF model refused and removed, and registry names refused with a reason.
 */
class OllamaPullTest {
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;
    byte[] gguf;
    FileServer files;
    HearthServer server;
    String base;

    @BeforeEach
    void start() throws Exception {
        gguf = Files.readAllBytes(Path.of(System.getProperty("hearth.testdata", "../testdata")).resolve("stories260K-q8_0.gguf"));
        files = new FileServer(gguf);
        ServerOptions o = ServerOptions.defaults().withPort(0).withSampling(SamplerParams.DEFAULTS).withLimits(Limits.DEFAULTS);
        ModelPool pool = ModelPool.folder(dir, (f, room) -> {
            throw new AssertionError("pulling loads nothing");
        }, 1, o).pullFrom(files.base() + "/hub", null);
        server = HearthServer.start(o, pool);
        base = "http://127.0.0.1:" + server.port();
    }

    @AfterEach
    void stop() {
        if (server != null) server.close();
        files.close();
    }

    HttpResponse<String> post(String path, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> lines(String body) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (String l : body.split("\n")) if (!l.isBlank()) out.add((Map<String, Object>) Json.parse(l));
        return out;
    }

    @Test
    void pullsAUrlWithOllamasProgress() throws Exception {
        HttpResponse<String> r = post("/api/pull", "{\"model\":\"" + files.base() + "/files/tiny-story.gguf\"}");
        assertEquals(200, r.statusCode(), r.body());
        List<Map<String, Object>> ls = lines(r.body());
        assertEquals("pulling manifest", ls.getFirst().get("status"));
        assertEquals("success", ls.getLast().get("status"));
        Map<String, Object> lastProgress = ls.stream().filter(m -> m.containsKey("completed")).reduce((a, b) -> b).orElseThrow();
        assertEquals("downloading tiny-story.gguf", lastProgress.get("status"));
        assertEquals((long) gguf.length, lastProgress.get("total"));
        assertEquals((long) gguf.length, lastProgress.get("completed"));
        assertArrayEquals(gguf, Files.readAllBytes(dir.resolve("tiny-story.gguf")));

        HttpResponse<String> tags = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/api/tags")).build(), HttpResponse.BodyHandlers.ofString());
        assertTrue(tags.body().contains("\"name\":\"tiny-story\""), tags.body());

        // pulled already: no second download, one object when not streamed
        int before = files.requests.get();
        HttpResponse<String> again = post("/api/pull", "{\"name\":\"" + files.base() + "/files/tiny-story.gguf\",\"stream\":false}");
        assertEquals(200, again.statusCode());
        assertEquals(Map.of("status", "success"), Json.parse(again.body()));
        assertEquals(before, files.requests.get());
    }

    @Test
    void pullsHubNamesFromTheConfiguredEndpoint() throws Exception {
        HttpResponse<String> r = post("/api/pull", "{\"model\":\"owner/repo/story-q8.gguf\",\"stream\":false}");
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(Files.isRegularFile(dir.resolve("story-q8.gguf")));
    }

    @Test
    void refusesWhatIsNotAGgufModel() throws Exception {
        files.close();
        files = new FileServer("<html>sign in</html>".getBytes());
        HttpResponse<String> r = post("/api/pull", "{\"model\":\"" + files.base() + "/files/page.gguf\",\"stream\":false}");
        assertEquals(500, r.statusCode(), r.body());
        assertTrue(r.body().startsWith("{\"error\":\"pull failed: "), r.body());
        assertFalse(Files.exists(dir.resolve("page.gguf")));

        HttpResponse<String> registry = post("/api/pull", "{\"model\":\"llama3.2\"}");
        assertEquals(400, registry.statusCode());
        assertTrue(registry.body().contains("not from Ollama's registry"), registry.body());
        HttpResponse<String> notGguf = post("/api/pull", "{\"model\":\"" + files.base() + "/files/model.bin\"}");
        assertEquals(400, notGguf.statusCode());
        assertTrue(notGguf.body().contains("only GGUF models"), notGguf.body());
    }
}
