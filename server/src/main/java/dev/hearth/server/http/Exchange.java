package dev.hearth.server.http;

import dev.hearth.runtime.json.Json;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** The answer to one request: a whole body at once, or a stream of server-sent events. */
public final class Exchange {
    private final Connection conn;
    private final Request request;
    private boolean started;
    private boolean closing;
    private EventStream stream;
    private final Map<String, String> extraHeaders = new LinkedHashMap<>();
    private ApiError error;

    Exchange(Connection conn, Request request) {
        this.conn = conn;
        this.request = request;
    }

    /** Whether the status line has been sent. */
    public boolean started() {
        return started;
    }

    /** Adds a header to the answer (set before it begins), e.g. Access-Control-Allow-Origin. */
    public void header(String name, String value) {
        if (started) throw new IllegalStateException("the answer has already begun");
        extraHeaders.put(name, value);
    }

    /** The request being answered (null where it could not be read). */
    public Request request() {
        return request;
    }

    /** Closes the connection after this answer. */
    public void closeAfter() {
        closing = true;
    }

    boolean closing() {
        return closing;
    }

    /**
     * Whether the client has closed the connection. Polls the socket (about a millisecond); a
     * client that half-closes its side after sending the request looks gone too.
     */
    public boolean clientGone() {
        return conn.peerClosed();
    }

    public void sendJson(int status, Object body) throws IOException {
        send(status, "application/json", Json.write(body).getBytes(StandardCharsets.UTF_8), Map.of());
    }

    public void sendError(ApiError e) throws IOException {
        Map<String, String> extra = switch (e.status()) {
            case 401 -> Map.of("WWW-Authenticate", "Bearer");
            case 503 -> Map.of("Retry-After", "1");
            case 405 -> e.allow() != null ? Map.of("Allow", e.allow()) : Map.of();
            default -> Map.of();
        };
        if (e.status() == 413 || e.status() == 408 || e.status() == 431) closing = true;
        error = e;
        send(e.status(), "application/json", e.json().getBytes(StandardCharsets.UTF_8), extra);
    }

    /** A 204 answer: no body, the given headers. */
    public void sendNoContent(Map<String, String> headers) throws IOException {
        send(204, null, new byte[0], headers);
    }

    /** The answer with a body of {@code contentType} (null: no Content-Type). */
    public void send(int status, String contentType, byte[] body, Map<String, String> headers) throws IOException {
        if (started) throw new IllegalStateException("the answer has already begun");
        started = true;
        StringBuilder h = head(status);
        if (contentType != null) h.append("Content-Type: ").append(contentType).append("\r\n");
        if (status != 204) h.append("Content-Length: ").append(body.length).append("\r\n");
        headers.forEach((k, v) -> h.append(k).append(": ").append(v).append("\r\n"));
        h.append("\r\n");
        conn.server().answered(request, conn.client(), status, error);
        OutputStream out = conn.out();
        out.write(h.toString().getBytes(StandardCharsets.UTF_8));
        if (request == null || !request.method().equals("HEAD")) out.write(body);
        out.flush();
    }

    private StringBuilder head(int status) {
        StringBuilder h = new StringBuilder(256);
        h.append("HTTP/1.1 ").append(status).append(' ').append(reason(status)).append("\r\n");
        h.append("Server: hearth\r\n");
        h.append("Connection: ").append(closing ? "close" : "keep-alive").append("\r\n");
        extraHeaders.forEach((k, v) -> h.append(k).append(": ").append(v).append("\r\n"));
        return h;
    }

    /** Begins a 200 answer of server-sent events (chunked, or until close for HTTP/1.0). */
    public EventStream eventStream() throws IOException {
        return begin("text/event-stream; charset=utf-8", false);
    }

    /** Begins a 200 answer of newline-delimited JSON (Ollama's streams): each {@link EventStream#send} is one line. */
    public EventStream lineStream() throws IOException {
        return begin("application/x-ndjson", true);
    }

    private EventStream begin(String contentType, boolean lines) throws IOException {
        if (started) throw new IllegalStateException("the answer has already begun");
        started = true;
        boolean chunked = request != null && request.version().equals("HTTP/1.1");
        if (!chunked) closing = true;
        StringBuilder h = head(200);
        h.append("Content-Type: ").append(contentType).append("\r\n");
        h.append("Cache-Control: no-cache\r\n");
        h.append("X-Accel-Buffering: no\r\n");
        if (chunked) h.append("Transfer-Encoding: chunked\r\n");
        h.append("\r\n");
        conn.server().answered(request, conn.client(), 200, null);
        conn.out().write(h.toString().getBytes(StandardCharsets.UTF_8));
        conn.out().flush();
        stream = new EventStream(conn.out(), chunked, lines);
        return stream;
    }

    /** Ends the answer; false if the connection can no longer be used. */
    boolean finish() {
        if (!started) return false;
        if (stream != null) {
            try {
                stream.close();
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }

    static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 204 -> "No Content";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 408 -> "Request Timeout";
            case 413 -> "Content Too Large";
            case 415 -> "Unsupported Media Type";
            case 422 -> "Unprocessable Content";
            case 429 -> "Too Many Requests";
            case 431 -> "Request Header Fields Too Large";
            case 500 -> "Internal Server Error";
            case 501 -> "Not Implemented";
            case 503 -> "Service Unavailable";
            case 505 -> "HTTP Version Not Supported";
            default -> "Status";
        };
    }
}
