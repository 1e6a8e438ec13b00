package dev.hearth.server;

import dev.hearth.llama.sampling.SamplerParams;
import dev.hearth.runtime.json.Json;
import dev.hearth.server.http.ApiError;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A /v1/chat/completions or /v1/completions request, read and checked: the messages (chat) or
 * the prompt, streaming, sampling and the limits. Unknown fields are ignored; fields we cannot
 * honour (n other than 1) are refused.
 */
record CompletionRequest(String model, boolean chat, List<Map<String, Object>> messages, String prompt, boolean stream,
                         boolean includeUsage, Integer maxTokens, List<String> stop, SamplerParams sampling, ToolRequest tools,
                         ResponseFormat responseFormat) {
    static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool", "function");

    static CompletionRequest parse(String text, boolean chat, SamplerParams defaults) {
        Object parsed;
        try {
            parsed = Json.parse(text);
        } catch (Json.JsonException e) {
            throw ApiError.invalid(null, "We could not parse the JSON body of your request (" + e.getMessage()
                    + "). The body must be a JSON object; see https://platform.openai.com/docs/api-reference.");
        }
        if (!(parsed instanceof Map<?, ?> m)) {
            throw ApiError.invalid(null, "The request body must be a JSON object, not " + Params.typeName(parsed) + ".");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> body = (Map<String, Object>) m;
        return parse(body, chat, defaults);
    }

    /** The request of a body already parsed (another API's request in these fields). */
    static CompletionRequest parse(Map<String, Object> body, boolean chat, SamplerParams defaults) {
        Params p = new Params(body);
        String model = p.string("model");
        List<Map<String, Object>> messages = null;
        String prompt = null;
        if (chat) {
            messages = messages(p);
        } else {
            prompt = prompt(p);
        }
        Boolean stream = p.bool("stream");
        boolean includeUsage = false;
        Map<String, Object> so = p.object("stream_options");
        if (so != null) {
            Boolean iu = new Params(so).bool("include_usage");
            includeUsage = iu != null && iu;
        }
        Long n = p.integer("n", 1, 128);
        if (n != null && n != 1) throw ApiError.invalid("n", "unsupported_value", "Only n = 1 is supported.");
        Long maxTokens = p.integer("max_completion_tokens", 1, Integer.MAX_VALUE);
        Long legacyMax = p.integer("max_tokens", 1, Integer.MAX_VALUE);
        if (maxTokens == null) maxTokens = legacyMax;
        List<String> stop = p.strings("stop", 16);
        Double temperature = p.number("temperature", 0, 2);
        Double topP = p.number("top_p", 0, 1);
        Long topK = p.integer("top_k", 0, Integer.MAX_VALUE);
        Double minP = p.number("min_p", 0, 1);
        Double presence = p.number("presence_penalty", -2, 2);
        Double frequency = p.number("frequency_penalty", -2, 2);
        Double repeat = p.number("repeat_penalty", 0, 10);
        Long seed = p.integer("seed", Long.MIN_VALUE, Long.MAX_VALUE);
        Boolean logprobs = p.bool("logprobs");
        if (logprobs != null && logprobs) throw ApiError.invalid("logprobs", "unsupported_value", "logprobs are not supported by this server.");
        SamplerParams d = defaults;
        SamplerParams s = new SamplerParams(
                temperature == null ? d.temperature() : temperature.floatValue(),
                topK == null ? d.topK() : topK.intValue(),
                topP == null ? d.topP() : topP.floatValue(),
                minP == null ? d.minP() : minP.floatValue(),
                repeat == null ? d.repeatPenalty() : repeat.floatValue(),
                frequency == null ? d.frequencyPenalty() : frequency.floatValue(),
                presence == null ? d.presencePenalty() : presence.floatValue(),
                d.penaltyLastN(),
                seed == null ? d.seed() : seed & Long.MAX_VALUE);
        return new CompletionRequest(model, chat, messages, prompt, stream != null && stream, includeUsage,
                maxTokens == null ? null : maxTokens.intValue(), stop, s, chat ? ToolRequest.parse(p) : ToolRequest.NONE,
                ResponseFormat.parse(p));
    }

    private static List<Map<String, Object>> messages(Params p) {
        Object v = p.raw("messages");
        if (v == null) throw Params.missing("messages");
        if (!(v instanceof List<?> list)) throw Params.wrongType("messages", "an array", v);
        if (list.isEmpty()) {
            throw ApiError.invalid("messages", "empty_array", "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.");
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String at = "messages[" + i + "]";
            if (!(list.get(i) instanceof Map<?, ?> m)) throw Params.wrongType(at, "an object", list.get(i));
            @SuppressWarnings("unchecked")
            Params mp = new Params((Map<String, Object>) m);
            String role = mp.string("role");
            if (role == null) throw Params.missing(at + ".role");
            if (!ROLES.contains(role)) {
                throw ApiError.invalid(at + ".role", "invalid_value", "Invalid value: '" + role + "'. Supported values are: 'system', 'developer', 'user', 'assistant', 'tool' and 'function'.");
            }
            Map<String, Object> msg = new LinkedHashMap<>();
            msg.put("role", role.equals("developer") ? "system" : role);
            msg.put("content", content(mp.raw("content"), at + ".content"));
            ToolMessages.copyToolFields(mp, role, at, msg);
            out.add(msg);
        }
        return out;
    }

    /** A message's content: a string, null, or an array of text parts (joined with newlines). */
    private static String content(Object v, String at) {
        if (v == null) return "";
        if (v instanceof String s) return s;
        if (!(v instanceof List<?> parts)) throw Params.wrongType(at, "a string or an array of content parts", v);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < parts.size(); i++) {
            if (!(parts.get(i) instanceof Map<?, ?> part)) throw Params.wrongType(at + "[" + i + "]", "an object", parts.get(i));
            Object type = part.get("type");
            if (!"text".equals(type)) {
                throw ApiError.invalid(at + "[" + i + "].type", "unsupported_value", "Only text content parts are supported, not '" + type + "'.");
            }
            Object text = part.get("text");
            if (!(text instanceof String t)) throw Params.wrongType(at + "[" + i + "].text", "a string", text);
            if (!sb.isEmpty()) sb.append('\n');
            sb.append(t);
        }
        return sb.toString();
    }

    private static String prompt(Params p) {
        Object v = p.raw("prompt");
        if (v == null) throw Params.missing("prompt");
        if (v instanceof String s) return s;
        if (v instanceof List<?> l && l.size() == 1 && l.getFirst() instanceof String s) return s;
        throw Params.wrongType("prompt", "a string (or an array of one string)", v);
    }
}
