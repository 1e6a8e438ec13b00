package dev.hearth.server.http;

import java.time.Duration;

/**
 * What one connection may take: header and body sizes, the time to send a whole request once it
 * has begun, how long an idle keep-alive connection is kept, how long one write to a client
 * that does not read may block, and how many connections are served at once.
 */
public record Limits(int maxHeaderBytes, long maxBodyBytes, Duration requestTimeout, Duration idleTimeout,
                     Duration writeTimeout, int maxConnections) {
    public static final Limits DEFAULTS = new Limits(32 * 1024, 8L << 20, Duration.ofSeconds(30),
            Duration.ofSeconds(30), Duration.ofSeconds(60), 96);

    public Limits {
        if (maxHeaderBytes < 1024) throw new IllegalArgumentException("maxHeaderBytes < 1024");
        if (maxBodyBytes < 1) throw new IllegalArgumentException("maxBodyBytes < 1");
        if (maxConnections < 1) throw new IllegalArgumentException("maxConnections < 1");
    }

    public Limits withMaxBodyBytes(long b) {
        return new Limits(maxHeaderBytes, b, requestTimeout, idleTimeout, writeTimeout, maxConnections);
    }

    public Limits withTimeouts(Duration request, Duration idle, Duration write) {
        return new Limits(maxHeaderBytes, maxBodyBytes, request, idle, write, maxConnections);
    }

    public Limits withMaxConnections(int n) {
        return new Limits(maxHeaderBytes, maxBodyBytes, requestTimeout, idleTimeout, writeTimeout, n);
    }
}
