package dev.hearth.server;

import dev.hearth.llama.constrain.TokenConstraint;
import dev.hearth.runtime.json.Json;
import dev.hearth.server.http.ApiError;
import dev.hearth.server.http.EventStream;
import dev.hearth.server.http.Exchange;
import dev.hearth.server.http.Request;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One POST /api/chat or /api/generate: Ollama's request checked, then translated into the
 * request the OpenAI routes read ({@link CompletionRequest}, from the same JSON fields), run on a
 * slot of the named model, and answered as Ollama does: a line of JSON per piece of text and a
 * last line with {@code "done": true} and the counts and durations, or one object.
 *
 * <p>/api/generate applies the model's chat template to the prompt (with {@code system} before
 * it) unless {@code raw} is true or the model has no template; then the prompt is the text as
 * given. An empty prompt (or no messages) only loads the model, as Ollama does ("done_reason":
 * "load"); with {@code keep_alive} 0 it unloads it ("unload").
 */
final class OllamaGeneration {
    /** Options Ollama applies when it loads a model: here the server's command line sets those, so they are accepted and not used. */
    private static final Set<String> LOAD_OPTIONS = Set.of("num_keep", "num_batch", "num_gpu", "main_gpu", "low_vram", "use_mmap",
            "use_mlock", "num_thread", "numa", "vocab_only", "f16_kv", "logits_all");
    private static final Set<String> SAMPLING_OPTIONS = Set.of("temperature", "top_p", "top_k", "min_p", "seed", "num_predict", "num_ctx",
            "stop", "repeat_penalty", "repeat_last_n", "presence_penalty", "frequency_penalty", "typical_p", "tfs_z", "mirostat",
            "mirostat_tau", "mirostat_eta", "penalize_newline");

    private final ModelPool pool;
    private final ServerOptions options;
    private final Request req;
    private final Exchange ex;
    private final boolean chat;
    private final long t0 = System.nanoTime();

    private final Metrics metrics;

    OllamaGeneration(ModelPool pool, ServerOptions options, Metrics metrics, Request req, Exchange ex, boolean chat) {
        this.pool = pool;
        this.options = options;
        this.metrics = metrics;
        this.req = req;
        this.ex = ex;
        this.chat = chat;
    }

    void run() throws IOException {
        Params p = new Params(OllamaApi.body(req));
        String name = p.string("model");
        if (name == null || name.isEmpty()) throw OllamaApi.bad("model is required");
        refuseUnsupported(p);
        Boolean streamFlag = p.bool("stream");
        boolean stream = streamFlag == null || streamFlag;
        Boolean raw = chat ? null : p.bool("raw");
        String system = chat ? null : p.string("system");
        Object keepAlive = p.raw("keep_alive");
        if (keepAlive != null && !(keepAlive instanceof String) && !(keepAlive instanceof Number)) {
            throw OllamaApi.bad("keep_alive must be a duration (\"5m\") or a number of seconds, not " + Params.typeName(keepAlive));
        }
        Map<String, Object> opts = p.object("options");
        Params o = new Params(opts == null ? Map.of() : opts);
        checkOptions(opts, o);

        List<Map<String, Object>> messages = chat ? messages(p) : null;
        String prompt = chat ? null : p.string("prompt");
        boolean loadOnly = chat ? messages.isEmpty() : prompt == null || prompt.isEmpty();
        if (loadOnly) {
            loadOnly(name, keepAlive);
            return;
        }

        ModelPool.Lease lease = pool.acquire(name, false, ex::clientGone);
        if (lease == null) {
            ex.closeAfter();
            return;
        }
        try (lease) {
            ServedModel model = lease.model();
            boolean templated = chat || ((raw == null || !raw) && model.chatTemplate() != null && !model.chatTemplate().isBlank());
            if (!chat && !templated && system != null && !system.isEmpty()) prompt = system + "\n\n" + prompt;
            if (!chat && templated) {
                messages = new ArrayList<>();
                if (system != null && !system.isEmpty()) messages.add(Map.of("role", "system", "content", system));
                messages.add(Map.of("role", "user", "content", prompt));
            }
            Long lastN = o.integer("repeat_last_n", -1, Integer.MAX_VALUE);
            Map<String, Object> openAi = openAiRequest(name, messages, prompt, o);
            Object format = p.raw("format");
            if (present(format)) openAi.put("response_format", responseFormat(format));
            if (chat && present(p.raw("tools"))) openAi.put("tools", p.raw("tools"));
            CompletionRequest r = CompletionRequest.parse(openAi, templated, OllamaApi.withLastN(options.sampling(), lastN, model.contextLength()));
            Long numCtx = o.integer("num_ctx", 1, Integer.MAX_VALUE);
            generate(lease, r, templated, numCtx, stream);
        }
    }

