package dev.hearth.cli;

import dev.hearth.llama.Engine;
import dev.hearth.llama.sampling.SamplerParams;
import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.server.HearthServer;
import dev.hearth.offload.Plan;
import dev.hearth.server.ModelPool;
import dev.hearth.server.ServedModel;
import dev.hearth.server.ServerOptions;
import dev.hearth.server.ServerPolicy;
import dev.hearth.server.http.Limits;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** {@code hearth serve}: the OpenAI-compatible HTTP server (and Ollama's API) over one model or a folder of them. */
final class ServeCommand {
    static final String HELP = """
            usage: hearth serve -m MODEL [options]
                   hearth serve --models DIR [options]
              -m, --model FILE       GGUF model
              --models DIR           serve every *.gguf in DIR, each named after its file (without .gguf);
                                     a model is loaded when a request first names it. Not with -m.
              --max-loaded N         with --models: models loaded at once (default 1); to load another,
                                     the least recently used idle one is unloaded. Where a model would
                                     not fit the GPU whole beside the loaded ones (--gpu-layers auto),
                                     or its load fails, idle ones are unloaded first.
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
              --alias NAME           the model's name in the API (default: the file name; -m only)
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
              -t, --threads N, -c, --ctx N, --backend B, --cache-type T (f16, f32, q8_0, q4_0), --ctv T,
              -b, --batch N, --gpu-layers N,
              --vram-budget SIZE, --devices D1,D2, --split 3,1, --cpu-moe, --n-cpu-moe N   as for hearth run
            endpoints: POST /v1/chat/completions, POST /v1/completions (stream true or false),
              GET /v1/models, GET /health, GET /metrics (with --metrics). A client that disconnects stops its generation (at once
              when streaming; within about 100 ms otherwise). /health never waits for a slot.
              Ollama's API: POST /api/chat, /api/generate, /api/show, /api/pull (URL or HF_REPO/FILE,
              into the --models folder), GET /api/tags, /api/ps, /api/version.
            """;

    /** A running server and what it holds; close() stops it and frees the model. */
    record Running(HearthServer server, ModelOptions.Loaded model, List<Engine> extra) implements AutoCloseable {
        @Override
        public void close() {
            server.close(); // with --models, unloads the loaded models
            for (Engine e : extra) e.close();
            if (model != null) model.close();
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
                "alias", "max-body", "timeout", "quiet!", "models", "max-loaded",
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
        Limits limits = Limits.DEFAULTS.withMaxBodyBytes(maxBody)
                .withTimeouts(Duration.ofSeconds(timeout), Duration.ofSeconds(30), Duration.ofSeconds(timeout))
                .withMaxConnectionsPerClient(perClient);
        ServerOptions o = new ServerOptions(host, port, key, queue, limits, sampling, a.flag("quiet") ? null : log, policy);
        if (a.has("models")) return startFolder(a, o, parallel, log);
        if (a.has("max-loaded")) throw new Args.UsageException("--max-loaded needs --models DIR");
        if (!a.has("m")) throw new Args.UsageException("'hearth serve' needs a model: -m MODEL.gguf, or a folder of them: --models DIR");
        String alias = a.get("alias", ModelOptions.modelPath(a).getFileName().toString().replaceFirst("(?i)\\.gguf$", ""));

        ModelOptions.Loaded m = ModelOptions.load(a, true);
        List<Engine> extra = new ArrayList<>();
        try {
            List<Engine> engines = slots(a, m, parallel, extra);
            String template = m.file().getString("tokenizer.chat_template", null);
            HearthServer server;
            try {
                server = HearthServer.start(o, ModelPool.single(new ServedModel(alias, engines, m.tokenizer(), template), ModelOptions.modelPath(a), o));
            } catch (java.net.BindException e) {
                throw new HearthException("cannot listen on " + host + ":" + port + " (" + e.getMessage() + "); is another server there? Try another --port");
            }
            String where = where(host);
            log.printf("hearth serve: %s on %s, context %d per slot%n", alias, m.engine().placement().device(0).name(), m.engine().contextLength());
            log.printf("hearth serve: %d slot%s (%s), queue of %d; chat template: %s%n", parallel, parallel == 1 ? "" : "s",
                    parallel == 1 ? "one request at a time, others wait in order" : parallel + " requests at once, others wait in order",
                    queue, server.chatFormat());
            if (!bind.isLoopbackAddress() && key == null) {
                log.println("hearth serve: warning: listening beyond this machine with no --api-key; anyone who can reach the port can use it");
            }
            if (!policy.corsOrigins().isEmpty()) log.println("hearth serve: cross-origin requests allowed from " + String.join(", ", policy.corsOrigins()));
            if (policy.metrics()) log.printf("hearth serve: Prometheus metrics on http://%s:%d/metrics%n", where, server.port());
            log.printf("hearth serve: chat page at http://%s:%d/%n", where, server.port());
            log.printf("hearth serve: listening on http://%s:%d/v1 (Ctrl-C stops)%n", where, server.port());
            return new Running(server, m, extra);
        } catch (IOException | RuntimeException e) {
            for (Engine x : extra) x.close();
            m.close();
            throw e;
        }
    }

    private static String where(String host) {
        return host.contains(":") ? "[" + host + "]" : host;
    }

    /** The model's engines, one per slot: the loaded one and {@code parallel - 1} more over the same weights (added to {@code extra}). */
    private static List<Engine> slots(Args a, ModelOptions.Loaded m, int parallel, List<Engine> extra) {
        DType cache = m.engine().cacheType();
        List<Engine> engines = new ArrayList<>(List.of(m.engine()));
        for (int i = 1; i < parallel; i++) {
            Engine e = new Engine(m.weights(), m.engine().placement(), m.engine().contextLength(), m.engine().batchSize(), cache,
                    new Progress("slot " + (i + 1) + ": uploading weights"));
            extra.add(e);
            engines.add(e);
        }
        return engines;
    }

    /**
     * Refuses a placement that leaves layers, the head, experts or context off the GPU(s), so
     * that the models folder unloads an idle model and tries again (as Ollama does).
     */
    private static void fitsWhole(ModelOptions.Placed placed) {
        Plan plan = placed.plan();
        if (plan == null) return; // on the CPU: the weights are mapped, the OS pages them
        int layers = plan.layerDevice().length;
        boolean experts = false;
        for (boolean b : plan.expertsOnCpu()) experts |= b;
        if (plan.gpuLayerCount() < layers || plan.headDevice() < 0 || experts) {
            throw new ModelPool.NeedsRoom(plan.gpuLayerCount() + " of " + layers + " layers fit on the GPU" + (experts ? ", some experts on the CPU" : ""));
        }
    }

    /** --models DIR: every GGUF file there, loaded when a request names it, at most --max-loaded at once. */
    private static Running startFolder(Args a, ServerOptions o, int parallel, PrintStream log) throws IOException {
        if (a.has("m")) throw new Args.UsageException("give -m FILE (one model) or --models DIR (a folder of models), not both");
        if (a.has("alias")) throw new Args.UsageException("--alias names the model of -m; with --models each model is named after its file");
        int maxLoaded = a.getInt("max-loaded", 1);
        if (maxLoaded < 1 || maxLoaded > 64) throw new Args.UsageException("--max-loaded must be between 1 and 64, not " + maxLoaded);
        Path dir = Path.of(a.get("models", ""));
        if (!Files.isDirectory(dir)) throw new HearthException("--models " + dir + ": no such folder; give a folder of GGUF files");
        boolean autoLayers = a.get("ngl", "auto").equals("auto") && !a.has("vram-budget");
        ModelPool.Loader loader = (file, canMakeRoom) -> {
            ModelOptions.Loaded m = ModelOptions.load(a, file, true, true, canMakeRoom && autoLayers ? ServeCommand::fitsWhole : null);
            List<Engine> extra = new ArrayList<>();
            try {
                List<Engine> engines = slots(a, m, parallel, extra);
                ServedModel served = new ServedModel(ModelPool.nameOf(file), engines, m.tokenizer(), m.file().getString("tokenizer.chat_template", null));
                return new ModelPool.Loaded(served, () -> {
                    for (Engine x : extra) x.close();
                    m.close();
                });
            } catch (RuntimeException e) {
                for (Engine x : extra) x.close();
                m.close();
                throw e;
            }
        };
        Map<String, String> env = System.getenv();
        ModelPool pool = ModelPool.folder(dir, loader, maxLoaded, o)
                .pullFrom(env.getOrDefault("HF_ENDPOINT", "https://huggingface.co"), env.getOrDefault("HF_TOKEN", env.get("HUGGING_FACE_HUB_TOKEN")));
        HearthServer server;
        try {
            server = HearthServer.start(o, pool);
        } catch (java.net.BindException e) {
            throw new HearthException("cannot listen on " + o.host() + ":" + o.port() + " (" + e.getMessage() + "); is another server there? Try another --port");
        }
        List<String> names = pool.names();
        log.printf("hearth serve: %d model%s in %s%s, loaded when first asked for, at most %d at once; %d slot%s each, queue of %d%n",
                names.size(), names.size() == 1 ? "" : "s", dir, names.isEmpty() ? "" : " (" + String.join(", ", names) + ")", maxLoaded,
                parallel, parallel == 1 ? "" : "s", o.maxQueue());
        if (names.isEmpty()) log.println("hearth serve: no .gguf files in " + dir + " yet: add some, or pull them (hearth pull -o " + dir + ", or POST /api/pull)");
        if (!InetAddress.getByName(o.host()).isLoopbackAddress() && o.apiKey() == null) {
            log.println("hearth serve: warning: listening beyond this machine with no --api-key; anyone who can reach the port can use it");
        }
        log.printf("hearth serve: chat page at http://%s:%d/%n", where(o.host()), server.port());
        log.printf("hearth serve: listening on http://%s:%d/v1 (Ctrl-C stops)%n", where(o.host()), server.port());
        return new Running(server, null, List.of());
    }
}
