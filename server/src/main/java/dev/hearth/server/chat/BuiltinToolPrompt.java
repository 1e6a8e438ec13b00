package dev.hearth.server.chat;

import dev.hearth.llama.chat.ChatTemplate;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Tools in the built-in chat formats, for models without a usable template: the tool list goes
 * into the system message, earlier calls and their results become text the format can hold.
 * ChatML speaks Hermes (the {@code <tools>} list, {@code <tool_call>} blocks, results in
 * {@code <tool_response>} user turns, as Qwen and Hermes models are trained), Llama 3 its JSON
 * calls and ipython results (as Llama 3.1's template), the others a plain JSON call and results
 * as user turns. JSON is written as Python's json.dumps writes it, as the model templates do.
 */
public final class BuiltinToolPrompt {
    private BuiltinToolPrompt() {
    }

    /** The messages (maps with role, content and the tool fields) as plain messages of {@code format}. */
    public static List<ChatTemplate.Message> messages(ChatTemplate format, List<Map<String, Object>> messages, List<Map<String, Object>> tools) {
        List<ChatTemplate.Message> out = new ArrayList<>();
        String toolText = tools == null || tools.isEmpty() ? null : toolList(format, tools);
        int i = 0;
        if (toolText != null) {
            if (!messages.isEmpty() && "system".equals(messages.getFirst().get("role"))) {
                String sys = (String) messages.getFirst().get("content");
                out.add(new ChatTemplate.Message("system", sys.isEmpty() ? toolText : sys + "\n\n" + toolText));
                i = 1;
            } else {
                out.add(new ChatTemplate.Message("system", toolText));
            }
        }
        for (; i < messages.size(); i++) {
            Map<String, Object> m = messages.get(i);
            String role = (String) m.get("role");
            String content = (String) m.get("content");
            if (role.equals("assistant") && m.get("tool_calls") instanceof List<?> calls) {
                out.add(new ChatTemplate.Message("assistant", withCalls(format, content, calls)));
            } else if (role.equals("tool") || role.equals("function")) {
                if (format == ChatTemplate.LLAMA3) {
                    out.add(new ChatTemplate.Message("ipython", content));
                } else if (format == ChatTemplate.CHATML) {
                    String part = "<tool_response>\n" + content + "\n</tool_response>";
                    ChatTemplate.Message last = out.isEmpty() ? null : out.getLast();
                    boolean merge = last != null && last.role().equals("user") && last.content().endsWith("</tool_response>")
                            && i > 0 && isTool(messages.get(i - 1));
                    if (merge) out.set(out.size() - 1, new ChatTemplate.Message("user", last.content() + "\n" + part));
                    else out.add(new ChatTemplate.Message("user", part));
                } else {
                    String who = m.get("name") instanceof String n ? n : (String) m.get("tool_call_id");
                    String part = "Result of tool call " + who + ":\n" + content;
                    ChatTemplate.Message last = out.isEmpty() ? null : out.getLast();
                    if (last != null && last.role().equals("user") && i > 0 && isTool(messages.get(i - 1))) {
                        out.set(out.size() - 1, new ChatTemplate.Message("user", last.content() + "\n\n" + part));
                    } else {
                        out.add(new ChatTemplate.Message("user", part));
                    }
                }
            } else {
                out.add(new ChatTemplate.Message(role, content));
            }
        }
        return out;
    }

    /**
     * The prompt of a model's own template for a conversation with tools. A template that takes
     * {@code tools} gets them as they are; one that does not (Gemma 2, Phi-3.5, ...) would never
     * show them, so the conversation is rewritten as for the built-in plain format: the tool list
     * and how to call (a JSON object) in the system message, earlier calls as that JSON, results
     * as user turns; where the template refuses a system message, the system text opens the
     * first user message instead.
     */
    public static String renderJinja(JinjaChatTemplate jinja, List<Map<String, Object>> messages, List<Map<String, Object>> tools) {
        if (jinja.source().contains("tools")) return jinja.render(messages, true, Map.of("tools", tools));
        List<Map<String, Object>> plain = new ArrayList<>();
        for (ChatTemplate.Message m : messages(ChatTemplate.PLAIN, messages, tools)) plain.add(message(m.role(), m.content()));
        try {
            return jinja.render(plain, true);
        } catch (JinjaChatTemplate.Rejected e) {
            if (plain.size() < 2 || !"system".equals(plain.get(0).get("role")) || !"user".equals(plain.get(1).get("role"))) throw e;
            List<Map<String, Object>> merged = new ArrayList<>(plain.subList(1, plain.size()));
            merged.set(0, message("user", plain.get(0).get("content") + "\n\n" + plain.get(1).get("content")));
            try {
                return jinja.render(merged, true);
            } catch (JinjaChatTemplate.Rejected again) {
                throw e;
            }
        }
    }

    private static Map<String, Object> message(String role, Object content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }

    private static boolean isTool(Map<String, Object> m) {
        return "tool".equals(m.get("role")) || "function".equals(m.get("role"));
    }

    static String toolList(ChatTemplate format, List<Map<String, Object>> tools) {
        StringBuilder sb = new StringBuilder();
        switch (format) {
            case CHATML -> {
                sb.append("# Tools\n\nYou may call one or more functions to assist with the user query.\n\n")
                        .append("You are provided with function signatures within <tools></tools> XML tags:\n<tools>");
                for (Map<String, Object> t : tools) sb.append('\n').append(dumps(t));
                sb.append("\n</tools>\n\nFor each function call, return a json object with function name and arguments within ")
                        .append("<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>");
            }
            case LLAMA3 -> {
                sb.append("Given the following functions, please respond with a JSON for a function call with its proper arguments ")
                        .append("that best answers the given prompt.\n\nRespond in the format {\"name\": function name, \"parameters\": ")
                        .append("dictionary of argument name and its value}. Do not use variables.");
                for (Map<String, Object> t : tools) sb.append("\n\n").append(PyJson.dumps(t, "    ", ",", ": ", false));
            }
            default -> {
                sb.append("You can call these tools:");
                for (Map<String, Object> t : tools) sb.append('\n').append(dumps(t));
                sb.append("\n\nTo call a tool, answer with only a JSON object: {\"name\": <tool name>, \"arguments\": <arguments object>}.");
            }
        }
        return sb.toString();
    }

    private static String withCalls(ChatTemplate format, String content, List<?> calls) {
        StringBuilder sb = new StringBuilder(content == null ? "" : content);
        List<String> generic = new ArrayList<>();
        for (Object o : calls) {
            Map<?, ?> fn = (Map<?, ?>) ((Map<?, ?>) o).get("function");
            Object name = fn.get("name");
            Object args = fn.get("arguments");
            switch (format) {
                case CHATML -> {
                    if (!sb.isEmpty()) sb.append('\n');
                    sb.append("<tool_call>\n{\"name\": ").append(dumps(name)).append(", \"arguments\": ")
                            .append(args instanceof String s ? s : dumps(args)).append("}\n</tool_call>");
                }
                case LLAMA3 -> {
                    if (!sb.isEmpty()) sb.append(sb.toString().endsWith("}") ? "; " : "\n");
                    sb.append("{\"name\": ").append(dumps(name)).append(", \"parameters\": ").append(args instanceof String s ? s : dumps(args)).append('}');
                }
                default -> generic.add("{\"name\": " + dumps(name) + ", \"arguments\": " + (args instanceof String s ? s : dumps(args)) + "}");
            }
        }
        if (!generic.isEmpty()) {
            if (!sb.isEmpty()) sb.append('\n');
            sb.append(generic.size() == 1 ? generic.getFirst() : "{\"tool_calls\": [" + String.join(", ", generic) + "]}");
        }
        return sb.toString();
    }

    private static String dumps(Object v) {
        return PyJson.dumps(v, null, ", ", ": ", false);
    }
}