    /**
     * The OpenAI request this one means, as JSON fields {@link CompletionRequest#parse} reads:
     * model, messages or prompt, and the sampling options under their OpenAI names ({@code format}
     * and {@code tools} are added as response_format and tools).
     */
    private static Map<String, Object> openAiRequest(String name, List<Map<String, Object>> messages, String prompt, Params o) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", name);
        if (messages != null) m.put("messages", messages);
        else m.put("prompt", prompt);
        for (String k : List.of("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "presence_penalty", "frequency_penalty", "stop")) {
            if (o.has(k)) m.put(k, o.raw(k));
        }
        Long seed = o.integer("seed", Long.MIN_VALUE, Long.MAX_VALUE);
        if (seed != null && seed >= 0) m.put("seed", seed); // Ollama's -1: a random seed
        Long numPredict = o.integer("num_predict", -2, Integer.MAX_VALUE);
        if (numPredict != null && numPredict > 0) m.put("max_tokens", numPredict);
        return m;
    }

    /**
     * Ollama's {@code format}: "json" (any JSON object) or a JSON schema, as the OpenAI routes'
     * response_format.
     */
    private static Map<String, Object> responseFormat(Object format) {
        if (format instanceof String s) {
            if (!s.equals("json")) throw OllamaApi.bad("format must be \"json\" or a JSON schema object, not \"" + s + "\"");
            return Map.of("type", "json_object");
        }
        if (!(format instanceof Map<?, ?> schema)) throw OllamaApi.bad("format must be \"json\" or a JSON schema object, not " + Params.typeName(format));
        return Map.of("type", "json_schema", "json_schema", Map.of("name", "format", "schema", schema));
    }

    /** Fields this server cannot honour: a 400 that names them, never a silent ignore. */
    private void refuseUnsupported(Params p) {
        if (!chat && present(p.raw("tools"))) throw OllamaApi.bad("tools are taken by /api/chat, not /api/generate");
        if (present(p.raw("think"))) throw OllamaApi.bad("think is not supported: this server has no thinking models; leave think out or set it false");
        if (present(p.raw("template"))) {
            throw OllamaApi.bad("template is not supported: the model's own chat template (tokenizer.chat_template) is used; leave template out, or send raw: true with the prompt already formatted");
        }
        if (!chat && present(p.raw("suffix"))) throw OllamaApi.bad("suffix (fill in the middle) is not supported; leave suffix out");
        if (!chat && present(p.raw("images"))) throw OllamaApi.bad("images are not supported: this server has no vision models");
        if (!chat && present(p.raw("context"))) {
            throw OllamaApi.bad("context is not supported: send the whole conversation with /api/chat, or the whole text as the prompt");
        }
        Boolean logprobs = p.bool("logprobs");
        if (logprobs != null && logprobs) throw OllamaApi.bad("logprobs are not supported by this server");
        if (!chat && p.bool("raw") != null && p.bool("raw") && present(p.raw("system"))) {
            throw OllamaApi.bad("system cannot be used with raw: true (a raw prompt is sent as it is); put the system text in the prompt");
        }
    }

    /** A value that asks for something: not null, not false, not an empty string, list or object. */
    private static boolean present(Object v) {
        return switch (v) {
            case null -> false;
            case String s -> !s.isEmpty();
            case List<?> l -> !l.isEmpty();
            case Map<?, ?> m -> !m.isEmpty();
            case Boolean b -> b;
            default -> true;
        };
    }

