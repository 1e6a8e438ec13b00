package dev.hearth.server;

import dev.hearth.runtime.json.Json;
import dev.hearth.server.http.Limits;
import dev.hearth.server.http.Request;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a hostile client or web page tries: slow request heads on hundreds of sockets, a foreign
 * Host (DNS rebinding), a text/plain POST (no preflight), cross-origin preflights; and that each
 * error is logged in one line.
 */
class HardeningTest {
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    static final String COMPLETION = "{\"prompt\": \"Once upon a time\", \"max_tokens\": 4, \"temperature\": 0}";

    static RawHttp.Response raw(TestModel m, String request) throws IOException {
        return RawHttp.exchange(m.server.port(), request.getBytes(StandardCharsets.UTF_8), 10_000);
    }

    static RawHttp.Response post(TestModel m, String path, String body, String contentType, String... headers) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        if (contentType != null) sb.append("Content-Type: ").append(contentType).append("\r\n");
        for (String h : headers) sb.append(h).append("\r\n");
        sb.append("Content-Length: ").append(b.length).append("\r\n\r\n").append(body);
        return raw(m, sb.toString());
    }

    static String header(RawHttp.Response r, String name) {
        for (String l : r.head().split("\r\n")) {
            int c = l.indexOf(':');
            if (c > 0 && l.substring(0, c).trim().equalsIgnoreCase(name)) return l.substring(c + 1).trim();
        }
        return null;
    }

    static String code(RawHttp.Response r) {
        return (String) BadInputTest.error(r.status(), r.status(), r.body()).get("code");
    }

    @Test
    void slowHeadsOnTwoHundredSocketsLeaveHealthAndCompletionsAnswering() throws Exception {
        try (TestModel m = new TestModel(TestModel.stories(), 1, 64, TestModel.options())) {
            int port = m.server.port();
            List<Socket> slow = new ArrayList<>();
            AtomicBoolean stop = new AtomicBoolean();
            try {
                // 200 clients from 13 loopback addresses (at most 16 connections each), one byte a second
                for (int i = 0; i < 200; i++) {
                    Socket s = new Socket();
                    s.bind(new InetSocketAddress("127.0.0." + (2 + i % 13), 0));
                    s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                    slow.add(s);
                }
                byte[] head = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
                Thread trickle = Thread.ofPlatform().daemon().start(() -> {
                    for (int k = 0; k < head.length && !stop.get(); k++) {
                        for (Socket s : slow) {
                            try {
                                s.getOutputStream().write(head[k]);
                            } catch (IOException ignored) {
                                // closed by the server
                            }
                        }
                        try {
                            Thread.sleep(1000);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                });
                long end = System.nanoTime() + 5_000_000_000L;
                int rounds = 0;
                while (System.nanoTime() < end) {
                    long t0 = System.nanoTime();
                    HttpResponse<String> h = HTTP.send(HttpRequest.newBuilder(URI.create(m.base() + "/health")).timeout(Duration.ofSeconds(1)).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, h.statusCode(), h.body());
                    HttpResponse<String> c = HTTP.send(HttpRequest.newBuilder(URI.create(m.base() + "/v1/completions")).timeout(Duration.ofSeconds(1))
                            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(COMPLETION)).build(), HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, c.statusCode(), c.body());
                    assertTrue(System.nanoTime() - t0 < 2_000_000_000L, "health and a completion within a second each");
                    rounds++;
                    Thread.sleep(200);
                }
                assertTrue(rounds >= 3, "rounds " + rounds);
                assertTrue(m.server.connections() >= 150, "the slow clients are still connected (" + m.server.connections() + "), so they were not simply refused");
                stop.set(true);
                trickle.interrupt();
            } finally {
                for (Socket s : slow) s.close();
            }
        }
    }

    @Test
    void aSlowHeadIsCutAtTheHeadDeadlineAndOneAddressGetsItsShareOnly() throws Exception {
        Limits limits = Limits.DEFAULTS.withHeadTimeout(Duration.ofMillis(1500)).withMaxConnectionsPerClient(4);
        try (TestModel m = new TestModel(TestModel.stories(), 1, 64, TestModel.options().withLimits(limits))) {
            int port = m.server.port();
            try (Socket s = new Socket("127.0.0.1", port)) {
                s.setSoTimeout(10_000);
                OutputStream out = s.getOutputStream();
                InputStream in = s.getInputStream();
                long t0 = System.nanoTime();
                out.write("GET /health HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
                // one header byte every 300 ms: never idle for long, but the head never ends
                Thread t = Thread.ofPlatform().daemon().start(() -> {
                    try {
                        for (int i = 0; i < 40; i++) {
                            out.write('X');
                            Thread.sleep(300);
                        }
                    } catch (IOException | InterruptedException ignored) {
                        // cut off
                    }
                });
                RawHttp.Response r = RawHttp.read(in);
                double seconds = (System.nanoTime() - t0) / 1e9;
                assertEquals(408, r.status(), r.body());
                assertTrue(seconds > 1.2 && seconds < 4, "cut after " + seconds + " s");
                t.interrupt();
            }
            List<Socket> mine = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    Socket s = new Socket();
                    s.bind(new InetSocketAddress("127.0.0.3", 0));
                    s.connect(new InetSocketAddress("127.0.0.1", port));
                    mine.add(s);
                }
                long end = System.currentTimeMillis() + 5000;
                while (m.server.connections() < 4 && System.currentTimeMillis() < end) Thread.sleep(5);
                try (Socket fifth = new Socket()) {
                    fifth.bind(new InetSocketAddress("127.0.0.3", 0));
                    fifth.connect(new InetSocketAddress("127.0.0.1", port));
                    fifth.setSoTimeout(5000);
                    RawHttp.Response r = RawHttp.read(fifth.getInputStream());
                    assertEquals(429, r.status(), r.body());
                    assertEquals("too_many_connections", code(r));
                }
                // another address is not affected
                assertEquals(200, raw(m, "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").status());
            } finally {
                for (Socket s : mine) s.close();
            }
        }
    }

    @Test
    void onALoopbackBindOnlyLoopbackHostNamesAreServed() throws Exception {
        try (TestModel m = new TestModel(TestModel.stories(), 1, 64, TestModel.options())) {
            RawHttp.Response evil = raw(m, "GET /v1/models HTTP/1.1\r\nHost: evil.example:8080\r\nConnection: close\r\n\r\n");
            assertEquals(403, evil.status(), evil.body());
            assertEquals("host_not_allowed", code(evil));
            assertTrue(evil.body().contains("--allowed-hosts"), evil.body());
            // a page whose DNS name was rebound to 127.0.0.1 sends its own name as Host
            RawHttp.Response rebound = raw(m, "POST /v1/completions HTTP/1.1\r\nHost: attacker.example\r\nContent-Type: application/json\r\nConnection: close\r\n"
                    + "Content-Length: " + COMPLETION.length() + "\r\n\r\n" + COMPLETION);
            assertEquals(403, rebound.status(), rebound.body());
            assertEquals(200, post(m, "/v1/completions", COMPLETION, "application/json").status());
            for (String ok : List.of("localhost", "localhost:8080", "127.0.0.1:1234", "[::1]:8080", "LOCALHOST.", "127.0.0.1")) {
                assertEquals(200, raw(m, "GET /v1/models HTTP/1.1\r\nHost: " + ok + "\r\nConnection: close\r\n\r\n").status(), ok);
            }
        }
        ServerPolicy p = ServerPolicy.DEFAULTS.withAllowedHosts(List.of("my.lan"));
        try (TestModel m = new TestModel(TestModel.stories(), 1, 64, TestModel.options().withPolicy(p))) {
            assertEquals(200, raw(m, "GET /health HTTP/1.1\r\nHost: my.lan:8080\r\nConnection: close\r\n\r\n").status());
            assertEquals(403, raw(m, "GET /health HTTP/1.1\r\nHost: other.lan\r\nConnection: close\r\n\r\n").status());
        }
    }

    @Test
    void beyondLoopbackAnyHostUnlessAllowedHostsNamesThem() {
        Request foreign = new Request("GET", "/health", "", "HTTP/1.1", Map.of("host", "server.example:8080"), new byte[0]);
        new Gate(ServerOptions.defaults().withHost("0.0.0.0")).checkHost(foreign);
        Gate listed = new Gate(ServerOptions.defaults().withHost("0.0.0.0").withPolicy(ServerPolicy.DEFAULTS.withAllowedHosts(List.of("Server.Example"))));
        listed.checkHost(foreign);
        listed.checkHost(new Request("GET", "/health", "", "HTTP/1.1", Map.of("host", "localhost"), new byte[0]));
        try {
            listed.checkHost(new Request("GET", "/health", "", "HTTP/1.1", Map.of("host", "evil.example"), new byte[0]));
            throw new AssertionError("a host not listed passed");
        } catch (dev.hearth.server.http.ApiError e) {
            assertEquals(403, e.status());
        }
        try {
            new Gate(ServerOptions.defaults()).checkHost(foreign);
            throw new AssertionError("a foreign host passed a loopback bind");
        } catch (dev.hearth.server.http.ApiError e) {
            assertEquals(403, e.status());
        }
    }

    @Test
    void postBodiesMustBeJson() throws Exception {
        try (TestModel m = new TestModel(TestModel.stories(), 1, 64, TestModel.options())) {
            RawHttp.Response text = post(m, "/v1/completions", COMPLETION, "text/plain");
            assertEquals(415, text.status(), text.body());
            assertTrue(text.body().contains("application/json"), text.body());
            assertEquals(415, post(m, "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", "application/x-www-form-urlencoded").status());
            assertEquals(415, post(m, "/v1/completions", COMPLETION, null).status());
            assertEquals(200, post(m, "/v1/completions", COMPLETION, "Application/JSON; charset=utf-8").status());
        }
    }

    @Test
    void corsIsOffUnlessAnOriginIsAllowed() throws Exception {
        String preflight = "OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: localhost:8080\r\nOrigin: %s\r\nAccess-Control-Request-Method: POST\r\n"
                + "Access-Control-Request-Headers: authorization, content-type\r\nConnection: close\r\n\r\n";
        try (TestModel m = new TestModel(TestModel.stories(), 1, 64, TestModel.options())) {
            RawHttp.Response r = raw(m, preflight.formatted("https://app.example"));
            assertEquals(403, r.status(), r.body());
            assertEquals("origin_not_allowed", code(r));
            assertNull(header(r, "Access-Control-Allow-Origin"));
            RawHttp.Response get = raw(m, "GET /v1/models HTTP/1.1\r\nHost: localhost\r\nOrigin: https://app.example\r\nConnection: close\r\n\r\n");
            assertEquals(200, get.status());
            assertNull(header(get, "Access-Control-Allow-Origin"));
        }
        ServerPolicy p = ServerPolicy.DEFAULTS.withCorsOrigins(List.of("https://app.example", "http://localhost:3000"));
        try (TestModel m = new TestModel(TestModel.stories(), 1, 64, TestModel.options().withPolicy(p))) {
            RawHttp.Response r = raw(m, preflight.formatted("https://app.example"));
            assertEquals(204, r.status(), r.head());
            assertEquals("https://app.example", header(r, "Access-Control-Allow-Origin"));
            assertTrue(header(r, "Access-Control-Allow-Methods").contains("POST"));
            assertEquals("authorization, content-type", header(r, "Access-Control-Allow-Headers"));
            assertEquals("600", header(r, "Access-Control-Max-Age"));
            assertEquals(403, raw(m, preflight.formatted("https://evil.example")).status());
            RawHttp.Response answer = post(m, "/v1/completions", COMPLETION, "application/json", "Origin: http://localhost:3000");
            assertEquals(200, answer.status());
            assertEquals("http://localhost:3000", header(answer, "Access-Control-Allow-Origin"));
            assertNull(header(post(m, "/v1/completions", COMPLETION, "application/json", "Origin: https://evil.example"), "Access-Control-Allow-Origin"));
        }
        try (TestModel m = new TestModel(TestModel.stories(), 1, 64, TestModel.options().withPolicy(ServerPolicy.DEFAULTS.withCorsOrigins(List.of("*"))))) {
            RawHttp.Response r = raw(m, preflight.formatted("https://anyone.example"));
            assertEquals(204, r.status());
            assertEquals("*", header(r, "Access-Control-Allow-Origin"));
        }
    }

    @Test
    void everyErrorIsOneLineOnTheLog() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream log = new PrintStream(buf, true, StandardCharsets.UTF_8);
        try (TestModel m = new TestModel(TestModel.stories(), 1, 64, TestModel.options().withLog(log))) {
            raw(m, "GET /nope HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            post(m, "/v1/completions", COMPLETION, "text/plain");
            post(m, "/v1/completions", "{\"prompt\": \"" + "big ".repeat(100) + "\"}", "application/json");
            raw(m, "HELLO\r\n\r\n");
            assertEquals(200, post(m, "/v1/completions", COMPLETION, "application/json").status());
        }
        List<String> errors = buf.toString(StandardCharsets.UTF_8).lines().filter(l -> l.matches("hearth serve: [45]\\d\\d .*")).toList();
        assertEquals(4, errors.size(), buf.toString(StandardCharsets.UTF_8));
        assertTrue(errors.get(0).startsWith("hearth serve: 404 GET /nope from 127.0.0.1: unknown_url: "), errors.get(0));
        assertTrue(errors.get(1).startsWith("hearth serve: 415 POST /v1/completions from 127.0.0.1: unsupported_media_type: "), errors.get(1));
        assertTrue(errors.get(2).startsWith("hearth serve: 400 POST /v1/completions from 127.0.0.1: context_length_exceeded: "), errors.get(2));
        assertTrue(errors.get(3).startsWith("hearth serve: 400 - - from 127.0.0.1: "), errors.get(3));
    }

    @Test
    void metricsAreOffByDefaultAndCountRequestsWhenOn() throws Exception {
        try (TestModel m = new TestModel(TestModel.stories(), 1, 64, TestModel.options())) {
            assertEquals(404, raw(m, "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").status());
        }
        ServerOptions o = TestModel.options().withApiKey("k3y").withPolicy(ServerPolicy.DEFAULTS.withMetrics(true));
        try (TestModel m = new TestModel(TestModel.stories(), 2, 64, o)) {
            String get = "GET /metrics HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer k3y\r\nConnection: close\r\n\r\n";
            assertEquals(401, raw(m, "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").status());
            Map<String, Double> before = parse(raw(m, get));
            assertEquals(0.0, before.getOrDefault("hearth_generated_tokens_total", -1.0));
            assertEquals(2.0, before.get("hearth_slots"));
            assertEquals(64.0, before.get("hearth_kv_cache_cells_total{model=\"" + Metrics.label(m.server.models().names().getFirst()) + "\",slot=\"1\"}"), before.toString());
            assertEquals(200, post(m, "/v1/completions", COMPLETION, "application/json", "Authorization: Bearer k3y").status());
            assertEquals(415, post(m, "/v1/completions", COMPLETION, "text/plain", "Authorization: Bearer k3y").status());
            // a generation is counted when its slot is released, just after its response is sent
            Map<String, Double> after = settled(m, get, "hearth_generated_tokens_total", 4.0);
            assertEquals(4.0, after.get("hearth_generated_tokens_total"));
            assertTrue(after.get("hearth_prompt_tokens_total") >= 4, after.toString());
            assertEquals(1.0, after.get("hearth_requests_total{route=\"/v1/completions\",status=\"200\"}"));
            assertEquals(1.0, after.get("hearth_requests_total{route=\"/v1/completions\",status=\"415\"}"));
            assertTrue(after.get("hearth_requests_total{route=\"/metrics\",status=\"200\"}")
                    >= before.getOrDefault("hearth_requests_total{route=\"/metrics\",status=\"200\"}", 0.0) + 1, after.toString());
            assertEquals(1.0, after.get("hearth_errors_total{status=\"415\"}"));
            assertTrue(after.get("hearth_errors_total{status=\"401\"}") >= 1);
            assertEquals(1.0, after.get("hearth_time_to_first_token_seconds_count"));
            assertEquals(1.0, after.get("hearth_time_to_first_token_seconds_bucket{le=\"+Inf\"}"));
            assertEquals(1.0, after.get("hearth_generation_tokens_per_second_count"));
            String model = "model=\"" + Metrics.label(m.server.models().names().getFirst()) + "\",";
            assertTrue(after.get("hearth_kv_cache_cells_used{" + model + "slot=\"0\"}") + after.get("hearth_kv_cache_cells_used{" + model + "slot=\"1\"}") > 4, after.toString());
            assertEquals(0.0, after.get("hearth_slots_busy"));
            assertEquals(0.0, after.get("hearth_requests_queued"));
            // Ollama's routes count too
            String name = m.server.models().names().getFirst();
            assertEquals(200, post(m, "/api/generate", "{\"model\": \"" + name + "\", \"prompt\": \"Once\", \"stream\": false, \"options\": {\"num_predict\": 3}}",
                    "application/json", "Authorization: Bearer k3y").status());
            Map<String, Double> ollama = settled(m, get, "hearth_generated_tokens_total", 7.0);
            assertEquals(7.0, ollama.get("hearth_generated_tokens_total"), ollama.toString());
            assertEquals(2.0, ollama.get("hearth_time_to_first_token_seconds_count"));
        }
    }

    /** The metrics once {@code key} reads {@code value} and no slot is busy, or after 5 s as they are then. */
    private static Map<String, Double> settled(TestModel m, String get, String key, double value) throws IOException, InterruptedException {
        long end = System.nanoTime() + 5_000_000_000L;
        while (true) {
            Map<String, Double> now = parse(raw(m, get));
            if (now.get(key) == value && now.get("hearth_slots_busy") == 0.0 || System.nanoTime() > end) return now;
            Thread.sleep(20);
        }
    }

    /** The samples of a Prometheus text exposition, checked line by line. */
    static Map<String, Double> parse(RawHttp.Response r) {
        assertEquals(200, r.status(), r.body());
        assertTrue(header(r, "Content-Type").startsWith("text/plain; version=0.0.4"), r.head());
        Map<String, Double> samples = new java.util.LinkedHashMap<>();
        java.util.Set<String> typed = new java.util.HashSet<>();
        for (String line : r.body().lines().toList()) {
            if (line.startsWith("# TYPE ")) {
                String[] p = line.split(" ");
                assertEquals(4, p.length, line);
                assertTrue(List.of("counter", "gauge", "histogram").contains(p[3]), line);
                assertTrue(typed.add(p[2]), "typed twice: " + line);
                continue;
            }
            if (line.startsWith("# HELP ")) continue;
            assertTrue(line.matches("[a-zA-Z_:][a-zA-Z0-9_:]*(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"[^\"\\\\]*\",?)*})? [-+0-9.eE]+|.* \\+Inf"), line);
            int sp = line.lastIndexOf(' ');
            String name = line.substring(0, sp);
            String base = name.replaceFirst("\\{.*", "").replaceFirst("_(bucket|sum|count)$", "");
            assertTrue(typed.contains(base) || typed.contains(name.replaceFirst("\\{.*", "")), "sample without # TYPE: " + line);
            assertFalse(samples.containsKey(name), "repeated sample " + name);
            samples.put(name, Double.parseDouble(line.substring(sp + 1)));
        }
        return samples;
    }
}
