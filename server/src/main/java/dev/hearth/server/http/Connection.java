package dev.hearth.server.http;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One client connection: reads requests one after another (keep-alive), hands each to the
 * handler, and closes on request, on a protocol error, on a timeout or when the client goes.
 * The request head must arrive whole within the head deadline (counted from the connection's
 * start for its first request, from the first byte for the next ones), however slowly its bytes
 * trickle in; the body within the request deadline.
 */
final class Connection implements Runnable {
    private final Http1Server server;
    private final Socket socket;
    private final Limits limits;
    private BufferedInputStream in;
    private OutputStream out;
    private volatile long writeSince;
    private final long startedAt = System.nanoTime();

    Connection(Http1Server server, Socket socket) {
        this.server = server;
        this.socket = socket;
        this.limits = server.limits();
    }

    InetAddress client() {
        return socket.getInetAddress();
    }

    Http1Server server() {
        return server;
    }

    long writeSince() {
        return writeSince;
    }

    /** Closes the socket from another thread: a blocked read or write in this connection fails. */
    void abort() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    OutputStream out() {
        return out;
    }

    @Override
    public void run() {
        try {
            socket.setTcpNoDelay(true);
            in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
            out = new BufferedOutputStream(new TimedOutput(socket.getOutputStream()), 16 * 1024);
            serve();
        } catch (IOException | RuntimeException ignored) {
            // the client went away, or the server is closing
        } finally {
            abort();
            server.closed(this);
        }
    }

    private void serve() throws IOException {
        boolean first = true;
        while (!socket.isClosed()) {
            long headDeadline;
            if (first) {
                headDeadline = startedAt + limits.headTimeout().toNanos();
            } else {
                socket.setSoTimeout((int) Math.max(1, limits.idleTimeout().toMillis()));
                try {
                    in.mark(1);
                    if (in.read() < 0) return;
                    in.reset();
                } catch (SocketTimeoutException e) {
                    return; // idle keep-alive connection
                }
                headDeadline = System.nanoTime() + limits.headTimeout().toNanos();
            }
            long deadline = System.nanoTime() + limits.requestTimeout().toNanos();
            Request req;
            try {
                if (first && in.available() == 0) {
                    setDeadline(headDeadline, true);
                    in.mark(1);
                    int b;
                    try {
                        b = in.read();
                    } catch (SocketTimeoutException e) {
                        return; // connected and never sent anything: closed without an answer
                    }
                    if (b < 0) return;
                    in.reset();
                }
                first = false;
                req = readRequest(headDeadline, deadline);
            } catch (ApiError e) {
                Exchange ex = new Exchange(this, null);
                ex.closeAfter();
                ex.sendError(e);
                lingeringClose();
                return;
            }
            Exchange ex = new Exchange(this, req);
            if (!req.keepAlive()) ex.closeAfter();
            boolean ran;
            try {
                ran = server.dispatch(() -> handle(req, ex));
            } catch (InterruptedException e) {
                return;
            }
            if (!ran) {
                ex.closeAfter();
                ex.sendError(new ApiError(503, "server_error", null, "server_busy", "The server is answering too many requests; retry later."));
            }
            if (!ex.finish()) return;
            if (ex.closing()) {
                lingeringClose();
                return;
            }
        }
    }

    /** Runs the handler for one request; an error before the answer began is answered as such. */
    private void handle(Request req, Exchange ex) {
        try {
            try {
                server.handler().handle(req, ex);
            } catch (ApiError e) {
                if (ex.started()) return;
                ex.sendError(e);
            } catch (RuntimeException | StackOverflowError | OutOfMemoryError | LinkageError e) {
                // a failure of the server's own, or a request that exhausted the stack or the heap: a 500, not a dropped connection
                if (ex.started()) return;
                System.err.println("hearth serve: internal error on " + req.method() + " " + req.path() + ": " + e);
                ex.sendError(new ApiError(500, "server_error", null, null, "Internal error: " + e));
            }
        } catch (IOException e) {
            ex.closeAfter();
            abort();
        }
    }

