package dev.hearth.server.http;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small HTTP/1.1 server on plain sockets. Each connection reads its requests on a virtual
 * thread, so clients that send slowly cost no platform thread; a connection past the bound, or
 * past the cap for one client address, gets a 503 or a 429 from the accepting thread. Keep-alive,
 * Content-Length and chunked request bodies with a size limit, a deadline for the request head
 * and one for the whole request, and a watchdog that closes a connection whose write has been
 * blocked too long (a client that stopped reading). Handlers run on platform threads of their
 * own, one per request being answered, so a long computation in one never delays the others.
 */
public final class Http1Server implements AutoCloseable {
    /** Answers one request. An {@link ApiError} thrown before the response began is sent as such. */
    public interface Handler {
        void handle(Request request, Exchange exchange) throws IOException;

        /**
         * Told of every answer as its status line goes out: the request (null where it could not
         * be read), the client's address, the status, and the error answered (null for a success).
         */
        default void answered(Request request, String client, int status, ApiError error) {
        }
    }

    private final ServerSocket socket;
    private final Limits limits;
    private final Handler handler;
    private final ThreadPoolExecutor pool;
    private final ScheduledExecutorService watchdog;
    private final Set<Connection> live = ConcurrentHashMap.newKeySet();
    private final Map<InetAddress, Integer> perClient = new ConcurrentHashMap<>();
    private final ThreadFactory readers = Thread.ofVirtual().name("hearth-http-conn-", 1).factory();
    private final Thread acceptor;
    private volatile boolean closed;

    private Http1Server(ServerSocket socket, Limits limits, Handler handler) {
        this.socket = socket;
        this.limits = limits;
        this.handler = handler;
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(0, limits.maxConnections(), 30, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "hearth-http-handler-" + n.incrementAndGet());
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
            InetAddress client = s.getInetAddress();
            if (live.size() >= limits.maxConnections()) {
                refuse(s, new ApiError(503, "server_error", null, "server_busy",
                        "The server has too many connections open; retry later."));
                continue;
            }
            if (!admit(client)) {
                refuse(s, new ApiError(429, "rate_limit_error", null, "too_many_connections",
                        "Your address already has " + limits.maxConnectionsPerClient() + " connections open to this server; close one or reuse it (keep-alive)."));
                continue;
            }
            Connection c = new Connection(this, s);
            live.add(c);
            try {
                readers.newThread(c).start();
            } catch (RuntimeException | OutOfMemoryError e) {
                live.remove(c);
                leave(client);
                refuse(s, new ApiError(503, "server_error", null, "server_busy", "The server cannot take more connections now; retry later."));
            }
        }
    }

    /** Counts a connection from {@code client}; false when it already holds its share. */
    private boolean admit(InetAddress client) {
        int cap = limits.maxConnectionsPerClient();
        boolean[] ok = {true};
        perClient.compute(client, (k, n) -> {
            int have = n == null ? 0 : n;
            if (cap > 0 && have >= cap) {
                ok[0] = false;
                return n;
            }
            return have + 1;
        });
        return ok[0];
    }

    private void leave(InetAddress client) {
        perClient.computeIfPresent(client, (k, n) -> n <= 1 ? null : n - 1);
    }

    /** A connection refused before it is read: the error written straight away, then the socket closed. */
    private void refuse(Socket s, ApiError e) {
        try (s) {
            s.setSoTimeout(1000);
            byte[] body = e.json().getBytes(StandardCharsets.UTF_8);
            OutputStream out = s.getOutputStream();
            out.write(("HTTP/1.1 " + e.status() + " " + Exchange.reason(e.status()) + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                    + "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
        } catch (IOException ignored) {
            // the client went away
        }
        answered(null, s.getInetAddress(), e.status(), e);
    }

    /** Tells the handler of an answer; a failure there never breaks the connection. */
    void answered(Request request, InetAddress client, int status, ApiError error) {
        try {
            handler.answered(request, client == null ? "-" : client.getHostAddress(), status, error);
        } catch (RuntimeException ignored) {
            // an observer's failure is not the client's
        }
    }

    /**
     * Runs {@code work} (the handling of one request) on a platform thread of the handler pool and
     * waits for it; false when the pool is full (then nothing ran).
     */
    boolean dispatch(Runnable work) throws InterruptedException {
        Future<?> f;
        try {
            f = pool.submit(work);
        } catch (RejectedExecutionException e) {
            return false;
        }
        try {
            f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof Error r) throw r;
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            f.cancel(true);
            throw e;
        }
        return true;
    }

    void closed(Connection c) {
        if (live.remove(c)) leave(c.client());
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
