package dev.hearth.server.tools;

import dev.hearth.llama.chat.ChatTemplate;

import java.util.List;

/**
 * How a model family writes a tool call, told from its chat template's text as llama.cpp's chat
 * parser tells it: Mistral's {@code [TOOL_CALLS]}, the Hermes {@code <tool_call>} tags (Hermes 2
 * Pro, Qwen 2.5, Qwen 3), Llama 3.1-3.3's JSON (the templates that speak of the ipython role),
 * Command R's {@code Action: ```json} list, and a generic JSON object for every other template.
 * Where the model has no template (or it cannot be rendered), the built-in chat format decides:
 * ChatML writes Hermes calls, Llama 3 its JSON, the others the generic object.
 */
public enum ToolFormat {
    /** {@code <tool_call>\n{"name": .., "arguments": {..}}\n</tool_call>}, one block per call. */
    HERMES("<tool_call>\n", "\n</tool_call>", List.of("<tool_call>"), List.of("<tool_call>", "</tool_call>")),
    /** {@code {"name": .., "parameters": {..}}} as the whole answer, after {@code <|python_tag|>} or not. */
    LLAMA3("", "", List.of("<|python_tag|>"), List.of("<|python_tag|>")),
    /** {@code [TOOL_CALLS][{"name": .., "arguments": {..}, "id": ..}, ..]}, or {@code [TOOL_CALLS]name[ARGS]{..}}. */
    MISTRAL("[TOOL_CALLS][", "]", List.of("[TOOL_CALLS]"), List.of("[TOOL_CALLS]", "[ARGS]", "[CALL_ID]")),
    /** {@code Action: ```json\n[{"tool_name": .., "parameters": {..}}]\n```}. */
    COMMAND_R("Action: ```json\n[", "]\n```", List.of("Action:"), List.of()),
    /**
     * gpt-oss (harmony): {@code  to=functions.NAME<|channel|>commentary json<|message|>{..}} then
     * {@code <|call|>}; the answer's text is its final channel.
     */
    GPT_OSS(" to=functions.", "", List.of("<|channel|>", "<|start|>", " to=functions."),
            List.of("<|channel|>", "<|message|>", "<|constrain|>", "<|start|>", "<|end|>")),
    /** {@code {"name": .., "arguments": {..}}} as the whole answer (or {@code {"tool_calls": [..]}}). */
    GENERIC("", "", List.of(), List.of());

    private final String callPrefix;
    private final String callSuffix;
    private final List<String> markers;
    private final List<String> tokenTexts;

    ToolFormat(String callPrefix, String callSuffix, List<String> markers, List<String> tokenTexts) {
        this.callPrefix = callPrefix;
        this.callSuffix = callSuffix;
        this.markers = markers;
        this.tokenTexts = tokenTexts;
    }

    /** The family of a chat template; {@code builtin} decides where there is no usable template (null, blank). */
    public static ToolFormat detect(String template, ChatTemplate builtin) {
        if (template != null && !template.isBlank()) {
            if (template.contains("<|channel|>") && template.contains("<|start|>assistant to=")) return GPT_OSS;
            if (template.contains("[TOOL_CALLS]")) return MISTRAL;
            if (template.contains("<tool_call>")) return HERMES;
            if (template.contains("ipython") && template.contains("<|start_header_id|>")) return LLAMA3;
            if (template.contains("Action:") && template.contains("```json")) return COMMAND_R;
            return GENERIC;
        }
        return forBuiltin(builtin);
    }

    /** The family the built-in chat formats write tool calls in. */
    public static ToolFormat forBuiltin(ChatTemplate builtin) {
        return switch (builtin) {
            case CHATML -> HERMES;
            case LLAMA3 -> LLAMA3;
            case null, default -> GENERIC;
        };
    }

    /** Text before the JSON of one forced call (constrained decoding writes it). */
    public String callPrefix() {
        return callPrefix;
    }

    /**
     * gpt-oss names the function before the JSON, which then holds only the arguments: the
     * opening text of a forced call of {@code name}.
     */
    public String namedCallPrefix(String name) {
        return " to=functions." + name + "<|channel|>commentary json<|message|>";
    }

    /** The opening of a forced call among several tools where the format names the function outside the JSON (gpt-oss). */
    public String anyCallPrefix() {
        return this == GPT_OSS ? "<|channel|>commentary<|message|>" : callPrefix;
    }

    /** Text after the JSON of one forced call. */
    public String callSuffix() {
        return callSuffix;
    }

    /** The key of a call's arguments in this family's JSON. */
    public String argumentsKey() {
        return this == LLAMA3 || this == COMMAND_R ? "parameters" : "arguments";
    }

    /** The key of a call's function name in this family's JSON. */
    public String nameKey() {
        return this == COMMAND_R ? "tool_name" : "name";
    }

    /** Texts that announce a call: generated text from the first of them on is held back until the answer is complete. */
    public List<String> markers() {
        return markers;
    }

    /** Texts of the format that some vocabularies have as control tokens: generation must hand them on as text. */
    public List<String> tokenTexts() {
        return tokenTexts;
    }

    /** Whether a call is the whole answer (no marker): then an answer that starts as JSON is held back. */
    boolean bareJson() {
        return this == LLAMA3 || this == GENERIC;
    }
}