    /**
     * Closes after an answer sent before the request was read whole (413, 408): stops writing,
     * reads and drops what the client still sends for a short while, so that it reads the answer
     * instead of a connection reset.
     */
    private void lingeringClose() {
        try {
            out.flush();
            socket.shutdownOutput();
            socket.setSoTimeout(250);
            long end = System.nanoTime() + 2_000_000_000L;
            long budget = Math.max(limits.maxBodyBytes(), 1L << 20) * 8;
            byte[] junk = new byte[64 * 1024];
            while (System.nanoTime() < end && budget > 0) {
                int n = in.read(junk);
                if (n < 0) break;
                budget -= n;
            }
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    /** Whether the client has closed its side (polled without losing any bytes it sent). */
    boolean peerClosed() {
        try {
            if (in.available() > 0) return false;
            socket.setSoTimeout(1);
            in.mark(1);
            int b = in.read();
            if (b < 0) return true;
            in.reset();
            return false;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    private void setDeadline(long deadline, boolean head) throws IOException {
        long ms = (deadline - System.nanoTime()) / 1_000_000;
        if (ms <= 0) throw timeout(head);
        socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, ms));
    }

    private void setDeadline(long deadline) throws IOException {
        setDeadline(deadline, false);
    }

    private ApiError timeout(boolean head) {
        if (head) {
            return new ApiError(408, "invalid_request_error", null, "request_timeout",
                    "The request line and headers were not received within " + limits.headTimeout().toMillis() / 1000.0 + " s.");
        }
        return new ApiError(408, "invalid_request_error", null, "request_timeout",
                "The request was not received within " + limits.requestTimeout().toSeconds() + " s.");
    }

    private ApiError timeout() {
        return timeout(false);
    }

    private int read(long deadline) throws IOException {
        return read(deadline, false);
    }

    private int read(long deadline, boolean head) throws IOException {
        if (in.available() == 0) setDeadline(deadline, head);
        try {
            return in.read();
        } catch (SocketTimeoutException e) {
            throw timeout(head);
        }
    }

    private Request readRequest(long headDeadline, long deadline) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream(512);
        int prev1 = -1;
        int prev2 = -1;
        while (true) {
            int b = read(Math.min(headDeadline, deadline), true);
            if (b < 0) throw new IOException("closed in the middle of a request");
            head.write(b);
            if (head.size() > limits.maxHeaderBytes()) {
                throw new ApiError(431, "invalid_request_error", null, "headers_too_large",
                        "The request headers are longer than " + limits.maxHeaderBytes() + " bytes.");
            }
            if (b == '\n' && (prev1 == '\n' || (prev1 == '\r' && prev2 == '\n'))) break; // the blank line
            prev2 = prev1;
            prev1 = b;
        }
        String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r?\n");
        int first = 0;
        while (first < lines.length && lines[first].isEmpty()) first++; // stray CRLF between requests
        if (first == lines.length) throw bad("empty request");
        String[] parts = lines[first].split(" ");
        if (parts.length != 3) throw bad("malformed request line");
        String method = parts[0];
        String target = parts[1];
        String version = parts[2];
        if (!version.equals("HTTP/1.1") && !version.equals("HTTP/1.0")) {
            throw new ApiError(505, "invalid_request_error", null, null, "Only HTTP/1.0 and HTTP/1.1 are served.");
        }
        if (!target.startsWith("/")) throw bad("the request target must be a path");
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = first + 1; i < lines.length; i++) {
            String l = lines[i];
            if (l.isEmpty()) continue;
            int colon = l.indexOf(':');
            if (colon <= 0 || l.charAt(0) == ' ' || l.charAt(0) == '\t') throw bad("malformed header line");
            String name = l.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = l.substring(colon + 1).trim();
            if (name.equals("content-length") && headers.containsKey(name) && !headers.get(name).equals(value)) {
                throw bad("conflicting Content-Length headers");
            }
            headers.put(name, value);
        }
        int q = target.indexOf('?');
        String path = q < 0 ? target : target.substring(0, q);
        String query = q < 0 ? "" : target.substring(q + 1);
        byte[] body = readBody(headers, deadline);
        return new Request(method, path, query, version, headers, body);
    }

