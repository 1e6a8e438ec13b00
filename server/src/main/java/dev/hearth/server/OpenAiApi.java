package dev.hearth.server;

import dev.hearth.llama.constrain.TokenConstraint;
import dev.hearth.runtime.json.Json;
import dev.hearth.server.http.ApiError;
import dev.hearth.server.http.EventStream;
import dev.hearth.server.http.Exchange;
import dev.hearth.server.http.Http1Server;
import dev.hearth.server.http.Request;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The OpenAI-compatible routes: POST /v1/chat/completions and /v1/completions (whole answers or
 * server-sent events), GET /v1/models and /v1/models/{id}, GET /health, which never waits
 * for a slot and needs no key, and GET /metrics where enabled. The same paths without /v1 are
 * served too. Requests reach it past the {@link Gate} (Host, CORS); POST bodies must be JSON.
 */
final class OpenAiApi implements Http1Server.Handler {
    private final ModelPool pool;
    private final ServerOptions options;
    private final long created = System.currentTimeMillis() / 1000;
    private final Gate gate;
    private final Metrics metrics;

    OpenAiApi(ModelPool pool, ServerOptions options, Gate gate, Metrics metrics) {
        this.pool = pool;
        this.options = options;
        this.gate = gate;
        this.metrics = metrics;
    }

    @Override
    public void handle(Request req, Exchange ex) throws IOException {
        String path = req.path();
        while (path.length() > 1 && path.endsWith("/")) path = path.substring(0, path.length() - 1);
        if (path.startsWith("/v1/")) path = path.substring(3);
        if (path.equals("/health")) {
            requireMethod(req, "GET");
            ex.sendJson(200, health());
            return;
        }
        checkKey(req, options.apiKey());
        switch (path) {
            case "/metrics" -> {
                requireMethod(req, "GET");
                if (!options.policy().metrics()) {
                    throw new ApiError(404, "invalid_request_error", null, "unknown_url", "Metrics are off; start the server with --metrics to serve GET /metrics.");
                }
                ex.send(200, "text/plain; version=0.0.4; charset=utf-8", metrics.render(pool.slotPools()).getBytes(StandardCharsets.UTF_8), Map.of());
            }
            case "/models" -> {
                requireMethod(req, "GET");
                ex.sendJson(200, Map.of("object", "list", "data", pool.names().stream().map(this::modelEntry).toList()));
            }
            case "/chat/completions" -> {
                requireMethod(req, "POST");
                completions(req, ex, true);
            }
            case "/completions" -> {
                requireMethod(req, "POST");
                completions(req, ex, false);
            }
            default -> {
                if (path.startsWith("/models/")) {
                    requireMethod(req, "GET");
                    String id = path.substring("/models/".length());
                    if (!pool.has(id)) {
                        throw new ApiError(404, "invalid_request_error", "model", "model_not_found", "The model '" + id + "' does not exist; this server has '"
                                + String.join("', '", pool.names()) + "'.");
                    }
                    ex.sendJson(200, modelEntry(id));
                    return;
                }
                throw new ApiError(404, "invalid_request_error", null, "unknown_url", "Unknown request URL: " + req.method() + " " + req.path() + ".");
            }
        }
    }

    /** The request's method must be {@code method}; HEAD is answered wherever GET is (the head of GET's answer). */
    private static void requireMethod(Request req, String method) {
        boolean get = method.equals("GET");
        if (req.method().equals(method) || (get && req.method().equals("HEAD"))) return;
        throw ApiError.methodNotAllowed(req.path(), req.method(), get ? "GET, HEAD" : method);
    }

