package dev.hearth.server;

import dev.hearth.llama.sampling.SamplerParams;
import dev.hearth.runtime.json.Json;
import dev.hearth.server.http.ApiError;
import dev.hearth.server.http.Exchange;
import dev.hearth.server.http.Http1Server;
import dev.hearth.server.http.Request;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Ollama's API under /api, over the same models and slots as the OpenAI routes: POST /api/chat
 * and /api/generate (newline-delimited JSON streamed by default, one object with
 * {@code "stream": false}), GET /api/tags, POST /api/show, GET /api/ps, GET /api/version and
 * POST /api/pull. Errors are Ollama's {@code {"error": "..."}} with the HTTP status; what this
 * server cannot do (images, templates, Ollama's model registry) is refused with a 400 or 501
 * that says so. Model names are matched exactly or with Ollama's ":latest" tag.
 */
final class OllamaApi implements Http1Server.Handler {
    /** The Ollama API version whose fields and behaviour this follows (clients check it for features). */
    static final String VERSION = "0.12.0";

    /** Ollama's endpoints this server does not have. */
    private static final Set<String> UNSUPPORTED = Set.of("/api/embed", "/api/embeddings", "/api/create", "/api/copy", "/api/delete",
            "/api/push", "/api/blobs");

    private final ModelPool pool;
    private final ServerOptions options;
    private final OllamaPull pull;
    private final Metrics metrics;

    OllamaApi(ModelPool pool, ServerOptions options, Metrics metrics) {
        this.pool = pool;
        this.options = options;
        this.metrics = metrics;
        this.pull = new OllamaPull(pool);
    }

    /** Whether {@code path} is Ollama's (under /api). */
    static boolean serves(String path) {
        return path.equals("/api") || path.startsWith("/api/");
    }

    @Override
    public void handle(Request req, Exchange ex) throws IOException {
        try {
            route(req, ex);
        } catch (ApiError e) {
            if (ex.started()) throw e;
            sendError(ex, e);
        }
    }

    /** Ollama's error body, {@code {"error": "..."}}, with the status (and Allow for a 405). */
    static void sendError(Exchange ex, ApiError e) throws IOException {
        Map<String, String> headers = e.allow() != null ? Map.of("Allow", e.allow()) : e.status() == 401 ? Map.of("WWW-Authenticate", "Bearer") : Map.of();
        byte[] body = Json.write(Map.of("error", e.getMessage())).getBytes(StandardCharsets.UTF_8);
        ex.send(e.status(), "application/json; charset=utf-8", body, headers);
    }

    private void route(Request req, Exchange ex) throws IOException {
        String path = req.path();
        while (path.length() > 1 && path.endsWith("/")) path = path.substring(0, path.length() - 1);
        if (path.equals("/api/version")) {
            requireMethod(req, "GET");
            ex.sendJson(200, Map.of("version", VERSION));
            return;
        }
        OpenAiApi.checkKey(req, options.apiKey());
        switch (path) {
            case "/api/chat" -> {
                requireMethod(req, "POST");
                new OllamaGeneration(pool, options, metrics, req, ex, true).run();
            }
            case "/api/generate" -> {
                requireMethod(req, "POST");
                new OllamaGeneration(pool, options, metrics, req, ex, false).run();
            }
            case "/api/tags" -> {
                requireMethod(req, "GET");
                List<Map<String, Object>> models = new ArrayList<>();
                for (ModelInfo i : pool.list()) models.add(entry(i));
                ex.sendJson(200, Map.of("models", models));
            }
            case "/api/ps" -> {
                requireMethod(req, "GET");
                List<Map<String, Object>> models = new ArrayList<>();
                for (var l : pool.loaded()) {
                    Map<String, Object> m = entry(l.getKey());
                    m.remove("modified_at");
                    m.put("size_vram", deviceBytes(l.getValue()));
                    m.put("context_length", l.getValue().contextLength());
                    models.add(m);
                }
                ex.sendJson(200, Map.of("models", models));
            }
            case "/api/show" -> {
                requireMethod(req, "POST");
                show(req, ex);
            }
            case "/api/pull" -> {
                requireMethod(req, "POST");
                pull.run(body(req), ex);
            }
            default -> {
                if (UNSUPPORTED.contains(path) || path.startsWith("/api/blobs/")) {
                    throw new ApiError(501, "invalid_request_error", null, null, req.method() + " " + path + " is not supported by this server");
                }
                throw new ApiError(404, "invalid_request_error", null, null, "unknown URL " + req.method() + " " + req.path()
                        + " (the Ollama API here has /api/chat, /api/generate, /api/tags, /api/show, /api/ps, /api/version, /api/pull)");
            }
        }
    }

    /** Bytes a loaded model holds on devices other than the host (GPU memory), over all its slots. */
    static long deviceBytes(ServedModel m) {
        long total = 0;
        for (var e : m.engines()) {
            java.util.Set<dev.hearth.runtime.backend.Device> seen = new java.util.HashSet<>();
            for (var d : e.placement().layerDevice()) if (d != null && !d.isHost() && seen.add(d)) total += e.allocatedBytes(d);
        }
        return total;
    }

    /** A model in /api/tags and /api/ps. */
    private static Map<String, Object> entry(ModelInfo i) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", i.name());
        m.put("model", i.name());
        m.put("modified_at", i.modified() == null ? Instant.EPOCH.toString() : i.modified().toString());
        m.put("size", i.size());
        m.put("digest", i.digest());
        m.put("details", i.details());
        return m;
    }

    private void show(Request req, Exchange ex) throws IOException {
        Params p = new Params(body(req));
        String name = p.string("model");
        if (name == null) name = p.string("name");
        if (name == null) throw bad("model is required");
        ModelInfo i = pool.info(name);
        if (i == null) throw pool.notFound(name);
        String template = null;
        if (i.file() != null) {
            try (var f = dev.hearth.runtime.gguf.GgufFile.open(i.file())) {
                template = f.getString("tokenizer.chat_template", null);
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("license", "");
        m.put("modelfile", "");
        m.put("parameters", "");
        m.put("template", template == null ? "" : template);
        m.put("details", i.details());
        m.put("model_info", i.header());
        m.put("modified_at", i.modified() == null ? Instant.EPOCH.toString() : i.modified().toString());
        m.put("capabilities", List.of("completion"));
        ex.sendJson(200, m);
    }

    /** The request's body as a JSON object; a 400 that says what is wrong otherwise. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> body(Request req) {
        String text = req.bodyText();
        if (text.isBlank()) throw bad("the request body is empty; send a JSON object");
        Object parsed;
        try {
            parsed = Json.parse(text);
        } catch (Json.JsonException e) {
            throw bad("the request body is not valid JSON (" + e.getMessage() + ")");
        }
        if (!(parsed instanceof Map<?, ?> m)) throw bad("the request body must be a JSON object, not " + Params.typeName(parsed));
        return (Map<String, Object>) m;
    }

    static ApiError bad(String message) {
        return new ApiError(400, "invalid_request_error", null, null, message);
    }

    private static void requireMethod(Request req, String method) {
        boolean get = method.equals("GET");
        if (req.method().equals(method) || (get && req.method().equals("HEAD"))) return;
        throw ApiError.methodNotAllowed(req.path(), req.method(), get ? "GET, HEAD" : method);
    }

    /** The server's sampling defaults with Ollama's repeat_last_n (-1: the whole context) where a request sets it. */
    static SamplerParams withLastN(SamplerParams d, Long lastN, int ctx) {
        if (lastN == null) return d;
        int n = lastN < 0 ? ctx : (int) Math.min(lastN, ctx);
        return new SamplerParams(d.temperature(), d.topK(), d.topP(), d.minP(), d.repeatPenalty(), d.frequencyPenalty(), d.presencePenalty(), n, d.seed());
    }
}