    /** Each option must be Ollama's; the ones this server has no sampler for must keep their neutral values. */
    private static void checkOptions(Map<String, Object> opts, Params o) {
        if (opts == null) return;
        for (String k : opts.keySet()) {
            if (!LOAD_OPTIONS.contains(k) && !SAMPLING_OPTIONS.contains(k)) throw OllamaApi.bad("options: unknown option '" + k + "'");
        }
        Long mirostat = o.integer("mirostat", 0, 2);
        if (mirostat != null && mirostat != 0) throw OllamaApi.bad("options.mirostat is not supported (only 0, off); use temperature, top_k, top_p, min_p");
        Double typical = o.number("typical_p", 0, 1);
        if (typical != null && typical != 1.0) throw OllamaApi.bad("options.typical_p is not supported (only 1.0, off); use top_p or min_p");
        Double tfs = o.number("tfs_z", 0, Double.MAX_VALUE);
        if (tfs != null && tfs != 1.0) throw OllamaApi.bad("options.tfs_z is not supported (only 1.0, off); use top_p or min_p");
        o.number("mirostat_tau", 0, Double.MAX_VALUE);
        o.number("mirostat_eta", 0, Double.MAX_VALUE);
        o.bool("penalize_newline");
        o.integer("repeat_last_n", -1, Integer.MAX_VALUE);
        o.integer("num_ctx", 1, Integer.MAX_VALUE);
        Long numPredict = o.integer("num_predict", -2, Integer.MAX_VALUE);
        if (numPredict != null && numPredict == 0) throw OllamaApi.bad("options.num_predict must be at least 1, or -1 (no limit) or -2 (fill the context)");
    }

