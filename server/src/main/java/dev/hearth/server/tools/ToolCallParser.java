package dev.hearth.server.tools;

import dev.hearth.runtime.json.Json;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tool calls read from a model's answer in its family's format ({@link ToolFormat}). An answer
 * whose calls do not parse (broken JSON, a missing name, text after the calls) is no call at
 * all: it stays the answer's text. Besides its family's format, a whole answer that is one JSON
 * object {@code {"name": .., "arguments": {..}}} naming one of the offered tools is a call too
 * (small models often answer so).
 */
public final class ToolCallParser {
    /** The answer split: {@code content} is the text before the first call (all the text when there is none). */
    public record Parsed(String content, List<ToolCall> calls) {
        public boolean hasCalls() {
            return !calls.isEmpty();
        }
    }

    private final ToolFormat format;
    private final Set<String> names;
    private final Supplier<String> ids;

    /**
     * @param names the offered tools' names (for the bare-JSON fallback); null takes any name
     * @param ids   new call ids, for calls that do not bring their own
     */
    public ToolCallParser(ToolFormat format, Set<String> names, Supplier<String> ids) {
        this.format = format;
        this.names = names;
        this.ids = ids;
    }

    public ToolFormat format() {
        return format;
    }

    public Parsed parse(String text) {
        List<ToolCall> calls = new ArrayList<>();
        int start = switch (format) {
            case HERMES -> hermes(text, calls);
            case LLAMA3 -> llama3(text, calls);
            case MISTRAL -> mistral(text, calls);
            case COMMAND_R -> commandR(text, calls);
            case GPT_OSS -> gptOss(text, calls);
            case GENERIC -> generic(text, calls);
        };
        boolean bare = format == ToolFormat.GENERIC;
        if (start < 0 && format != ToolFormat.GENERIC && format != ToolFormat.LLAMA3) {
            calls.clear();
            start = generic(text, calls);
            bare = true;
        }
        if (start >= 0 && bare && names != null && !calls.stream().allMatch(c -> names.contains(c.name()))) {
            start = -1; // a bare JSON object is a call only when it names an offered tool
        }
        if (start < 0 || calls.isEmpty()) return new Parsed(format == ToolFormat.GPT_OSS ? harmonyText(text) : text, List.of());
        String content = text.substring(0, start).stripTrailing();
        return new Parsed(format == ToolFormat.GPT_OSS ? harmonyText(content) : content, List.copyOf(calls));
    }

