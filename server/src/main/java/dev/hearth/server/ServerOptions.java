package dev.hearth.server;

import dev.hearth.llama.sampling.SamplerParams;
import dev.hearth.server.http.Limits;

import java.io.PrintStream;

/**
 * How the server listens and what it allows: host and port (0: any free port), an API key
 * (null: none), how many requests may wait for a slot, the HTTP limits, the sampling used where
 * a request names none (sampling), where to log (null: nowhere), and the policy (Host names,
 * CORS origins, metrics, context overflow).
 */
public record ServerOptions(String host, int port, String apiKey, int maxQueue, Limits limits, SamplerParams sampling, PrintStream log,
                            ServerPolicy policy) {
    public ServerOptions(String host, int port, String apiKey, int maxQueue, Limits limits, SamplerParams sampling, PrintStream log) {
        this(host, port, apiKey, maxQueue, limits, sampling, log, ServerPolicy.DEFAULTS);
    }

    public static ServerOptions defaults() {
        return new ServerOptions("127.0.0.1", 8080, null, 64, Limits.DEFAULTS, SamplerParams.DEFAULTS, null);
    }

    public ServerOptions withPolicy(ServerPolicy p) {
        return new ServerOptions(host, port, apiKey, maxQueue, limits, sampling, log, p);
    }

    public ServerOptions withPort(int p) {
        return new ServerOptions(host, p, apiKey, maxQueue, limits, sampling, log, policy);
    }

    public ServerOptions withHost(String h) {
        return new ServerOptions(h, port, apiKey, maxQueue, limits, sampling, log, policy);
    }

    public ServerOptions withApiKey(String k) {
        return new ServerOptions(host, port, k, maxQueue, limits, sampling, log, policy);
    }

    public ServerOptions withMaxQueue(int q) {
        return new ServerOptions(host, port, apiKey, q, limits, sampling, log, policy);
    }

    public ServerOptions withLimits(Limits l) {
        return new ServerOptions(host, port, apiKey, maxQueue, l, sampling, log, policy);
    }

    public ServerOptions withSampling(SamplerParams s) {
        return new ServerOptions(host, port, apiKey, maxQueue, limits, s, log, policy);
    }

    public ServerOptions withLog(PrintStream l) {
        return new ServerOptions(host, port, apiKey, maxQueue, limits, sampling, l, policy);
    }
}
