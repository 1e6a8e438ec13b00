package dev.hearth.server;

import dev.hearth.server.http.ApiError;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The tool fields of a chat request, read and checked: {@code tools} (functions with a name, a
 * description and a JSON schema of their parameters), {@code tool_choice} ("auto", the default
 * with tools; "none"; "required"; or one named function) and {@code parallel_tool_calls} (false:
 * only the first call of an answer is kept). {@code tools} is null where the request has none.
 */
record ToolRequest(List<Map<String, Object>> tools, String choice, String forced, boolean parallel) {
    static final ToolRequest NONE = new ToolRequest(null, "none", null, true);
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");
    private static final int MAX_TOOLS = 128;

    /** Whether calls are to be read from the answer. */
    boolean active() {
        return tools != null && !choice.equals("none");
    }

    /** Whether the answer must be a call ("required" or a named function). */
    boolean mustCall() {
        return tools != null && (choice.equals("required") || choice.equals("function"));
    }

    Set<String> names() {
        Set<String> s = new LinkedHashSet<>();
        if (tools != null) for (Map<String, Object> t : tools) s.add(functionName(t));
        return s;
    }

    /** The tools a forced call may call: the named one, or all. */
    List<Map<String, Object>> callable() {
        if (forced == null) return tools;
        return tools.stream().filter(t -> functionName(t).equals(forced)).toList();
    }

    @SuppressWarnings("unchecked")
    static String functionName(Map<String, Object> tool) {
        return (String) ((Map<String, Object>) tool.get("function")).get("name");
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> parameters(Map<String, Object> tool) {
        Object p = ((Map<String, Object>) tool.get("function")).get("parameters");
        return p == null ? Map.of("type", "object", "properties", Map.of()) : (Map<String, Object>) p;
    }

    static ToolRequest parse(Params p) {
        List<Map<String, Object>> tools = tools(p.raw("tools"));
        Boolean parallel = p.bool("parallel_tool_calls");
        Object c = p.raw("tool_choice");
        String choice;
        String forced = null;
        if (c == null) {
            choice = tools == null ? "none" : "auto";
        } else if (c instanceof String s) {
            if (!Set.of("auto", "none", "required").contains(s)) {
                throw ApiError.invalid("tool_choice", "invalid_value", "Invalid value for 'tool_choice': '" + s
                        + "'. Supported values are: 'none', 'auto', 'required', or an object naming a function.");
            }
            choice = s;
        } else if (c instanceof Map<?, ?> m) {
            if (!"function".equals(m.get("type"))) {
                throw ApiError.invalid("tool_choice.type", "invalid_value", "Invalid value for 'tool_choice.type': expected 'function'.");
            }
            if (!(m.get("function") instanceof Map<?, ?> f) || !(f.get("name") instanceof String name)) {
                throw Params.missing("tool_choice.function.name");
            }
            choice = "function";
            forced = name;
        } else {
            throw Params.wrongType("tool_choice", "a string or an object", c);
        }
        if (tools == null && !choice.equals("none") && c != null && !choice.equals("auto")) {
            throw ApiError.invalid("tool_choice", "invalid_value", "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.");
        }
        String named = forced;
        if (named != null && tools.stream().noneMatch(t -> functionName(t).equals(named))) {
            throw ApiError.invalid("tool_choice", "invalid_value", "Invalid value for 'tool_choice': no function named '" + named
                    + "' in 'tools' (the tools are: " + String.join(", ", tools.stream().map(ToolRequest::functionName).toList()) + ").");
        }
        return new ToolRequest(tools, choice, forced, parallel == null || parallel);
    }

    private static List<Map<String, Object>> tools(Object v) {
        if (v == null) return null;
        if (!(v instanceof List<?> list)) throw Params.wrongType("tools", "an array", v);
        if (list.isEmpty()) return null;
        if (list.size() > MAX_TOOLS) {
            throw ApiError.invalid("tools", "array_above_max_length", "Invalid 'tools': array too long. Expected an array with maximum length "
                    + MAX_TOOLS + ", but got an array with length " + list.size() + " instead.");
        }
        List<Map<String, Object>> out = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String at = "tools[" + i + "]";
            if (!(list.get(i) instanceof Map<?, ?> m)) throw Params.wrongType(at, "an object", list.get(i));
            if (!"function".equals(m.get("type"))) {
                throw ApiError.invalid(at + ".type", "invalid_value", "Invalid value for '" + at + ".type': only 'function' tools are supported.");
            }
            if (!(m.get("function") instanceof Map<?, ?> f)) throw Params.missing(at + ".function");
            if (!(f.get("name") instanceof String name)) throw Params.missing(at + ".function.name");
            if (!NAME.matcher(name).matches()) {
                throw ApiError.invalid(at + ".function.name", "invalid_value", "Invalid '" + at + ".function.name': '" + name
                        + "' does not match '^[a-zA-Z0-9_-]{1,64}$'.");
            }
            if (!seen.add(name)) {
                throw ApiError.invalid(at + ".function.name", "invalid_value", "Invalid 'tools': the function name '" + name + "' is used twice.");
            }
            if (f.get("description") != null && !(f.get("description") instanceof String)) {
                throw Params.wrongType(at + ".function.description", "a string", f.get("description"));
            }
            if (f.get("parameters") != null && !(f.get("parameters") instanceof Map<?, ?>)) {
                throw Params.wrongType(at + ".function.parameters", "an object (a JSON schema)", f.get("parameters"));
            }
            // as given (the template shows the client's own definition), without nulls
            Map<String, Object> fn = new LinkedHashMap<>();
            for (var e : f.entrySet()) if (e.getValue() != null) fn.put((String) e.getKey(), e.getValue());
            Map<String, Object> tool = new LinkedHashMap<>();
            tool.put("type", "function");
            tool.put("function", fn);
            out.add(tool);
        }
        return out;
    }
}
