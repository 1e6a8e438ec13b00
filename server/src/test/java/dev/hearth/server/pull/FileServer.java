package dev.hearth.server.pull;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback HTTP server with one file and Range support, which can misbehave on purpose: drop
 * the connection part-way, ignore Range, announce the wrong size, send a wrong checksum. Every
 * request's Range header is recorded.
 */
final class FileServer implements AutoCloseable {
    final HttpServer server;
    final byte[] data;
    final List<String> ranges = new CopyOnWriteArrayList<>();
    final AtomicInteger requests = new AtomicInteger();

    volatile boolean rangeSupported = true;
    /** The first this-many answers stop after half their bytes and drop the connection. */
    volatile int dropsLeft;
    /** X-Linked-Size and X-Linked-Etag sent on the redirect from /redirect/...; null: none. */
    volatile Long linkedSize;
    volatile String linkedEtag;
    /** A Content-Length bigger than the bytes sent (they end early, every time). */
    volatile long lie = -1;
    /** Extra headers on the file's answers ("Name: value"). */
    volatile List<String> extraHeaders = List.of();
    volatile int status = 200;

    FileServer(byte[] data) throws IOException {
        this.data = data;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/", this::handle);
        server.start();
    }

    String base() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private void handle(HttpExchange ex) throws IOException {
        requests.incrementAndGet();
        String path = ex.getRequestURI().getPath();
        if (path.startsWith("/redirect/")) {
            if (linkedSize != null) ex.getResponseHeaders().add("X-Linked-Size", Long.toString(linkedSize));
            if (linkedEtag != null) ex.getResponseHeaders().add("X-Linked-Etag", "\"" + linkedEtag + "\"");
            ex.getResponseHeaders().add("Location", "/files/" + path.substring("/redirect/".length()));
            ex.sendResponseHeaders(302, -1);
            ex.close();
            return;
        }
        if (status != 200) {
            ex.sendResponseHeaders(status, -1);
            ex.close();
            return;
        }
        String range = ex.getRequestHeaders().getFirst("Range");
        ranges.add(range == null ? "" : range);
        for (String h : extraHeaders) {
            int c = h.indexOf(':');
            ex.getResponseHeaders().add(h.substring(0, c).trim(), h.substring(c + 1).trim());
        }
        long from = 0;
        int code = 200;
        if (range != null && rangeSupported && range.startsWith("bytes=") && range.endsWith("-")) {
            from = Long.parseLong(range.substring(6, range.length() - 1));
            if (from >= data.length) {
                ex.getResponseHeaders().add("Content-Range", "bytes */" + (lie > 0 ? lie : data.length));
                ex.sendResponseHeaders(416, -1);
                ex.close();
                return;
            }
            code = 206;
            ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (data.length - 1) + "/" + (lie > 0 ? lie : data.length));
        }
        long n = data.length - from;
        long declared = lie > 0 ? lie - from : n;
        long send = n;
        boolean drop = false;
        if (dropsLeft > 0) {
            dropsLeft--;
            send = n / 2;
            drop = true;
        }
        ex.sendResponseHeaders(code, declared);
        OutputStream out = ex.getResponseBody();
        try {
            out.write(data, (int) from, (int) send);
            out.flush();
        } catch (IOException gone) {
            // the client left
        }
        if (drop || send < declared) {
            // a handler that throws makes the server close the connection, short of Content-Length
            throw new IllegalStateException("dropping the connection on purpose");
        }
        ex.close();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
