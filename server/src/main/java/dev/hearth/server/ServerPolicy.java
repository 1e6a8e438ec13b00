package dev.hearth.server;

import java.util.List;
import java.util.Locale;

/**
 * What the server lets through beyond its HTTP limits: the Host names it answers to
 * ({@code allowedHosts}; empty: loopback names only on a loopback bind, any name otherwise), the
 * web origins that may call it from a browser ({@code corsOrigins}; empty: none, "*": any), whether
 * {@code GET /metrics} is served, and what a chat longer than the context gets.
 */
public record ServerPolicy(List<String> allowedHosts, List<String> corsOrigins, boolean metrics, ContextOverflow contextOverflow) {
    /** A chat whose prompt does not fit the context: refused (400), or its oldest turns dropped until it fits. */
    public enum ContextOverflow {
        ERROR, TRUNCATE;

        public static ContextOverflow parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "error" -> ERROR;
                case "truncate" -> TRUNCATE;
                default -> throw new IllegalArgumentException("context overflow must be 'error' or 'truncate', not '" + s + "'");
            };
        }
    }

    public static final ServerPolicy DEFAULTS = new ServerPolicy(List.of(), List.of(), false, ContextOverflow.ERROR);

    public ServerPolicy {
        allowedHosts = allowedHosts.stream().map(h -> h.trim().toLowerCase(Locale.ROOT)).filter(h -> !h.isEmpty()).toList();
        corsOrigins = corsOrigins.stream().map(String::trim).map(o -> o.endsWith("/") ? o.substring(0, o.length() - 1) : o)
                .filter(o -> !o.isEmpty()).toList();
    }

    public ServerPolicy withAllowedHosts(List<String> hosts) {
        return new ServerPolicy(hosts, corsOrigins, metrics, contextOverflow);
    }

    public ServerPolicy withCorsOrigins(List<String> origins) {
        return new ServerPolicy(allowedHosts, origins, metrics, contextOverflow);
    }

    public ServerPolicy withMetrics(boolean on) {
        return new ServerPolicy(allowedHosts, corsOrigins, on, contextOverflow);
    }

    public ServerPolicy withContextOverflow(ContextOverflow o) {
        return new ServerPolicy(allowedHosts, corsOrigins, metrics, o);
    }
}
