package dev.hearth.server;

import dev.hearth.runtime.json.Json;
import dev.hearth.server.http.Limits;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Requests that are wrong in every way we could think of: each gets its 4xx status with an
 * OpenAI error object, and after each the server still answers /health and a real request.
 */
class BadInputTest {
    static TestModel model;
    static HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() throws Exception {
        Limits limits = Limits.DEFAULTS.withMaxBodyBytes(1 << 20)
                .withTimeouts(Duration.ofMillis(800), Duration.ofSeconds(5), Duration.ofSeconds(2));
        model = new TestModel(TestModel.stories(), 1, 64, TestModel.options().withLimits(limits));
    }

    @AfterAll
    static void stop() {
        if (model != null) model.close();
    }

    @AfterEach
    void serverStillUp() throws Exception {
        HttpResponse<String> h = http.send(HttpRequest.newBuilder(URI.create(model.base() + "/health")).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, h.statusCode());
        HttpResponse<String> ok = post("/v1/completions", "{\"prompt\":\"Once upon a time\",\"max_tokens\":3,\"temperature\":0}");
        assertEquals(200, ok.statusCode(), ok.body());
    }

    static HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(model.base() + path)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Checks the OpenAI error shape; returns the inner error object. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> error(int status, int gotStatus, String body) {
        assertEquals(status, gotStatus, body);
        Map<String, Object> outer = assertInstanceOf(Map.class, Json.parse(body));
        Map<String, Object> e = assertInstanceOf(Map.class, outer.get("error"), body);
        assertTrue(e.get("message") instanceof String m && !m.isBlank(), body);
        assertTrue(e.get("type") instanceof String, body);
        assertTrue(e.containsKey("param") && e.containsKey("code"), body);
        return e;
    }

    static Map<String, Object> expect(int status, String path, String body) throws Exception {
        HttpResponse<String> r = post(path, body);
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/json"));
        return error(status, r.statusCode(), r.body());
    }

    @Test
    void invalidJson() throws Exception {
        Map<String, Object> e = expect(400, "/v1/chat/completions", "{\"messages\": [");
        assertEquals("invalid_request_error", e.get("type"));
        assertTrue(((String) e.get("message")).contains("JSON"));
        expect(400, "/v1/chat/completions", "[1, 2]");
        expect(400, "/v1/chat/completions", "");
        expect(400, "/v1/completions", "{\"prompt\": \"x\"} trailing");
    }

    @Test
    void wrongTypes() throws Exception {
        assertEquals("messages", expect(400, "/v1/chat/completions", "{\"messages\": \"hi\"}").get("param"));
        Map<String, Object> e = expect(400, "/v1/chat/completions", "{\"messages\": [{\"role\":\"user\",\"content\":\"hi\"}], \"max_tokens\": \"5\"}");
        assertEquals("max_tokens", e.get("param"));
        assertEquals("invalid_type", e.get("code"));
        assertEquals("temperature", expect(400, "/v1/chat/completions", "{\"messages\": [{\"role\":\"user\",\"content\":\"hi\"}], \"temperature\": \"hot\"}").get("param"));
        assertEquals("stream", expect(400, "/v1/completions", "{\"prompt\": \"x\", \"stream\": \"yes\"}").get("param"));
        assertEquals("stop", expect(400, "/v1/completions", "{\"prompt\": \"x\", \"stop\": 5}").get("param"));
        assertEquals("messages[0].content", expect(400, "/v1/chat/completions", "{\"messages\": [{\"role\":\"user\",\"content\":5}]}").get("param"));
        assertEquals("messages[0].role", expect(400, "/v1/chat/completions", "{\"messages\": [{\"role\":\"wizard\",\"content\":\"x\"}]}").get("param"));
        assertEquals("top_p", expect(400, "/v1/completions", "{\"prompt\": \"x\", \"top_p\": 1.5}").get("param"));
        assertEquals("seed", expect(400, "/v1/completions", "{\"prompt\": \"x\", \"seed\": 1.5}").get("param"));
        assertEquals("prompt", expect(400, "/v1/completions", "{\"prompt\": {\"a\": 1}}").get("param"));
    }

    @Test
    void missingMessages() throws Exception {
        Map<String, Object> e = expect(400, "/v1/chat/completions", "{\"model\": \"stories260K\"}");
        assertEquals("messages", e.get("param"));
        assertEquals("missing_required_parameter", e.get("code"));
        assertEquals("empty_array", expect(400, "/v1/chat/completions", "{\"messages\": []}").get("code"));
        assertEquals("prompt", expect(400, "/v1/completions", "{\"max_tokens\": 4}").get("param"));
    }