    private static ApiError bad(String what) {
        return new ApiError(400, "invalid_request_error", null, null, "Bad HTTP request: " + what + ".");
    }

    private ApiError tooLarge() {
        return new ApiError(413, "invalid_request_error", null, "request_too_large",
                "The request body is larger than the limit of " + limits.maxBodyBytes() + " bytes.");
    }

    private byte[] readBody(Map<String, String> headers, long deadline) throws IOException {
        String te = headers.get("transfer-encoding");
        String cl = headers.get("content-length");
        if (te != null) {
            if (cl != null) throw bad("both Transfer-Encoding and Content-Length");
            if (!te.equalsIgnoreCase("chunked")) throw new ApiError(501, "invalid_request_error", null, null, "Transfer-Encoding '" + te + "' is not supported.");
            continueIfExpected(headers);
            return readChunked(deadline);
        }
        if (cl == null) return new byte[0];
        long n;
        try {
            if (cl.isEmpty() || cl.length() > 18 || !cl.chars().allMatch(Character::isDigit)) throw new NumberFormatException();
            n = Long.parseLong(cl);
        } catch (NumberFormatException e) {
            throw bad("Content-Length is not a number");
        }
        if (n > limits.maxBodyBytes()) throw tooLarge();
        continueIfExpected(headers);
        byte[] body = new byte[(int) n];
        int off = 0;
        while (off < n) {
            if (in.available() == 0) setDeadline(deadline);
            int r;
            try {
                r = in.read(body, off, (int) n - off);
            } catch (SocketTimeoutException e) {
                throw timeout();
            }
            if (r < 0) throw new IOException("closed in the middle of a request body");
            off += r;
        }
        return body;
    }

    private void continueIfExpected(Map<String, String> headers) throws IOException {
        String expect = headers.get("expect");
        if (expect != null && expect.equalsIgnoreCase("100-continue")) {
            out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }
    }

    private byte[] readChunked(long deadline) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String line = readLine(deadline);
            int semi = line.indexOf(';');
            String hex = (semi < 0 ? line : line.substring(0, semi)).trim();
            long size;
            try {
                if (hex.isEmpty() || hex.length() > 15) throw new NumberFormatException();
                size = Long.parseLong(hex, 16);
            } catch (NumberFormatException e) {
                throw bad("malformed chunk size");
            }
            if (size == 0) break;
            if (body.size() + size > limits.maxBodyBytes()) throw tooLarge();
            for (long i = 0; i < size; i++) {
                int b = read(deadline);
                if (b < 0) throw new IOException("closed in the middle of a chunk");
                body.write(b);
            }
            if (!readLine(deadline).isEmpty()) throw bad("chunk not followed by CRLF");
        }
        while (!readLine(deadline).isEmpty()) {
            // trailers: ignored
        }
        return body.toByteArray();
    }

    private String readLine(long deadline) throws IOException {
        StringBuilder sb = new StringBuilder();
        while (true) {
            int b = read(deadline);
            if (b < 0) throw new IOException("closed in the middle of a request body");
            if (b == '\n') break;
            if (sb.length() > 1024) throw bad("line too long in a chunked body");
            sb.append((char) b);
        }
        if (!sb.isEmpty() && sb.charAt(sb.length() - 1) == '\r') sb.setLength(sb.length() - 1);
        return sb.toString();
    }

    /** The socket's output, marking when a write is blocked so the watchdog can end it. */
    private final class TimedOutput extends OutputStream {
        private final OutputStream raw;

        TimedOutput(OutputStream raw) {
            this.raw = raw;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            writeSince = System.nanoTime();
            try {
                raw.write(b, off, len);
            } finally {
                writeSince = 0;
            }
        }

        @Override
        public void flush() throws IOException {
            raw.flush();
        }
    }
}
