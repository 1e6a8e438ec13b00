package dev.hearth.cli;

import dev.hearth.llama.Engine;
import dev.hearth.llama.sampling.SamplerParams;
import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.server.HearthServer;
import dev.hearth.server.ServedModel;
import dev.hearth.server.ServerOptions;
import dev.hearth.server.ServerPolicy;
import dev.hearth.server.http.Limits;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** {@code hearth serve}: the OpenAI-compatible HTTP server over one model. */
final class ServeCommand {
    static final String HELP = """
            usage: hearth serve -m MODEL [options]
              -m, --model FILE       GGUF model
              --host H               address to listen on (default 127.0.0.1: this machine only;
                                     0.0.0.0 for every interface, best with --api-key)
              --port N               port (default 8080; 0 picks a free one, printed at start)
              --parallel N           slots: requests generated at the same time (default 1). Each slot
                                     is one engine with its own KV cache; on the CPU the weights are
                                     shared (mapped once), on a GPU each slot holds its own copy.
                                     Requests past the free slots wait in a first-come-first-served
                                     queue.
              --queue N              requests that may wait for a slot (default 64); past that: 503
              --api-key KEY          require 'Authorization: Bearer KEY' (or set HEARTH_API_KEY);
                                     without the key a request gets 401; /health needs none
              --alias NAME           the model's name in the API (default: the file name)
              --max-body BYTES       largest request body (default 8388608); larger ones get 413
              --timeout S            seconds a client may take to send a request (then 408) or may
                                     leave an answer unread before it is cut off (default 60)
              --max-conn-per-client N  connections one client address may hold open (default 16;
                                     0: no cap); past it: 429. The request line and headers must
                                     arrive within 10 s however slowly they trickle in (then 408)
              --allowed-hosts H1,H2  Host names the server answers to. On a loopback --host only
                                     localhost, 127.0.0.1 and [::1] are answered (a web page that
                                     rebinds its DNS name to this machine gets 403) unless listed
                                     here; on another --host any name unless listed here; * for any
              --cors-origin O1,O2    web origins (https://app.example, http://localhost:3000) whose
                                     pages may call the server from a browser; * for any. Without
                                     it no CORS headers are sent and preflights get 403. POST bodies
                                     must be Content-Type: application/json (else 415) in any case
              --context-overflow M   a chat longer than the context: error (400, the default) or
                                     truncate (its oldest turns are dropped, never the system
                                     messages nor the last message, until the prompt fits with
                                     max_tokens)
              --metrics              serve GET /metrics (Prometheus text: requests, errors, tokens,
                                     time to first token, tokens/s, queue, slots, KV cache); it
                                     needs the --api-key where one is set
              --quiet                no log line per request
            sampling defaults, for requests that set none (requests override them):
              --temp T, --top-k K, --top-p P, --min-p P, --repeat-penalty R, --repeat-last-n N,
              --frequency-penalty F, --presence-penalty P, --seed S   (as for hearth run)
            model and backend (-c, --ctx is the context length of each slot):
              -t, --threads N, -c, --ctx N, --backend B, --cache-type T, -b, --batch N, --gpu-layers N,
              --vram-budget SIZE, --devices D1,D2, --split 3,1, --cpu-moe, --n-cpu-moe N   as for hearth run
            endpoints: POST /v1/chat/completions, POST /v1/completions (stream true or false),
              GET /v1/models, GET /health, GET /metrics (with --metrics). A client that disconnects stops its generation (at once
              when streaming; within about 100 ms otherwise). /health never waits for a slot.
            """;

    /** A running server and what it holds; close() stops it and frees the model. */
    record Running(HearthServer server, ModelOptions.Loaded model, List<Engine> extra) implements AutoCloseable {
        @Override
        public void close() {
            server.close();
            for (Engine e : extra) e.close();
            model.close();
        }
    }