    @Test
    void promptLongerThanTheContext() throws Exception {
        String prompt = "Once upon a time there was a dog. ".repeat(40);
        Map<String, Object> e = expect(400, "/v1/completions", "{\"prompt\": " + Json.quote(prompt) + "}");
        assertEquals("context_length_exceeded", e.get("code"));
        assertTrue(((String) e.get("message")).contains("64"), "names the context length");
        assertEquals("context_length_exceeded", expect(400, "/v1/chat/completions",
                "{\"messages\": [{\"role\":\"user\",\"content\":" + Json.quote(prompt) + "}]}").get("code"));
    }

    @Test
    void maxTokensZeroOrNegative() throws Exception {
        Map<String, Object> e = expect(400, "/v1/completions", "{\"prompt\": \"x\", \"max_tokens\": 0}");
        assertEquals("max_tokens", e.get("param"));
        assertEquals("integer_below_min_value", e.get("code"));
        assertEquals("max_tokens", expect(400, "/v1/completions", "{\"prompt\": \"x\", \"max_tokens\": -7}").get("param"));
        assertEquals("max_completion_tokens", expect(400, "/v1/chat/completions",
                "{\"messages\": [{\"role\":\"user\",\"content\":\"x\"}], \"max_completion_tokens\": -1}").get("param"));
    }

    @Test
    void hugeBody() throws Exception {
        String big = "{\"prompt\": \"" + "a".repeat(2 << 20) + "\"}";
        assertEquals("request_too_large", expect(413, "/v1/completions", big).get("code"));
        // a Content-Length far past the limit is refused before any body is sent
        RawHttp.Response r = RawHttp.exchange(model.server.port(), ("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII), 5000);
        error(413, r.status(), r.body());
        // and a chunked body that grows past it
        try (Socket s = new Socket("127.0.0.1", model.server.port())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write("POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = ("100000\r\n" + "a".repeat(0x100000) + "\r\n").getBytes(StandardCharsets.US_ASCII);
            try {
                for (int i = 0; i < 3; i++) out.write(chunk);
            } catch (java.io.IOException closedEarly) {
                // the server may stop reading once it has answered
            }
            RawHttp.Response c = RawHttp.read(s.getInputStream());
            error(413, c.status(), c.body());
        }
    }

    @Test
    void clientThatSendsSlowly() throws Exception {
        // the head and part of the body, then nothing: 408 after the request deadline (0.8 s)
        try (Socket s = new Socket("127.0.0.1", model.server.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"prompt\"".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            long t0 = System.nanoTime();
            RawHttp.Response r = RawHttp.read(s.getInputStream());
            Map<String, Object> e = error(408, r.status(), r.body());
            assertEquals("request_timeout", e.get("code"));
            assertTrue((System.nanoTime() - t0) / 1e9 < 5, "answered at the deadline");
        }
        // a head sent a byte at a time, slower than the deadline allows
        try (Socket s = new Socket("127.0.0.1", model.server.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            byte[] head = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            try {
                for (byte b : head) {
                    out.write(b);
                    out.flush();
                    Thread.sleep(100);
                }
            } catch (java.io.IOException closed) {
                // the server answered and closed
            }
            RawHttp.Response r = RawHttp.read(in);
            error(408, r.status(), r.body());
        }
    }

    @Test
    void wrongPathMethodAndProtocol() throws Exception {
        assertEquals("unknown_url", expect(404, "/v1/embeddings", "{}").get("code"));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(model.base() + "/v1/chat/completions")).GET().build(), HttpResponse.BodyHandlers.ofString());
        error(405, r.statusCode(), r.body());
        RawHttp.Response garbage = RawHttp.exchange(model.server.port(), "HELLO\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 5000);
        error(400, garbage.status(), garbage.body());
        RawHttp.Response bigHead = RawHttp.exchange(model.server.port(), ("GET /health HTTP/1.1\r\nX-Long: " + "a".repeat(40_000) + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII), 5000);
        error(431, bigHead.status(), bigHead.body());
        byte[] badUtf8 = RawHttp.post("/v1/completions", "{\"prompt\": \"\u00e9\"}");
        for (int i = 0; i < badUtf8.length - 1; i++) if ((badUtf8[i] & 0xFF) == 0xC3) badUtf8[i + 1] = (byte) 0x28; // broken 2-byte sequence
        RawHttp.Response u = RawHttp.exchange(model.server.port(), badUtf8, 5000);
        assertTrue(error(400, u.status(), u.body()).get("message").toString().contains("UTF-8"));
    }

    @Test
    void unsupportedOptionsAreRefused() throws Exception {
        assertEquals("n", expect(400, "/v1/chat/completions", "{\"messages\": [{\"role\":\"user\",\"content\":\"x\"}], \"n\": 2}").get("param"));
        assertEquals("messages[0].content[0].type", expect(400, "/v1/chat/completions",
                "{\"messages\": [{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"x\"}}]}]}").get("param"));
    }
}
