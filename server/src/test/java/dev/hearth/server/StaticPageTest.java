package dev.hearth.server;

import dev.hearth.runtime.json.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The chat page over raw HTTP: each file with its type, charset and security headers, HEAD as
 * GET without the body, and every other path (traversals, encoded dots and slashes, folders)
 * the API's JSON 404, never a listing or a file from elsewhere.
 */
class StaticPageTest {
    static TestModel model;

    @BeforeAll
    static void start() throws Exception {
        model = new TestModel(TestModel.stories(), 1, 64, TestModel.options());
    }

    @AfterAll
    static void stop() {
        if (model != null) model.close();
    }

    private static RawHttp.Response send(String method, String target) throws Exception {
        return send(model, method, target);
    }

    private static RawHttp.Response send(TestModel model, String method, String target) throws Exception {
        String raw = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                + (method.equals("POST") ? "Content-Length: 0\r\n" : "") + "\r\n";
        return RawHttp.exchange(model.server.port(), raw.getBytes(StandardCharsets.ISO_8859_1), 5000);
    }

    static String header(RawHttp.Response r, String name) {
        for (String l : r.head().split("\r\n")) {
            int c = l.indexOf(':');
            if (c > 0 && l.substring(0, c).trim().equalsIgnoreCase(name)) return l.substring(c + 1).trim();
        }
        return null;
    }

    private static String resource(String name) throws Exception {
        try (InputStream in = StaticPage.class.getResourceAsStream("/dev/hearth/server/page/" + name)) {
            assertNotNull(in, name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void eachFileHasItsTypeAndHeaders() throws Exception {
        String[][] files = {
                {"/", "index.html", "text/html; charset=utf-8"},
                {"/index.html", "index.html", "text/html; charset=utf-8"},
                {"/app.js", "app.js", "text/javascript; charset=utf-8"},
                {"/app.css", "app.css", "text/css; charset=utf-8"},
                {"/favicon.svg", "favicon.svg", "image/svg+xml"},
        };
        for (String[] f : files) {
            RawHttp.Response r = send("GET", f[0]);
            assertEquals(200, r.status(), f[0] + ": " + r.head());
            assertEquals(f[2], header(r, "Content-Type"), f[0]);
            assertEquals(resource(f[1]), r.body(), f[0]);
            assertEquals(String.valueOf(r.body().getBytes(StandardCharsets.UTF_8).length), header(r, "Content-Length"), f[0]);
            assertEquals("no-cache", header(r, "Cache-Control"), f[0]);
            assertEquals("nosniff", header(r, "X-Content-Type-Options"), f[0]);
            String csp = header(r, "Content-Security-Policy");
            assertNotNull(csp, f[0]);
            assertTrue(csp.contains("default-src 'none'") && csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"), csp);
            assertFalse(csp.contains("unsafe-inline") || csp.contains("unsafe-eval") || csp.contains("*"), csp);
        }
        // a query string does not change which file is served
        assertEquals(resource("app.js"), send("GET", "/app.js?v=2").body());
    }

    @Test
    void thePageNeedsNoInlineCodeAndNoOtherOrigin() throws Exception {
        String html = send("GET", "/").body();
        assertTrue(html.contains("<script src=\"app.js\""), html);
        assertFalse(html.matches("(?s).*<script(?![^>]*\\bsrc=)[^>]*>.*"), "inline script in the page");
        assertFalse(html.contains("<style") || html.contains(" style=") || html.contains(" onclick="), "inline style or handler in the page");
        assertFalse(html.contains("http://") || html.contains("https://") || html.contains("//cdn"), "the page loads nothing from another origin");
        assertTrue(html.contains("name=\"viewport\""), "viewport meta");
        String js = send("GET", "/app.js").body();
        assertFalse(js.contains("eval(") || js.contains("new Function"), "no eval in app.js");
    }

    @Test
    void headIsGetWithoutBody() throws Exception {
        for (String path : new String[] {"/", "/app.js", "/app.css"}) {
            RawHttp.Response get = send("GET", path), head = send("HEAD", path);
            assertEquals(200, head.status(), path);
            assertEquals("", head.body(), path);
            assertEquals(header(get, "Content-Length"), header(head, "Content-Length"), path);
            assertEquals(header(get, "Content-Type"), header(head, "Content-Type"), path);
            assertEquals(header(get, "Content-Security-Policy"), header(head, "Content-Security-Policy"), path);
        }
    }

    @Test
    void thePageNeedsNoKeyButTheApiStillDoes() throws Exception {
        try (TestModel keyed = new TestModel(TestModel.stories(), 1, 64, TestModel.options().withApiKey("page-test-key"))) {
            assertEquals(200, send(keyed, "GET", "/").status());
            assertEquals(200, send(keyed, "GET", "/app.js").status());
            RawHttp.Response models = send(keyed, "GET", "/v1/models");
            assertEquals(401, models.status(), models.body());
        }
    }

    @Test
    void otherMethodsAre405() throws Exception {
        RawHttp.Response r = send("POST", "/");
        assertEquals(405, r.status(), r.body());
        assertEquals("GET, HEAD", header(r, "Allow"));
        assertTrue(r.body().contains("method_not_allowed"), r.body());
        assertEquals(405, send("DELETE", "/app.js").status());
    }

    @SuppressWarnings("unchecked")
    @Test
    void anyOtherPathIsTheJson404() throws Exception {
        String[] paths = {
                "/nope.html", "/app.js/", "/index.htm", "/page/", "/dev/hearth/server/page/app.js",
                "/../pom.xml", "/..%2fpom.xml", "/%2e%2e/%2e%2e/etc/passwd", "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                "/app.js%00.html", "/%2fapp.js", "//app.js", "/./app.js", "/static/../app.js", "/..\\..\\pom.xml",
                "/META-INF/MANIFEST.MF", "/dev/hearth/server/StaticPage.class", "/%61pp.js", "/APP.JS",
        };
        for (String path : paths) {
            RawHttp.Response r = send("GET", path);
            assertEquals(404, r.status(), path + ": " + r.head() + r.body());
            assertEquals("application/json", header(r, "Content-Type"), path);
            Map<String, Object> e = (Map<String, Object>) ((Map<String, Object>) Json.parse(r.body())).get("error");
            assertEquals("unknown_url", e.get("code"), path);
            assertNull(header(r, "Content-Security-Policy"), path);
            assertFalse(r.body().contains("<"), path + ": " + r.body());
        }
    }
}
