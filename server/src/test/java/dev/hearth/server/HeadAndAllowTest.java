package dev.hearth.server;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** HEAD is answered wherever GET is (the same head, no body); a 405 says in Allow which methods the path takes. */
class HeadAndAllowTest {
    static TestModel model;

    @BeforeAll
    static void start() throws Exception {
        model = new TestModel(TestModel.stories(), 1, 64, TestModel.options());
    }

    @AfterAll
    static void stop() {
        if (model != null) model.close();
    }

    private static RawHttp.Response send(String method, String path) throws Exception {
        String raw = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                + (method.equals("POST") || method.equals("PUT") ? "Content-Length: 0\r\n" : "") + "\r\n";
        return RawHttp.exchange(model.server.port(), raw.getBytes(StandardCharsets.US_ASCII), 5000);
    }

    private static String header(RawHttp.Response r, String name) {
        for (String l : r.head().split("\r\n")) {
            int c = l.indexOf(':');
            if (c > 0 && l.substring(0, c).trim().equalsIgnoreCase(name)) return l.substring(c + 1).trim();
        }
        return null;
    }

    @Test
    void headIsAnsweredWhereGetIs() throws Exception {
        for (String path : new String[] {"/health", "/v1/models", "/v1/models/stories260K"}) {
            RawHttp.Response get = send("GET", path), head = send("HEAD", path);
            assertEquals(200, get.status(), path + ": " + get.body());
            assertEquals(200, head.status(), path + ": " + head.head());
            assertEquals("", head.body(), path);
            assertEquals(header(get, "Content-Length"), header(head, "Content-Length"), path);
            assertEquals(header(get, "Content-Type"), header(head, "Content-Type"), path);
        }
    }

    @Test
    void methodNotAllowedSaysWhichAre() throws Exception {
        RawHttp.Response r = send("POST", "/health");
        assertEquals(405, r.status());
        assertEquals("GET, HEAD", header(r, "Allow"), r.head());
        r = send("DELETE", "/v1/models");
        assertEquals(405, r.status());
        assertEquals("GET, HEAD", header(r, "Allow"), r.head());
        r = send("GET", "/v1/chat/completions");
        assertEquals(405, r.status());
        assertEquals("POST", header(r, "Allow"), r.head());
        assertTrue(r.body().contains("method_not_allowed"), r.body());
        r = send("HEAD", "/v1/completions");
        assertEquals(405, r.status());
        assertEquals("POST", header(r, "Allow"), r.head());
    }
}
