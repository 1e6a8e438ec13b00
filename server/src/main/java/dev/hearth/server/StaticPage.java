package dev.hearth.server;

import dev.hearth.server.http.ApiError;
import dev.hearth.server.http.Exchange;
import dev.hearth.server.http.Http1Server;
import dev.hearth.server.http.Request;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The chat page: a fixed list of files read from the jar at start (never from the file system),
 * each served at its own path for GET and HEAD. Every other path goes to the next handler, so a
 * path that is not one of these files (a traversal, an encoded slash, a folder) gets that
 * handler's JSON 404.
 */
final class StaticPage implements Http1Server.Handler {
    /** Only this server's own files and API: no inline code, no other origin, no framing. */
    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
            + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private record File(String contentType, byte[] body) {
    }

    private static final String ROOT = "/dev/hearth/server/page/";

    private final Map<String, File> files = new LinkedHashMap<>();
    private final Http1Server.Handler next;

    StaticPage(Http1Server.Handler next) {
        this.next = next;
        File index = load("index.html", "text/html; charset=utf-8");
        files.put("/", index);
        files.put("/index.html", index);
        files.put("/app.js", load("app.js", "text/javascript; charset=utf-8"));
        files.put("/app.css", load("app.css", "text/css; charset=utf-8"));
        files.put("/favicon.svg", load("favicon.svg", "image/svg+xml"));
    }

    private static File load(String name, String contentType) {
        try (InputStream in = StaticPage.class.getResourceAsStream(ROOT + name)) {
            if (in == null) throw new IllegalStateException("the chat page's " + name + " is missing from the server jar (" + ROOT + name + ")");
            return new File(contentType, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("could not read the chat page's " + name + " from the server jar", e);
        }
    }

    @Override
    public void handle(Request req, Exchange ex) throws IOException {
        File f = files.get(req.path());
        if (f == null) {
            next.handle(req, ex);
            return;
        }
        if (!req.method().equals("GET") && !req.method().equals("HEAD")) {
            throw ApiError.methodNotAllowed(req.path(), req.method(), "GET, HEAD");
        }
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Cache-Control", "no-cache");
        headers.put("X-Content-Type-Options", "nosniff");
        headers.put("Content-Security-Policy", CSP);
        headers.put("Referrer-Policy", "no-referrer");
        headers.put("X-Frame-Options", "DENY");
        ex.send(200, f.contentType(), f.body(), headers);
    }
}
