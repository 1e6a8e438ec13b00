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
 * server-sent events), GET /v1/models and /v1/models/{id}, and GET /health, which never waits
 * for a slot and needs no key. The same paths without /v1 are served too.
 */
final class OpenAiApi implements Http1Server.Handler {
    private final ServedModel model;
    private final ServerOptions options;
    private final SlotPool slots;
    private final Prompts prompts;
    private final long created = System.currentTimeMillis() / 1000;

    OpenAiApi(ServedModel model, ServerOptions options, SlotPool slots) {
        this.model = model;
        this.options = options;
        this.slots = slots;
        this.prompts = new Prompts(model.tokenizer(), model.chatTemplate(), model.engines().getFirst().config().arch(), options.log());
    }

    Prompts prompts() {
        return prompts;
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
        checkKey(req);
        switch (path) {
            case "/models" -> {
                requireMethod(req, "GET");
                ex.sendJson(200, Map.of("object", "list", "data", List.of(modelEntry())));
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
                    if (!id.equals(model.id())) {
                        throw new ApiError(404, "invalid_request_error", "model", "model_not_found", "The model '" + id + "' does not exist; this server has '" + model.id() + "'.");
                    }
                    ex.sendJson(200, modelEntry());
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

    private void checkKey(Request req) {
        if (options.apiKey() == null) return;
        String auth = req.header("authorization");
        String given = auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7) ? auth.substring(7).trim() : null;
        if (given == null || !MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), options.apiKey().getBytes(StandardCharsets.UTF_8))) {
            throw new ApiError(401, "invalid_request_error", null, "invalid_api_key",
                    given == null ? "You didn't provide an API key. Send it as 'Authorization: Bearer KEY'." : "Incorrect API key provided.");
        }
    }

    private Map<String, Object> health() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", "ok");
        m.put("slots_idle", slots.idle());
        m.put("slots_processing", slots.size() - slots.idle());
        m.put("requests_queued", slots.queued());
        return m;
    }

    private Map<String, Object> modelEntry() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", model.id());
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", "hearth");
        return m;
    }

    private void completions(Request req, Exchange ex, boolean chat) throws IOException {
        long t0 = System.nanoTime();
        CompletionRequest r = CompletionRequest.parse(req.bodyText(), chat, options.sampling());
        int[] prompt = chat ? prompts.chat(r.messages()) : prompts.completion(r.prompt());
        int ctx = model.contextLength();
        if (prompt.length == 0) throw ApiError.invalid(chat ? "messages" : "prompt", "The prompt is empty.");
        if (prompt.length >= ctx) {
            throw ApiError.invalid(chat ? "messages" : "prompt", "context_length_exceeded",
                    "This model's maximum context length is " + ctx + " tokens. However, your " + (chat ? "messages" : "prompt")
                            + " resulted in " + prompt.length + " tokens, which leaves no room to generate. Please reduce the length.");
        }
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
        String id = (chat ? "chatcmpl-" : "cmpl-") + randomId();
        long createdAt = System.currentTimeMillis() / 1000;
        Generation.Result res;
        try {
            res = r.stream() ? stream(ex, r, chat, id, createdAt, slot, prompt, maxTokens, constraint, stops)
                    : whole(ex, r, chat, id, createdAt, slot, prompt, maxTokens, constraint, stops);
        } finally {
            slots.release(slot);
        }
        if (options.log() != null && res != null) {
            options.log().printf("hearth serve: %s %s slot %d: prompt %d tokens, %d generated, %s, %.0f ms%n", req.method(), req.path(),
                    slot.id(), res.promptTokens(), res.completionTokens(), res.finishReason(), (System.nanoTime() - t0) / 1e6);
        }
    }

    private Generation.Result whole(Exchange ex, CompletionRequest r, boolean chat, String id, long createdAt, SlotPool.Slot slot,
                                    int[] prompt, int maxTokens, TokenConstraint constraint, List<String> stops) throws IOException {
        Generation.Result res;
        try {
            res = Generation.run(slot.session(), model.tokenizer(), prompt, maxTokens, r.sampling(), constraint, stops, piece -> { }, ex::clientGone);
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
        if (chat) {
            Map<String, Object> msg = new LinkedHashMap<>();
            msg.put("role", "assistant");
            msg.put("content", res.text());
            msg.put("refusal", null);
            choice.put("message", msg);
        } else {
            choice.put("text", res.text());
        }
        choice.put("logprobs", null);
        choice.put("finish_reason", res.finishReason());
        Map<String, Object> body = envelope(id, chat ? "chat.completion" : "text_completion", createdAt);
        body.put("choices", List.of(choice));
        body.put("usage", usage(res));
        ex.sendJson(200, body);
        return res;
    }

    private Generation.Result stream(Exchange ex, CompletionRequest r, boolean chat, String id, long createdAt, SlotPool.Slot slot,
                                     int[] prompt, int maxTokens, TokenConstraint constraint, List<String> stops) throws IOException {
        String object = chat ? "chat.completion.chunk" : "text_completion";
        EventStream es = ex.eventStream();
        Generation.Result res;
        try {
            if (chat) es.send(Json.write(chunk(id, object, createdAt, chat, Map.of("role", "assistant", "content", ""), null)));
            res = Generation.run(slot.session(), model.tokenizer(), prompt, maxTokens, r.sampling(), constraint, stops,
                    piece -> es.send(Json.write(chunk(id, object, createdAt, chat, piece, null))), ex::clientGone);
        } catch (IOException e) {
            ex.closeAfter();
            return null;
        } catch (RuntimeException e) {
            slot.session().reset();
            es.send(new ApiError(500, "server_error", null, null, "Generation failed: " + e.getMessage()).json());
            es.send("[DONE]");
            return null;
        }
        if (res.finishReason().equals("cancelled")) {
            ex.closeAfter();
            return res;
        }
        Map<String, Object> last = chunk(id, object, createdAt, chat, chat ? Map.of() : "", res.finishReason());
        if (!r.includeUsage()) last.put("usage", usage(res));
        es.send(Json.write(last));
        if (r.includeUsage()) {
            Map<String, Object> u = envelope(id, object, createdAt);
            u.put("choices", List.of());
            u.put("usage", usage(res));
            es.send(Json.write(u));
        }
        es.send("[DONE]");
        return res;
    }

    /** A streamed chunk: for chat a delta (a text piece becomes {"content": piece}), else the text. */
    private Map<String, Object> chunk(String id, String object, long createdAt, boolean chat, Object delta, String finish) {
        Map<String, Object> choice = new LinkedHashMap<>();
        choice.put("index", 0);
        if (chat) choice.put("delta", delta instanceof String s ? Map.of("content", s) : delta);
        else choice.put("text", delta);
        choice.put("logprobs", null);
        choice.put("finish_reason", finish);
        Map<String, Object> c = envelope(id, object, createdAt);
        c.put("choices", List.of(choice));
        return c;
    }

    private Map<String, Object> envelope(String id, String object, long createdAt) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("object", object);
        m.put("created", createdAt);
        m.put("model", model.id());
        m.put("system_fingerprint", "hearth");
        return m;
    }

    private static Map<String, Object> usage(Generation.Result res) {
        Map<String, Object> u = new LinkedHashMap<>();
        u.put("prompt_tokens", res.promptTokens());
        u.put("completion_tokens", res.completionTokens());
        u.put("total_tokens", res.promptTokens() + res.completionTokens());
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