    static int run(String[] argv) throws Exception {
        if (Main.help(argv, HELP)) return 0;
        Running r = start(argv, System.err);
        Thread hook = new Thread(r::close, "hearth-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        r.server().await();
        return 0;
    }

    /** --allowed-hosts, --cors-origin, --metrics and --context-overflow, checked. */
    static ServerPolicy policy(Args a) {
        List<String> hosts = list(a.get("allowed-hosts", ""));
        for (String h : hosts) {
            if (h.contains("/") || h.chars().anyMatch(Character::isWhitespace) || (h.contains(":") && !h.startsWith("["))) {
                throw new Args.UsageException("--allowed-hosts takes host names without scheme or port (my.lan,192.168.1.5,[::1]), not '" + h + "'");
            }
        }
        List<String> origins = list(a.get("cors-origin", ""));
        for (String o : origins) {
            if (!o.equals("*") && !o.matches("(?i)https?://[^/\\s?#]+/?")) {
                throw new Args.UsageException("--cors-origin takes origins such as https://app.example or http://localhost:3000 (scheme, host, port; no path), or *, not '" + o + "'");
            }
        }
        ServerPolicy.ContextOverflow overflow;
        try {
            overflow = ServerPolicy.ContextOverflow.parse(a.get("context-overflow", "error"));
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException("--context-overflow must be 'error' or 'truncate', not '" + a.get("context-overflow", "") + "'");
        }
        return new ServerPolicy(hosts, origins, a.flag("metrics"), overflow);
    }

    private static List<String> list(String s) {
        List<String> out = new ArrayList<>();
        for (String p : s.split(",")) if (!p.isBlank()) out.add(p.trim());
        return out;
    }

    static Running start(String[] argv, PrintStream log) throws IOException {
        String[] spec = ModelOptions.with(RunCommand.concat(RunCommand.samplingSpec(), "host", "port", "parallel|np", "queue", "api-key",
                "alias", "max-body", "timeout", "quiet!",
                "max-conn-per-client", "allowed-hosts", "cors-origin", "context-overflow", "metrics!"));
        Args a = new Args("serve", argv, 0, spec);
        if (!a.positional().isEmpty()) throw new Args.UsageException("unexpected argument '" + a.positional().getFirst() + "'");
        String host = a.get("host", "127.0.0.1");
        int port = a.getInt("port", 8080);
        if (port < 0 || port > 65535) throw new Args.UsageException("--port must be between 0 and 65535, not " + port);
        int parallel = a.getInt("parallel", 1);
        if (parallel < 1 || parallel > 64) throw new Args.UsageException("--parallel must be between 1 and 64, not " + parallel);
        int queue = a.getInt("queue", 64);
        if (queue < 0 || queue > 10_000) throw new Args.UsageException("--queue must be between 0 and 10000, not " + queue);
        long maxBody = a.getLong("max-body", 8L << 20);
        if (maxBody < 1024 || maxBody > (1L << 30)) throw new Args.UsageException("--max-body must be between 1024 and 1073741824 bytes, not " + maxBody);
        int timeout = a.getInt("timeout", 60);
        if (timeout < 1) throw new Args.UsageException("--timeout must be at least 1 second, not " + timeout);
        int perClient = a.getInt("max-conn-per-client", Limits.DEFAULTS.maxConnectionsPerClient());
        if (perClient < 0 || perClient > 100_000) throw new Args.UsageException("--max-conn-per-client must be between 0 (no cap) and 100000, not " + perClient);
        ServerPolicy policy = policy(a);
        String key = a.has("api-key") ? a.get("api-key", "") : System.getenv("HEARTH_API_KEY");
        if (key != null && key.isBlank()) throw new Args.UsageException("--api-key must not be empty");
        SamplerParams sampling = RunCommand.sampling(a);
        InetAddress bind;
        try {
            bind = InetAddress.getByName(host);
        } catch (IOException e) {
            throw new HearthException("--host " + host + ": not an address of this machine (" + e.getMessage() + ")");
        }
        String alias = a.get("alias", ModelOptions.modelPath(a).getFileName().toString().replaceFirst("(?i)\\.gguf$", ""));

        ModelOptions.Loaded m = ModelOptions.load(a, true);
        List<Engine> extra = new ArrayList<>();
        try {
            DType cache = a.get("cache-type", "f16").equalsIgnoreCase("f32") ? DType.F32 : DType.F16;
            List<Engine> engines = new ArrayList<>(List.of(m.engine()));
            for (int i = 1; i < parallel; i++) {
                Engine e = new Engine(m.weights(), m.engine().placement(), m.engine().contextLength(), m.engine().batchSize(), cache,
                        new Progress("slot " + (i + 1) + ": uploading weights"));
                extra.add(e);
                engines.add(e);
            }
            Limits limits = Limits.DEFAULTS.withMaxBodyBytes(maxBody)
                    .withTimeouts(Duration.ofSeconds(timeout), Duration.ofSeconds(30), Duration.ofSeconds(timeout))
                    .withMaxConnectionsPerClient(perClient);
            ServerOptions o = new ServerOptions(host, port, key, queue, limits, sampling, a.flag("quiet") ? null : log, policy);
            String template = m.file().getString("tokenizer.chat_template", null);
            HearthServer server;
            try {
                server = HearthServer.start(o, new ServedModel(alias, engines, m.tokenizer(), template));
            } catch (java.net.BindException e) {
                throw new HearthException("cannot listen on " + host + ":" + port + " (" + e.getMessage() + "); is another server there? Try another --port");
            }
            String where = host.contains(":") ? "[" + host + "]" : host;
            log.printf("hearth serve: %s on %s, context %d per slot%n", alias, m.engine().placement().device(0).name(), m.engine().contextLength());
            log.printf("hearth serve: %d slot%s (%s), queue of %d; chat template: %s%n", parallel, parallel == 1 ? "" : "s",
                    parallel == 1 ? "one request at a time, others wait in order" : parallel + " requests at once, others wait in order",
                    queue, server.chatFormat());
            if (!bind.isLoopbackAddress() && key == null) {
                log.println("hearth serve: warning: listening beyond this machine with no --api-key; anyone who can reach the port can use it");
            }
            if (!policy.corsOrigins().isEmpty()) log.println("hearth serve: cross-origin requests allowed from " + String.join(", ", policy.corsOrigins()));
            if (policy.metrics()) log.printf("hearth serve: Prometheus metrics on http://%s:%d/metrics%n", where, server.port());
            log.printf("hearth serve: listening on http://%s:%d/v1 (Ctrl-C stops)%n", where, server.port());
            return new Running(server, m, extra);
        } catch (IOException | RuntimeException e) {
            for (Engine x : extra) x.close();
            m.close();
            throw e;
        }
    }
}