    /** With an API key set, the request must carry it as a bearer token (401 otherwise). */
    static void checkKey(Request req, String apiKey) {
        if (apiKey == null) return;
        String auth = req.header("authorization");
        String given = auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7) ? auth.substring(7).trim() : null;
        if (given == null || !MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), apiKey.getBytes(StandardCharsets.UTF_8))) {
            throw new ApiError(401, "invalid_request_error", null, "invalid_api_key",
                    given == null ? "You didn't provide an API key. Send it as 'Authorization: Bearer KEY'." : "Incorrect API key provided.");
        }
    }

    private Map<String, Object> health() {
        Map<String, Object> m = new LinkedHashMap<>();
        int[] slots = pool.slotCounts(); // idle, all, queued: over the loaded models
        m.put("status", "ok");
        m.put("slots_idle", slots[0]);
        m.put("slots_processing", slots[1] - slots[0]);
        m.put("requests_queued", slots[2]);
        return m;
    }

    private Map<String, Object> modelEntry(String id) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", "hearth");
        return m;
    }

    private void completions(Request req, Exchange ex, boolean chat) throws IOException {
        long t0 = System.nanoTime();
        Gate.requireJson(req);
        CompletionRequest r = CompletionRequest.parse(req.bodyText(), chat, options.sampling());
        if (r.model() == null && pool.isFolder()) throw Params.missing("model");
        ModelPool.Lease lease = pool.acquire(r.model(), true, ex::clientGone);
        if (lease == null) {
            ex.closeAfter(); // the client left while the model was loading
            return;
        }
        try (lease) {
            completions(req, ex, chat, r, lease.model(), lease.slots(), lease.prompts(), t0);
        }
    }

    private void completions(Request req, Exchange ex, boolean chat, CompletionRequest r, ServedModel model, SlotPool slots, Prompts prompts,
                             long t0) throws IOException {
        ToolTurn tools = chat ? ToolTurn.of(r.tools(), prompts.toolFormat(), model.tokenizer()) : null;
        int ctx = model.contextLength();
        PromptFit fit = new PromptFit(model.tokenizer(), ctx, options.policy().contextOverflow());
        int[] prompt = chat ? fit.chat(r.messages(), r.maxTokens(), m -> prompts.chatText(m, r.tools().tools())).tokens() : fit.completion(r.prompt());
        if (prompt.length == 0) throw ApiError.invalid(chat ? "messages" : "prompt", "The prompt is empty.");
        int room = ctx - prompt.length;
        int maxTokens = r.maxTokens() == null ? room : Math.min(r.maxTokens(), room);
        List<String> stops = new ArrayList<>(r.stop());
        if (chat) stops.addAll(prompts.chatStops());
        TokenConstraint constraint = r.responseFormat().constraint(model.tokenizer());
        SlotPool.Slot slot;
        try {
            slot = slots.acquire(prompt, ex::clientGone);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiError(503, "server_error", null, null, "The server is shutting down.");
        }
        if (slot == null) {
            ex.closeAfter(); // the client left while queued
            return;
        }
        long acquired = System.nanoTime();
        String id = (chat ? "chatcmpl-" : "cmpl-") + randomId();
        long createdAt = System.currentTimeMillis() / 1000;
        Generation.Result res;
        try {
            res = r.stream() ? stream(model, ex, r, chat, id, createdAt, slot, prompt, maxTokens, stops, tools, constraint)
                    : whole(model, ex, r, chat, id, createdAt, slot, prompt, maxTokens, stops, tools, constraint);
        } finally {
            slots.release(slot);
        }
        if (res != null) {
            metrics.generated(res, slot, acquired - t0);
        }
        if (options.log() != null && res != null) {
            options.log().printf("hearth serve: %s %s slot %d: prompt %d tokens, %d generated, %s, %.0f ms%n", req.method(), req.path(),
                    slot.id(), res.promptTokens(), res.completionTokens(), res.finishReason(), (System.nanoTime() - t0) / 1e6);
        }
    }

    private Generation.Result whole(ServedModel model, Exchange ex, CompletionRequest r, boolean chat, String id, long createdAt, SlotPool.Slot slot,
                                    int[] prompt, int maxTokens, List<String> stops, ToolTurn tools, TokenConstraint constraint) throws IOException {
        Generation.Result res;
        try {
            res = ToolDecoding.run(slot.session(), model.tokenizer(), tools, constraint, prompt, maxTokens, r.sampling(), stops, piece -> { }, ex::clientGone);
        } catch (RuntimeException e) {
            slot.session().reset();
            throw new ApiError(500, "server_error", null, null, "Generation failed: " + e.getMessage());
        }
        if (res.finishReason().equals("cancelled")) {
            ex.closeAfter();
            return res;
        }
        Map<String, Object> choice = new LinkedHashMap<>();
        choice.put("index", 0);
        String finish = res.finishReason();
        if (chat) {
            Map<String, Object> msg = new LinkedHashMap<>();
            msg.put("role", "assistant");
            msg.put("content", res.text());
            msg.put("refusal", null);
            if (tools != null) finish = tools.whole(msg, res.text(), finish);
            choice.put("message", msg);
        } else {
            choice.put("text", res.text());
        }
        choice.put("logprobs", null);
        choice.put("finish_reason", finish);
        Map<String, Object> body = envelope(model, id, chat ? "chat.completion" : "text_completion", createdAt);
        body.put("choices", List.of(choice));
        body.put("usage", usage(res, slot));
        ex.sendJson(200, body);
        return res;
    }

    private Generation.Result stream(ServedModel model, Exchange ex, CompletionRequest r, boolean chat, String id, long createdAt, SlotPool.Slot slot,
                                     int[] prompt, int maxTokens, List<String> stops, ToolTurn tools, TokenConstraint constraint) throws IOException {
        String object = chat ? "chat.completion.chunk" : "text_completion";
        EventStream es = ex.eventStream();
        Generation.Result res;
        String finish = null;
        try {
            if (chat) es.send(Json.write(chunk(model, id, object, createdAt, chat, Map.of("role", "assistant", "content", ""), null)));
            Generation.Sink sink = piece -> es.send(Json.write(chunk(model, id, object, createdAt, chat, piece, null)));
            if (tools != null) {
                Generation.Sink content = sink;
                sink = piece -> {
                    String out = tools.streamed(piece);
                    if (!out.isEmpty()) content.text(out);
                };
            }
            res = ToolDecoding.run(slot.session(), model.tokenizer(), tools, constraint, prompt, maxTokens, r.sampling(), stops, sink, ex::clientGone);
            if (tools != null && !res.finishReason().equals("cancelled")) {
                var end = tools.streamEnd(res.finishReason());
                for (Map<String, Object> delta : end.getKey()) es.send(Json.write(chunk(model, id, object, createdAt, chat, delta, null)));
                finish = end.getValue();
            }
        } catch (IOException e) {
            ex.closeAfter();
            return null;
        } catch (RuntimeException e) {
            slot.session().reset();
            ApiError failed = new ApiError(500, "server_error", null, null, "Generation failed: " + e.getMessage());
            gate.logError(ex.request(), "a streaming client", 500, failed); // the 200 head went out already
            es.send(failed.json());
            es.send("[DONE]");
            return null;
        }
        if (res.finishReason().equals("cancelled")) {
            ex.closeAfter();
            return res;
        }
        Map<String, Object> last = chunk(model, id, object, createdAt, chat, chat ? Map.of() : "", finish != null ? finish : res.finishReason());
        if (!r.includeUsage()) last.put("usage", usage(res, slot));
        es.send(Json.write(last));
        if (r.includeUsage()) {
            Map<String, Object> u = envelope(model, id, object, createdAt);
            u.put("choices", List.of());
            u.put("usage", usage(res, slot));
            es.send(Json.write(u));
        }
        es.send("[DONE]");
        return res;
    }


    /** A streamed chunk: for chat a delta (a text piece becomes {"content": piece}), else the text. */
    private Map<String, Object> chunk(ServedModel model, String id, String object, long createdAt, boolean chat, Object delta, String finish) {
        Map<String, Object> choice = new LinkedHashMap<>();
        choice.put("index", 0);
        if (chat) choice.put("delta", delta instanceof String s ? Map.of("content", s) : delta);
        else choice.put("text", delta);
        choice.put("logprobs", null);
        choice.put("finish_reason", finish);
        Map<String, Object> c = envelope(model, id, object, createdAt);
        c.put("choices", List.of(choice));
        return c;
    }

    private Map<String, Object> envelope(ServedModel model, String id, String object, long createdAt) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("object", object);
        m.put("created", createdAt);
        m.put("model", model.id());
        m.put("system_fingerprint", "hearth");
        return m;
    }

    /** Prompt tokens of {@code res} that the slot's cache already held (not computed again). */
    private static Map<String, Object> usage(Generation.Result res, SlotPool.Slot slot) {
        Map<String, Object> u = new LinkedHashMap<>();
        u.put("prompt_tokens", res.promptTokens());
        u.put("completion_tokens", res.completionTokens());
        u.put("total_tokens", res.promptTokens() + res.completionTokens());
        u.put("prompt_tokens_details", Map.of("cached_tokens", Metrics.cached(res, slot)));
        return u;
    }

    private static String randomId() {
        String a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        StringBuilder sb = new StringBuilder(24);
        ThreadLocalRandom r = ThreadLocalRandom.current();
        for (int i = 0; i < 24; i++) sb.append(a.charAt(r.nextInt(a.length())));
        return sb.toString();
    }
}
