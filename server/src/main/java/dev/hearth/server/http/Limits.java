package dev.hearth.server.http;

import java.time.Duration;

/**
 * What one connection may take: header and body sizes, the time to send a whole request once it
 * has begun, how long an idle keep-alive connection is kept, how long one write to a client
 * that does not read may block, how many connections are open at once, the time to send the
 * request head (request line and headers, however slowly the bytes come), and how many
 * connections one client address may hold open (0: no cap).
 */
public record Limits(int maxHeaderBytes, long maxBodyBytes, Duration requestTimeout, Duration idleTimeout,
                     Duration writeTimeout, int maxConnections, Duration headTimeout, int maxConnectionsPerClient) {
    public static final Limits DEFAULTS = new Limits(32 * 1024, 8L << 20, Duration.ofSeconds(30),
            Duration.ofSeconds(30), Duration.ofSeconds(60), 1024, Duration.ofSeconds(10), 16);

    public Limits {
        if (maxHeaderBytes < 1024) throw new IllegalArgumentException("maxHeaderBytes < 1024");
        if (maxBodyBytes < 1) throw new IllegalArgumentException("maxBodyBytes < 1");
        if (maxConnections < 1) throw new IllegalArgumentException("maxConnections < 1");
        if (maxConnectionsPerClient < 0) throw new IllegalArgumentException("maxConnectionsPerClient < 0");
        if (headTimeout.isNegative() || headTimeout.isZero()) throw new IllegalArgumentException("headTimeout <= 0");
    }

    public Limits(int maxHeaderBytes, long maxBodyBytes, Duration requestTimeout, Duration idleTimeout, Duration writeTimeout, int maxConnections) {
        this(maxHeaderBytes, maxBodyBytes, requestTimeout, idleTimeout, writeTimeout, maxConnections, DEFAULTS.headTimeout, DEFAULTS.maxConnectionsPerClient);
    }

    public Limits withMaxBodyBytes(long b) {
        return new Limits(maxHeaderBytes, b, requestTimeout, idleTimeout, writeTimeout, maxConnections, headTimeout, maxConnectionsPerClient);
    }

    public Limits withTimeouts(Duration request, Duration idle, Duration write) {
        return new Limits(maxHeaderBytes, maxBodyBytes, request, idle, write, maxConnections, headTimeout, maxConnectionsPerClient);
    }

    public Limits withMaxConnections(int n) {
        return new Limits(maxHeaderBytes, maxBodyBytes, requestTimeout, idleTimeout, writeTimeout, n, headTimeout, maxConnectionsPerClient);
    }

    public Limits withHeadTimeout(Duration d) {
        return new Limits(maxHeaderBytes, maxBodyBytes, requestTimeout, idleTimeout, writeTimeout, maxConnections, d, maxConnectionsPerClient);
    }

    /** At most {@code n} connections open at once from one client address; 0: no cap. */
    public Limits withMaxConnectionsPerClient(int n) {
        return new Limits(maxHeaderBytes, maxBodyBytes, requestTimeout, idleTimeout, writeTimeout, maxConnections, headTimeout, n);
    }
}