    /** Where the first call begins once the answer is complete, or -1: what is before it may be sent as text. */
    int markerAt(String text, int from) {
        int best = -1;
        for (String m : format.markers()) {
            int i = text.indexOf(m, from);
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best;
    }

    // ---- the families ------------------------------------------------------------------------

    private int hermes(String text, List<ToolCall> calls) {
        int at = text.indexOf("<tool_call>");
        if (at < 0) return -1;
        Cursor c = new Cursor(text, at);
        while (true) {
            c.ws();
            if (c.end()) break;
            if (!c.eat("<tool_call>")) return -1;
            c.ws();
            Object v = c.json();
            if (!(v instanceof Map<?, ?> m) || !call(m, "name", "arguments", calls)) return -1;
            c.ws();
            c.eat("</tool_call>"); // cut off at the end, or left out between calls
        }
        return at;
    }

    private int llama3(String text, List<ToolCall> calls) {
        Cursor c = new Cursor(text, 0);
        c.ws();
        int at = c.at;
        c.eat("<|python_tag|>");
        c.ws();
        if (c.end() || text.charAt(c.at) != '{') return -1;
        while (!c.end()) {
            Object v = c.json();
            if (!(v instanceof Map<?, ?> m)) return -1;
            if (m.containsKey("type") && !"function".equals(m.get("type"))) return -1;
            if (!call(m, "name", m.containsKey("parameters") ? "parameters" : "arguments", calls)) return -1;
            c.ws();
            if (c.eat(";")) c.ws();
        }
        return at;
    }

    private int mistral(String text, List<ToolCall> calls) {
        int at = text.indexOf("[TOOL_CALLS]");
        if (at < 0) return -1;
        Cursor c = new Cursor(text, at);
        while (true) {
            c.ws();
            if (c.end()) break;
            if (!c.eat("[TOOL_CALLS]")) return -1;
            c.ws();
            if (!c.end() && text.charAt(c.at) == '[') {
                if (!(c.json() instanceof List<?> list) || list.isEmpty()) return -1;
                for (Object o : list) {
                    if (!(o instanceof Map<?, ?> m) || !call(m, "name", "arguments", calls)) return -1;
                }
            } else {
                // name[ARGS]{...} or name[CALL_ID]id[ARGS]{...}, as later Mistral templates write calls
                int args = text.indexOf("[ARGS]", c.at);
                if (args < 0) return -1;
                String name = text.substring(c.at, args).strip();
                String id = null;
                int idAt = name.indexOf("[CALL_ID]");
                if (idAt >= 0) {
                    id = name.substring(idAt + "[CALL_ID]".length()).strip();
                    name = name.substring(0, idAt).strip();
                }
                c.at = args + "[ARGS]".length();
                Object v = c.json();
                if (name.isEmpty() || !(v instanceof Map<?, ?>)) return -1;
                calls.add(new ToolCall(id == null || id.isEmpty() ? ids.get() : id, name, Json.write(v)));
            }
        }
        return at;
    }

    private int commandR(String text, List<ToolCall> calls) {
        int at = text.indexOf("Action:");
        if (at < 0) return -1;
        Cursor c = new Cursor(text, at + "Action:".length());
        c.ws();
        boolean fenced = c.eat("```json") || c.eat("```");
        c.ws();
        if (!(c.json() instanceof List<?> list)) return -1;
        c.ws();
        if (fenced && !c.eat("```")) return -1;
        c.ws();
        if (!c.end()) return -1;
        for (Object o : list) {
            if (!(o instanceof Map<?, ?> m)) return -1;
            if ("directly_answer".equals(m.get("tool_name"))) continue;
            if (!call(m, "tool_name", "parameters", calls)) return -1;
        }
        return at;
    }

    private int generic(String text, List<ToolCall> calls) {
        Cursor c = new Cursor(text, 0);
        c.ws();
        int at = c.at;
        boolean fenced = c.eat("```json") || c.eat("```");
        c.ws();
        if (c.end() || text.charAt(c.at) != '{') return -1;
        Object v = c.json();
        c.ws();
        if (fenced && !c.eat("```")) return -1;
        c.ws();
        if (!c.end() || !(v instanceof Map<?, ?> m)) return -1;
        if (m.get("tool_calls") instanceof List<?> list) {
            for (Object o : list) {
                if (!(o instanceof Map<?, ?> one) || !call(unwrap(one), "name", "arguments", calls)) return -1;
            }
        } else if (m.get("tool_call") instanceof Map<?, ?> one) {
            if (!call(unwrap(one), "name", "arguments", calls)) return -1;
        } else if (!call(unwrap(m), "name", m.containsKey("arguments") ? "arguments" : "parameters", calls)) {
            return -1;
        }
        return at;
    }

    private static final Pattern HARMONY_CALL = Pattern.compile("(?:<\\|start\\|>assistant)?\\s*(?:(?:<\\|channel\\|>commentary\\s*)?"
            + "to=functions\\.([\\w.-]+)\\s*(?:<\\|channel\\|>\\s*commentary)?\\s*(?:<\\|constrain\\|>)?\\s*(?:json)?\\s*|<\\|channel\\|>commentary)<\\|message\\|>");

    /** gpt-oss: " to=functions.NAME<|channel|>commentary json<|message|>{args}" (or the channel first), one call per message. */
    private int gptOss(String text, List<ToolCall> calls) {
        Matcher m = HARMONY_CALL.matcher(text);
        int first = -1;
        int pos = 0;
        while (m.find(pos)) {
            if (first >= 0 && !text.substring(pos, m.start()).isBlank()) return -1;
            if (first < 0) first = m.start();
            Cursor c = new Cursor(text, m.end());
            c.ws();
            Object v = c.json();
            if (!(v instanceof Map<?, ?> args)) return -1;
            if (m.group(1) != null) calls.add(new ToolCall(ids.get(), m.group(1), Json.write(args)));
            else if (!call(args, "name", "arguments", calls)) return -1;
            c.ws();
            c.eat("<|call|>");
            pos = c.at;
        }
        if (first < 0 || !text.substring(pos).isBlank()) return -1;
        return first;
    }

    /** The text of a harmony answer: its final channel's message, else its last message (the text itself where it has none). */
    static String harmonyText(String text) {
        int f = text.lastIndexOf("<|channel|>final<|message|>");
        int m = f >= 0 ? f + "<|channel|>final<|message|>".length() : text.lastIndexOf("<|message|>");
        if (m < 0) return text;
        if (f < 0) m += "<|message|>".length();
        String t = text.substring(m);
        for (String end : new String[]{"<|end|>", "<|return|>", "<|call|>"}) {
            int e = t.indexOf(end);
            if (e >= 0) t = t.substring(0, e);
        }
        return t;
    }

    /** OpenAI's own shape, {"type": "function", "function": {"name", "arguments"}}, read as its function. */
    private static Map<?, ?> unwrap(Map<?, ?> m) {
        return m.get("function") instanceof Map<?, ?> f && !m.containsKey("name") ? f : m;
    }

    /** Adds the call {@code m} describes; false if it is not a call (no name, arguments not an object). */
    private boolean call(Map<?, ?> m, String nameKey, String argsKey, List<ToolCall> calls) {
        if (!(m.get(nameKey) instanceof String name) || name.isBlank()) return false;
        Object args = m.get(argsKey);
        String json;
        if (args == null) {
            json = "{}";
        } else if (args instanceof Map<?, ?>) {
            json = Json.write(args);
        } else if (args instanceof String s) {
            // some models write the arguments as a JSON text, as the API sends them
            try {
                if (!(Json.parse(s) instanceof Map<?, ?> parsed)) return false;
                json = Json.write(parsed);
            } catch (Json.JsonException e) {
                return false;
            }
        } else {
            return false;
        }
        String id = m.get("id") instanceof String s && !s.isBlank() ? s : ids.get();
        calls.add(new ToolCall(id, name.strip(), json));
        return true;
    }

    /** A read position in the answer, with a reader for one JSON value. */
    private static final class Cursor {
        final String s;
        int at;

        Cursor(String s, int at) {
            this.s = s;
            this.at = at;
        }

        boolean end() {
            return at >= s.length();
        }

        void ws() {
            while (at < s.length() && Character.isWhitespace(s.charAt(at))) at++;
        }

        boolean eat(String t) {
            if (!s.startsWith(t, at)) return false;
            at += t.length();
            return true;
        }

        /** The JSON object or array that starts here (null if there is none or it is broken); moves past it. */
        Object json() {
            int end = endOfValue(s, at);
            if (end < 0) return null;
            try {
                Object v = Json.parse(s.substring(at, end));
                at = end;
                return v;
            } catch (Json.JsonException e) {
                return null;
            }
        }
    }

    /** The end of the JSON object or array that starts at {@code from}, by its brackets outside strings; -1 if it does not close. */
    static int endOfValue(String s, int from) {
        if (from >= s.length() || (s.charAt(from) != '{' && s.charAt(from) != '[')) return -1;
        int depth = 0;
        boolean inString = false;
        for (int i = from; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (inString) {
                if (ch == '\\') i++;
                else if (ch == '"') inString = false;
            } else if (ch == '"') {
                inString = true;
            } else if (ch == '{' || ch == '[') {
                depth++;
            } else if (ch == '}' || ch == ']') {
                if (--depth == 0) return i + 1;
            }
        }
        return -1;
    }
}