    /** Chat messages in OpenAI's shape; images and tool calls are refused. */
    private static List<Map<String, Object>> messages(Params p) {
        Object v = p.raw("messages");
        if (v == null) return List.of();
        if (!(v instanceof List<?> list)) throw OllamaApi.bad("messages must be an array, not " + Params.typeName(v));
        List<Map<String, Object>> out = new ArrayList<>();
        List<Map<String, Object>> pending = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> m)) throw OllamaApi.bad("messages[" + i + "] must be an object, not " + Params.typeName(list.get(i)));
            if (present(m.get("images"))) throw OllamaApi.bad("messages[" + i + "].images: images are not supported: this server has no vision models");
            Object role = m.get("role");
            if (!(role instanceof String)) throw OllamaApi.bad("messages[" + i + "].role must be a string (system, user, assistant or tool)");
            Object content = m.get("content");
            if (content != null && !(content instanceof String)) throw OllamaApi.bad("messages[" + i + "].content must be a string, not " + Params.typeName(content));
            Map<String, Object> msg = new LinkedHashMap<>();
            msg.put("role", role);
            msg.put("content", content == null ? "" : content);
            if (present(m.get("tool_calls"))) {
                List<Map<String, Object>> calls = openAiCalls(i, m.get("tool_calls"));
                msg.put("tool_calls", calls);
                pending.clear();
                pending.addAll(calls);
            }
            if ("tool".equals(role)) {
                // Ollama names the tool, OpenAI the call: the first open call of that name (else the first open call) is the one answered
                String toolName = m.get("tool_name") instanceof String n ? n : m.get("name") instanceof String n2 ? n2 : null;
                Map<String, Object> answered = null;
                for (Map<String, Object> c : pending) {
                    if (answered == null || toolName != null && toolName.equals(((Map<?, ?>) c.get("function")).get("name"))) {
                        answered = c;
                        if (toolName == null || toolName.equals(((Map<?, ?>) c.get("function")).get("name"))) break;
                    }
                }
                if (answered != null) pending.remove(answered);
                msg.put("tool_call_id", answered != null ? answered.get("id") : "call_" + i);
                if (toolName != null) msg.put("name", toolName);
            }
            out.add(msg);
        }
        return out;
    }

    /** An assistant message's tool calls as the OpenAI routes take them: arguments as JSON text, with ids. */
    private static List<Map<String, Object>> openAiCalls(int i, Object calls) {
        if (!(calls instanceof List<?> list)) throw OllamaApi.bad("messages[" + i + "].tool_calls must be an array, not " + Params.typeName(calls));
        List<Map<String, Object>> out = new ArrayList<>();
        for (int j = 0; j < list.size(); j++) {
            if (!(list.get(j) instanceof Map<?, ?> c) || !(c.get("function") instanceof Map<?, ?> f) || !(f.get("name") instanceof String name)) {
                throw OllamaApi.bad("messages[" + i + "].tool_calls[" + j + "] must be {\"function\": {\"name\": ..., \"arguments\": {...}}}");
            }
            Object args = f.get("arguments");
            Map<String, Object> fn = new LinkedHashMap<>();
            fn.put("name", name);
            fn.put("arguments", args instanceof String s ? s : Json.write(args == null ? Map.of() : args));
            Map<String, Object> call = new LinkedHashMap<>();
            call.put("id", "call_" + i + "_" + j);
            call.put("type", "function");
            call.put("function", fn);
            out.add(call);
        }
        return out;
    }

    /** OpenAI-shaped tool calls (arguments as JSON text) as Ollama writes them: arguments as an object. */
    private static List<Map<String, Object>> ollamaCalls(List<Map<String, Object>> calls) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> c : calls) {
            @SuppressWarnings("unchecked")
            Map<String, Object> f = (Map<String, Object>) c.get("function");
            Object args;
            try {
                args = Json.parse(String.valueOf(f.get("arguments")));
            } catch (RuntimeException e) {
                args = Map.of();
            }
            Map<String, Object> fn = new LinkedHashMap<>();
            fn.put("name", f.get("name"));
            fn.put("arguments", args);
            out.add(Map.of("function", fn));
        }
        return out;
    }

    /** An empty prompt: loads the model (or with keep_alive 0 unloads it) and says so. */
    private void loadOnly(String name, Object keepAlive) throws IOException {
        boolean unload = keepAlive instanceof Number n ? n.doubleValue() == 0 : keepAlive instanceof String s && s.matches("0+(\\.0*)?[smh]?");
        String reason;
        if (unload) {
            if (!pool.has(name)) throw pool.notFound(name);
            pool.unload(name);
            reason = "unload";
        } else {
            ModelPool.Lease lease = pool.acquire(name, false, ex::clientGone);
            if (lease == null) {
                ex.closeAfter();
                return;
            }
            lease.close();
            reason = "load";
        }
        Map<String, Object> m = head(name);
        if (chat) m.put("message", message(""));
        else m.put("response", "");
        m.put("done_reason", reason);
        m.put("done", true);
        ex.sendJson(200, m);
    }

    private void generate(ModelPool.Lease lease, CompletionRequest r, boolean templated, Long numCtx, boolean stream) throws IOException {
        ServedModel model = lease.model();
        Prompts prompts = lease.prompts();
        ToolTurn tools = chat ? ToolTurn.of(r.tools(), prompts.toolFormat(), model.tokenizer()) : null;
        TokenConstraint constraint = r.responseFormat().constraint(model.tokenizer());
        int ctx = model.contextLength();
        int window = numCtx != null && numCtx < ctx ? numCtx.intValue() : ctx;
        // counted only up to the window (a prompt of megabytes is never tokenized whole), as on the OpenAI routes
        PromptFit fit = new PromptFit(model.tokenizer(), window, options.policy().contextOverflow());
        int[] prompt;
        try {
            prompt = templated ? fit.chat(r.messages(), r.maxTokens(), m -> prompts.chatText(m, r.tools().tools())).tokens() : fit.completion(r.prompt());
        } catch (ApiError e) {
            String why = numCtx != null && numCtx > ctx
                    ? " (num_ctx " + numCtx + " cannot enlarge it: the context is set when the model is loaded, with hearth serve -c)" : "";
            throw OllamaApi.bad(e.getMessage() + why);
        }
        int room = window - prompt.length;
        int maxTokens = r.maxTokens() == null ? room : Math.min(r.maxTokens(), room);
        List<String> stops = new ArrayList<>(r.stop());
        if (templated) stops.addAll(prompts.chatStops());
        SlotPool.Slot slot;
        try {
            slot = lease.slots().acquire(prompt, ex::clientGone);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiError(503, "server_error", null, null, "the server is shutting down");
        }
        if (slot == null) {
            ex.closeAfter();
            return;
        }
        long acquired = System.nanoTime();
        Generation.Result res;
        try {
            res = stream ? streamed(lease, r, slot, prompt, maxTokens, stops, tools, constraint)
                    : whole(lease, r, slot, prompt, maxTokens, stops, tools, constraint);
        } finally {
            lease.slots().release(slot);
        }
        if (res != null) metrics.generated(res, slot, acquired - t0);
        if (options.log() != null && res != null) {
            options.log().printf("hearth serve: %s %s %s slot %d: prompt %d tokens, %d generated, %s, %.0f ms%n", req.method(), req.path(), lease.name(),
                    slot.id(), res.promptTokens(), res.completionTokens(), res.finishReason(), (System.nanoTime() - t0) / 1e6);
        }
    }


    private Generation.Result whole(ModelPool.Lease lease, CompletionRequest r, SlotPool.Slot slot, int[] prompt, int maxTokens,
                                    List<String> stops, ToolTurn tools, TokenConstraint constraint) throws IOException {
        Generation.Result res;
        try {
            res = ToolDecoding.run(slot.session(), lease.model().tokenizer(), tools, constraint, prompt, maxTokens, r.sampling(), stops, piece -> { }, ex::clientGone);
        } catch (RuntimeException e) {
            slot.session().reset();
            throw new ApiError(500, "server_error", null, null, "generation failed: " + e.getMessage());
        }
        if (res.finishReason().equals("cancelled")) {
            ex.closeAfter();
            return res;
        }
        Map<String, Object> last = last(lease, res, res.text());
        if (tools != null) {
            Map<String, Object> msg = new LinkedHashMap<>();
            if (!tools.whole(msg, res.text(), res.finishReason()).equals(res.finishReason())) {
                @SuppressWarnings("unchecked")
                List<Map<String, Object>> calls = (List<Map<String, Object>>) msg.get("tool_calls");
                Map<String, Object> m = message(msg.get("content") instanceof String c ? c : "");
                m.put("tool_calls", ollamaCalls(calls));
                last.put("message", m);
            }
        }
        ex.sendJson(200, last);
        return res;
    }

    private Generation.Result streamed(ModelPool.Lease lease, CompletionRequest r, SlotPool.Slot slot, int[] prompt, int maxTokens,
                                       List<String> stops, ToolTurn tools, TokenConstraint constraint) throws IOException {
        EventStream es = ex.lineStream();
        Generation.Result res;
        try {
            Generation.Sink sink = piece -> {
                Map<String, Object> m = head(lease.name());
                if (chat) m.put("message", message(piece));
                else m.put("response", piece);
                m.put("done", false);
                es.send(Json.write(m));
            };
            if (tools != null) {
                Generation.Sink content = sink;
                sink = piece -> {
                    String out = tools.streamed(piece);
                    if (!out.isEmpty()) content.text(out);
                };
            }
            res = ToolDecoding.run(slot.session(), lease.model().tokenizer(), tools, constraint, prompt, maxTokens, r.sampling(), stops, sink, ex::clientGone);
            if (tools != null && !res.finishReason().equals("cancelled")) {
                // what the stream held back: text, or the calls, sent as one message line
                ToolTurn.End end = tools.streamEndWhole();
                String text = end.content();
                List<Map<String, Object>> calls = end.calls();
                if (!text.isEmpty() || !calls.isEmpty()) {
                    Map<String, Object> m = head(lease.name());
                    Map<String, Object> msg = message(text);
                    if (!calls.isEmpty()) msg.put("tool_calls", ollamaCalls(calls));
                    m.put("message", msg);
                    m.put("done", false);
                    es.send(Json.write(m));
                }
            }
        } catch (RuntimeException e) {
            slot.session().reset();
            es.send(Json.write(Map.of("error", "generation failed: " + e.getMessage())));
            return null;
        }
        if (res.finishReason().equals("cancelled")) {
            ex.closeAfter();
            return res;
        }
        es.send(Json.write(last(lease, res, "")));
        return res;
    }

    private Map<String, Object> head(String name) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", name);
        m.put("created_at", Instant.now().toString());
        return m;
    }

    private static Map<String, Object> message(String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", "assistant");
        m.put("content", content);
        return m;
    }

    /** The last object: the text (all of it, or "" after a stream), why it ended, counts and durations in nanoseconds. */
    private Map<String, Object> last(ModelPool.Lease lease, Generation.Result res, String text) {
        Map<String, Object> m = head(lease.name());
        if (chat) m.put("message", message(text));
        else m.put("response", text);
        m.put("done_reason", res.finishReason());
        m.put("done", true);
        m.put("total_duration", System.nanoTime() - t0);
        m.put("load_duration", lease.loadNanos());
        m.put("prompt_eval_count", res.promptTokens());
        m.put("prompt_eval_duration", res.promptNanos());
        m.put("eval_count", res.completionTokens());
        m.put("eval_duration", res.generationNanos());
        return m;
    }
}
