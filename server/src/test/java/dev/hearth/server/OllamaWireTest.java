package dev.hearth.server;

import dev.hearth.runtime.json.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ollama's API on the wire, with a bare socket: the newline-delimited stream and its last line,
 * one object with stream false, the load-only request, and Ollama's error bodies for bad input
 * (unknown model, malformed JSON, what this server cannot do), never a stack trace.
 */
class OllamaWireTest {
    static TestModel model;

    @BeforeAll
    static void start() throws Exception {
        model = new TestModel(TestModel.stories(), 1, 256, TestModel.options());
    }

    @AfterAll
    static void stop() {
        if (model != null) model.close();
    }

    static RawHttp.Response post(String path, String body) throws Exception {
        return RawHttp.exchange(model.server.port(), RawHttp.post(path, body), 60_000);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> json(String s) {
        return (Map<String, Object>) Json.parse(s);
    }

    /** An Ollama error: the status, a body of exactly {"error": "..."} whose text contains {@code words}. */
    static void assertError(RawHttp.Response r, int status, String words) {
        assertEquals(status, r.status(), r.body());
        Map<String, Object> m = json(r.body());
        assertEquals(1, m.size(), r.body());
        String error = (String) m.get("error");
        assertTrue(error.contains(words), error);
        assertFalse(error.contains("Exception"), error);
    }

    @Test
    @SuppressWarnings("unchecked")
    void formatAndToolsTakeTheOpenAiRoutesMachinery() throws Exception {
        RawHttp.Response json = post("/api/chat", "{\"model\":\"stories260K\",\"stream\":false,\"format\":\"json\",\"options\":{\"num_predict\":300},"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Once upon a time\"}]}");
        assertEquals(200, json.status(), json.body());
        String content = (String) ((Map<String, Object>) json(json.body()).get("message")).get("content");
        assertTrue(Json.parse(content) instanceof Map, content);

        String schema = "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":12},"
                + "\"age\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":120}},\"required\":[\"name\",\"age\"],\"additionalProperties\":false}";
        RawHttp.Response r = post("/api/generate", "{\"model\":\"stories260K\",\"prompt\":\"Lily was\",\"format\":" + schema + ",\"options\":{\"num_predict\":300}}");
        assertEquals(200, r.status(), r.body());
        StringBuilder text = new StringBuilder();
        for (String line : r.body().split("\n")) text.append((String) json(line).get("response"));
        Map<String, Object> v = (Map<String, Object>) Json.parse(text.toString());
        assertEquals(List.of("name", "age"), List.copyOf(v.keySet()), text.toString());
        assertTrue(((String) v.get("name")).length() <= 12, text.toString());
        long age = ((Number) v.get("age")).longValue();
        assertTrue(age >= 0 && age <= 120, text.toString());

        // a conversation with a call and its result (Ollama's shapes: arguments an object, tool_name)
        String tools = "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"The weather in a city\","
                + "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}}]";
        RawHttp.Response t;
        try (TestModel wide = new TestModel(TestModel.stories(), 1, 512, TestModel.options())) {
            t = RawHttp.exchange(wide.server.port(), RawHttp.post("/api/chat", "{\"model\":\"stories260K\",\"stream\":false,\"tools\":" + tools + ",\"options\":{\"num_predict\":8},\"messages\":["
                + "{\"role\":\"user\",\"content\":\"Weather in Paris?\"},"
                + "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}}]},"
                + "{\"role\":\"tool\",\"tool_name\":\"get_weather\",\"content\":\"sunny\"}]}"), 60_000);
        }
        assertEquals(200, t.status(), t.body());
        Map<String, Object> msg = (Map<String, Object>) json(t.body()).get("message");
        assertEquals("assistant", msg.get("role"));
        assertTrue(msg.get("content") instanceof String, t.body());
        assertError(post("/api/chat", "{\"model\":\"stories260K\",\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"name\":\"x\"}]}]}"), 400, "tool_calls[0]");
    }

    @Test
    void generateStreamsLinesOfJsonEndingWithTheCounts() throws Exception {
        RawHttp.Response r = post("/api/generate", "{\"model\":\"stories260K\",\"prompt\":\"Once upon a time\",\"options\":{\"temperature\":0,\"num_predict\":12}}");
        assertEquals(200, r.status(), r.body());
        assertTrue(r.head().toLowerCase().contains("content-type: application/x-ndjson"), r.head());
        String[] lines = r.body().split("\n");
        assertTrue(lines.length > 3, r.body());
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < lines.length - 1; i++) {
            Map<String, Object> m = json(lines[i]);
            assertEquals("stories260K", m.get("model"));
            assertEquals(false, m.get("done"));
            Instant.parse((String) m.get("created_at"));
            text.append((String) m.get("response"));
        }
        Map<String, Object> last = json(lines[lines.length - 1]);
        assertEquals(true, last.get("done"));
        assertEquals("length", last.get("done_reason"));
        assertEquals("", last.get("response"));
        assertEquals(12L, last.get("eval_count"));
        assertEquals(5L, last.get("prompt_eval_count"), "BOS and four tokens");
        long total = (Long) last.get("total_duration");
        assertTrue(total > 0 && total >= (Long) last.get("eval_duration") + (Long) last.get("prompt_eval_duration"), last.toString());
        assertEquals(0L, last.get("load_duration"), "loaded already");

        RawHttp.Response whole = post("/api/generate", "{\"model\":\"stories260K\",\"prompt\":\"Once upon a time\",\"stream\":false,\"options\":{\"temperature\":0,\"num_predict\":12}}");
        Map<String, Object> w = json(whole.body());
        assertEquals(text.toString(), w.get("response"), "the same text in one object");
        assertEquals(true, w.get("done"));
    }

    @Test
    void chatStopsAtAStopString() throws Exception {
        RawHttp.Response r = post("/api/chat", "{\"model\":\"stories260K\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"Once upon a time\"}],"
                + "\"options\":{\"temperature\":0,\"num_predict\":40,\"stop\":[\".\"]}}");
        assertEquals(200, r.status(), r.body());
        Map<String, Object> m = json(r.body());
        Map<String, Object> msg = (Map<String, Object>) m.get("message");
        assertEquals("assistant", msg.get("role"));
        assertFalse(((String) msg.get("content")).contains("."), msg.toString());
        assertEquals("stop", m.get("done_reason"));
    }

    @Test
    void anEmptyPromptOnlyLoads() throws Exception {
        Map<String, Object> m = json(post("/api/generate", "{\"model\":\"stories260K\"}").body());
        assertEquals("load", m.get("done_reason"));
        assertEquals(true, m.get("done"));
        Map<String, Object> c = json(post("/api/chat", "{\"model\":\"stories260K\",\"messages\":[]}").body());
        assertEquals("load", c.get("done_reason"));
    }

    @Test
    void badInputGetsOllamasErrorBody() throws Exception {
        String msgs = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";
        assertError(post("/api/chat", "{\"model\":\"nope\"," + msgs + "}"), 404, "model 'nope' not found");
        assertError(post("/api/generate", "{\"model\":\"nope\",\"prompt\":\"hi\"}"), 404, "model 'nope' not found");
        assertError(post("/api/show", "{\"model\":\"nope\"}"), 404, "model 'nope' not found");
        assertError(post("/api/chat", "{\"model\": \"stories260K\", " + msgs), 400, "not valid JSON");
        assertError(post("/api/chat", "[1, 2]"), 400, "must be a JSON object");
        assertError(post("/api/chat", ""), 400, "empty");
        assertError(post("/api/chat", "{" + msgs + "}"), 400, "model is required");
        assertError(post("/api/chat", "{\"model\":\"stories260K\",\"format\":\"yaml\"," + msgs + "}"), 400, "format must be");
        assertError(post("/api/chat", "{\"model\":\"stories260K\",\"format\":{\"type\":\"object\",\"not\":{}}," + msgs + "}"), 400, "not");
        assertError(post("/api/chat", "{\"model\":\"stories260K\",\"tools\":[{\"type\":\"function\"}]," + msgs + "}"), 400, "tools");
        assertError(post("/api/generate", "{\"model\":\"stories260K\",\"prompt\":\"hi\",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]}"), 400, "/api/chat");
        assertError(post("/api/chat", "{\"model\":\"stories260K\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\",\"images\":[\"aGk=\"]}]}"), 400, "images are not supported");
        assertError(post("/api/generate", "{\"model\":\"stories260K\",\"prompt\":\"hi\",\"images\":[\"aGk=\"]}"), 400, "images are not supported");
        assertError(post("/api/generate", "{\"model\":\"stories260K\",\"prompt\":\"hi\",\"template\":\"{{ .Prompt }}\"}"), 400, "template is not supported");
        assertError(post("/api/generate", "{\"model\":\"stories260K\",\"prompt\":\"hi\",\"options\":{\"bogus\":1}}"), 400, "unknown option 'bogus'");
        assertError(post("/api/generate", "{\"model\":\"stories260K\",\"prompt\":\"hi\",\"options\":{\"mirostat\":2}}"), 400, "mirostat");
        assertError(post("/api/generate", "{\"model\":\"stories260K\",\"prompt\":\"hi\",\"options\":{\"temperature\":\"hot\"}}"), 400, "temperature");
        assertError(post("/api/chat", "{\"model\":\"stories260K\",\"messages\":[{\"role\":\"wizard\",\"content\":\"hi\"}]}"), 400, "wizard");
        assertError(post("/api/pull", "{\"model\":\"llama3.2\"}"), 400, "models folder");
        assertError(post("/api/embed", "{\"model\":\"stories260K\",\"input\":\"hi\"}"), 501, "not supported");
        assertError(post("/api/nothing", "{}"), 404, "unknown URL");
        RawHttp.Response get = RawHttp.exchange(model.server.port(),
                "GET /api/chat HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 10_000);
        assertError(get, 405, "POST");
        assertTrue(get.head().contains("Allow: POST"), get.head());
    }

    @Test
    void aPromptLongerThanTheContextSaysWhatToDo() throws Exception {
        String longPrompt = "Once upon a time ".repeat(100);
        RawHttp.Response r = post("/api/generate", "{\"model\":\"stories260K\",\"prompt\":\"" + longPrompt + "\",\"options\":{\"num_ctx\":8192}}");
        assertError(r, 400, "num_ctx 8192 cannot enlarge it");
        RawHttp.Response small = post("/api/generate", "{\"model\":\"stories260K\",\"prompt\":\"Once upon a time\",\"stream\":false,\"options\":{\"temperature\":0,\"num_ctx\":10}}");
        Map<String, Object> m = json(small.body());
        assertEquals(5L, m.get("eval_count"), "num_ctx below the loaded context bounds prompt and answer: " + m);
    }

    @Test
    void versionAndLists() throws Exception {
        RawHttp.Response v = RawHttp.exchange(model.server.port(),
                "GET /api/version HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 10_000);
        assertEquals(200, v.status());
        assertTrue(((String) json(v.body()).get("version")).matches("\\d+\\.\\d+\\.\\d+"), v.body());
        RawHttp.Response tags = RawHttp.exchange(model.server.port(),
                "GET /api/tags HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 10_000);
        List<?> models = (List<?>) json(tags.body()).get("models");
        assertEquals(1, models.size(), tags.body());
    }
}
