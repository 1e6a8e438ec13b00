package dev.hearth.server;

import dev.hearth.runtime.json.Json;
import dev.hearth.server.http.ApiError;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tool parts of chat history messages, as the templates take them: an assistant's
 * {@code tool_calls} (each {id, type, function {name, arguments}}) with the arguments, which the
 * API sends as a JSON text, parsed into an object (as llama.cpp and vLLM hand them to templates:
 * most templates write them with {@code tojson} or walk their items; an arguments text that is
 * not a JSON object stays text); a tool result's {@code tool_call_id}; a {@code name} where the
 * client gives one.
 */
final class ToolMessages {
    private ToolMessages() {
    }

    static void copyToolFields(Params mp, String role, String at, Map<String, Object> msg) {
        String name = mp.string("name");
        if (name != null) msg.put("name", name);
        if (role.equals("tool")) {
            String id = mp.string("tool_call_id");
            if (id == null) throw Params.missing(at + ".tool_call_id");
            msg.put("tool_call_id", id);
        }
        if (role.equals("assistant") && mp.raw("tool_calls") != null) {
            Object v = mp.raw("tool_calls");
            if (!(v instanceof List<?> list)) throw Params.wrongType(at + ".tool_calls", "an array", v);
            if (!list.isEmpty()) msg.put("tool_calls", toolCalls(list, at + ".tool_calls"));
        }
    }

    private static List<Map<String, Object>> toolCalls(List<?> list, String at) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String here = at + "[" + i + "]";
            if (!(list.get(i) instanceof Map<?, ?> m)) throw Params.wrongType(here, "an object", list.get(i));
            if (!(m.get("id") instanceof String id)) throw Params.missing(here + ".id");
            if (m.get("type") != null && !"function".equals(m.get("type"))) {
                throw ApiError.invalid(here + ".type", "invalid_value", "Invalid value for '" + here + ".type': only 'function' calls are supported.");
            }
            if (!(m.get("function") instanceof Map<?, ?> f)) throw Params.missing(here + ".function");
            if (!(f.get("name") instanceof String name)) throw Params.missing(here + ".function.name");
            Object args = f.get("arguments");
            Object forTemplate;
            if (args == null) {
                forTemplate = new LinkedHashMap<>();
            } else if (args instanceof String s) {
                forTemplate = s;
                try {
                    if (Json.parse(s) instanceof Map<?, ?> obj) forTemplate = obj;
                } catch (Json.JsonException e) {
                    // left as the text it is
                }
            } else if (args instanceof Map<?, ?> obj) {
                forTemplate = obj;
            } else {
                throw Params.wrongType(here + ".function.arguments", "a string (a JSON object)", args);
            }
            Map<String, Object> fn = new LinkedHashMap<>();
            fn.put("name", name);
            fn.put("arguments", forTemplate);
            Map<String, Object> call = new LinkedHashMap<>();
            call.put("id", id);
            call.put("type", "function");
            call.put("function", fn);
            out.add(call);
        }
        return out;
    }
}
