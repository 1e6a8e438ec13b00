package dev.hearth.server.http;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small HTTP/1.1 server on plain sockets: one platform thread per connection from a bounded
 * pool (a connection past the bound gets a 503 from the accepting thread), keep-alive,
 * Content-Length and chunked request bodies with a size limit, a deadline for reading each
 * request, and a watchdog that closes a connection whose write has been blocked too long (a
 * client that stopped reading). Handlers run on the connection's thread, so a slow handler never
 * delays other connections.
 */
public final class Http1Server implements AutoCloseable {
    /** Answers one request. An {@link ApiError} thrown before the response began is sent as such. */
    public interface Handler {
        void handle(Request request, Exchange exchange) throws IOException;
    }

    private final ServerSocket socket;
    private final Limits limits;
    private final Handler handler;
    private final ThreadPoolExecutor pool;
    private final ScheduledExecutorService watchdog;
    private final Set<Connection> live = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;
    private volatile boolean closed;

    private Http1Server(ServerSocket socket, Limits limits, Handler handler) {
        this.socket = socket;
        this.limits = limits;
        this.handler = handler;
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(0, limits.maxConnections(), 30, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "hearth-http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "hearth-http-watchdog");
            t.setDaemon(true);
            return t;
        });
        long period = Math.max(50, Math.min(1000, limits.writeTimeout().toMillis() / 4));
        watchdog.scheduleAtFixedRate(this::closeStuckWriters, period, period, TimeUnit.MILLISECONDS);
        this.acceptor = new Thread(this::acceptLoop, "hearth-http-accept");
        acceptor.setDaemon(true);
    }

    /** Binds {@code host:port} (port 0: any free port) and starts serving. */
    public static Http1Server start(String host, int port, Limits limits, Handler handler) throws IOException {
        ServerSocket ss = new ServerSocket();
        try {
            ss.setReuseAddress(true);
            ss.bind(new InetSocketAddress(InetAddress.getByName(host), port), 128);
        } catch (IOException e) {
            ss.close();
            throw e;
        }
        Http1Server s = new Http1Server(ss, limits, handler);
        s.acceptor.start();
        return s;
    }

    public int port() {
        return socket.getLocalPort();
    }

    public InetAddress address() {
        return socket.getInetAddress();
    }

    Limits limits() {
        return limits;
    }

    Handler handler() {
        return handler;
    }

    /** Connections open now. */
    public int connections() {
        return live.size();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket s;
            try {
                s = socket.accept();
            } catch (IOException e) {
                if (closed) return;
                continue;
            }
            Connection c = new Connection(this, s);
            live.add(c);
            try {
                pool.execute(c);
            } catch (RejectedExecutionException e) {
                live.remove(c);
                refuse(s);
            }
        }
    }

    /** Too many connections: a 503 written straight away, then the socket closed. */
    private static void refuse(Socket s) {
        try (s) {
            s.setSoTimeout(1000);
            byte[] body = new ApiError(503, "server_error", null, "server_busy",
                    "The server has too many connections open; retry later.").json().getBytes(StandardCharsets.UTF_8);
            OutputStream out = s.getOutputStream();
            out.write(("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                    + "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
        } catch (IOException ignored) {
            // the client went away
        }
    }

    void closed(Connection c) {
        live.remove(c);
    }

    private void closeStuckWriters() {
        long now = System.nanoTime();
        long limit = limits.writeTimeout().toNanos();
        for (Connection c : live) {
            long since = c.writeSince();
            if (since != 0 && now - since > limit) c.abort();
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (Connection c : live) c.abort();
        pool.shutdownNow();
        watchdog.shutdownNow();
        try {
            acceptor.join(2000);
            pool.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
