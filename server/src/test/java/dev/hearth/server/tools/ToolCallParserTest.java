package dev.hearth.server.tools;

import dev.hearth.llama.chat.ChatTemplate;
import dev.hearth.runtime.json.Json;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tool calls read from answers in each family's format, the family told from the real templates
 * (resources chat/templates), and answers that are not calls (broken JSON, no name, text after
 * the call) left as text.
 */
class ToolCallParserTest {
    static final Set<String> NAMES = Set.of("get_weather", "search");

    static ToolCallParser parser(ToolFormat f) {
        AtomicInteger n = new AtomicInteger();
        return new ToolCallParser(f, NAMES, () -> "id" + n.incrementAndGet());
    }

    static Object args(ToolCall c) {
        return Json.parse(c.arguments());
    }

    static String template(String name) throws IOException {
        try (InputStream in = ToolCallParserTest.class.getResourceAsStream("/chat/templates/" + name + ".jinja")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void familiesFromRealTemplates() throws IOException {
        Map<String, ToolFormat> want = Map.ofEntries(
                Map.entry("NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use", ToolFormat.HERMES),
                Map.entry("Qwen-Qwen2.5-7B-Instruct", ToolFormat.HERMES),
                Map.entry("Qwen-Qwen3-0.6B", ToolFormat.HERMES),
                Map.entry("meta-llama-Llama-3.1-8B-Instruct", ToolFormat.LLAMA3),
                Map.entry("meta-llama-Llama-3.2-3B-Instruct", ToolFormat.LLAMA3),
                Map.entry("meta-llama-Llama-3.3-70B-Instruct", ToolFormat.LLAMA3),
                Map.entry("mistralai-Mistral-Nemo-Instruct-2407", ToolFormat.MISTRAL),
                Map.entry("CohereForAI-c4ai-command-r-plus-tool_use", ToolFormat.COMMAND_R),
                Map.entry("openai-gpt-oss-120b", ToolFormat.GPT_OSS),
                Map.entry("google-gemma-2-2b-it", ToolFormat.GENERIC),
                Map.entry("microsoft-Phi-3.5-mini-instruct", ToolFormat.GENERIC),
                Map.entry("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B", ToolFormat.GENERIC));
        for (var e : want.entrySet()) assertEquals(e.getValue(), ToolFormat.detect(template(e.getKey()), null), e.getKey());
        assertEquals(ToolFormat.HERMES, ToolFormat.detect(null, ChatTemplate.CHATML));
        assertEquals(ToolFormat.LLAMA3, ToolFormat.detect("", ChatTemplate.LLAMA3));
        assertEquals(ToolFormat.GENERIC, ToolFormat.detect(null, ChatTemplate.PLAIN));
    }

    @Test
    void hermesSeveralCallsAndTextBefore() {
        String out = "Let me look.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"celsius\"}}\n</tool_call>\n"
                + "<tool_call>\n{\"name\": \"search\", \"arguments\": \"{\\\"query\\\": \\\"rain }\\\"}\"}\n</tool_call>";
        ToolCallParser.Parsed p = parser(ToolFormat.HERMES).parse(out);
        assertEquals("Let me look.", p.content());
        assertEquals(2, p.calls().size());
        assertEquals("get_weather", p.calls().get(0).name());
        assertEquals(Map.of("city", "Paris", "unit", "celsius"), args(p.calls().get(0)));
        assertEquals("id1", p.calls().get(0).id());
        assertEquals("search", p.calls().get(1).name());
        assertEquals(Map.of("query", "rain }"), args(p.calls().get(1)), "arguments given as a JSON text");
        // the closing tag may be cut off by the end of generation
        ToolCallParser.Parsed open = parser(ToolFormat.HERMES).parse("<tool_call>{\"name\": \"search\", \"arguments\": {}}");
        assertEquals(1, open.calls().size());
        ToolCallParser.Parsed unclosed = parser(ToolFormat.HERMES).parse("<tool_call>{\"name\": \"search\", \"arguments\": {}}\n"
                + "<tool_call>{\"name\": \"get_weather\", \"arguments\": {}}</tool_call>");
        assertEquals(2, unclosed.calls().size(), "a closing tag left out between calls (a silent control token)");
        assertEquals("", open.content());
    }

    @Test
    void hermesMalformedIsText() {
        for (String out : List.of("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Par\n</tool_call>",
                "<tool_call>\n{\"arguments\": {}}\n</tool_call>",
                "<tool_call>\n{\"name\": \"search\", \"arguments\": [1]}\n</tool_call>",
                "<tool_call>\n{\"name\": \"search\", \"arguments\": {}}\n</tool_call> and then some words",
                "I would use <tool_call> tags here.")) {
            ToolCallParser.Parsed p = parser(ToolFormat.HERMES).parse(out);
            assertFalse(p.hasCalls(), out);
            assertEquals(out, p.content());
        }
    }

    @Test
    void llama3JsonCalls() {
        ToolCallParser.Parsed p = parser(ToolFormat.LLAMA3).parse(" {\"name\": \"get_weather\", \"parameters\": {\"city\": \"Rome\"}}");
        assertEquals(1, p.calls().size());
        assertEquals("get_weather", p.calls().getFirst().name());
        assertEquals(Map.of("city", "Rome"), args(p.calls().getFirst()));
        assertEquals("", p.content());
        p = parser(ToolFormat.LLAMA3).parse("<|python_tag|>{\"type\": \"function\", \"name\": \"search\", \"parameters\": {\"query\": \"x\"}}; "
                + "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}");
        assertEquals(List.of("search", "get_weather"), p.calls().stream().map(ToolCall::name).toList());
        assertFalse(parser(ToolFormat.LLAMA3).parse("The answer is {\"name\": \"search\"}").hasCalls(), "a call is the whole answer");
        assertFalse(parser(ToolFormat.LLAMA3).parse("{\"name\": \"search\", \"parameters\": {\"q\": 1}").hasCalls(), "unclosed");
        assertFalse(parser(ToolFormat.LLAMA3).parse("{\"type\": \"object\", \"name\": \"search\"}").hasCalls(), "not a function");
    }

    @Test
    void mistralBothForms() {
        ToolCallParser.Parsed p = parser(ToolFormat.MISTRAL).parse("[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Lyon\"}, \"id\": \"a1b2c3d4e\"},"
                + " {\"name\": \"search\", \"arguments\": {\"query\": \"q\"}}]");
        assertEquals(2, p.calls().size());
        assertEquals("a1b2c3d4e", p.calls().get(0).id(), "the model's own id is kept");
        assertEquals("id1", p.calls().get(1).id());
        assertEquals("", p.content());
        p = parser(ToolFormat.MISTRAL).parse("Sure.[TOOL_CALLS]search[ARGS]{\"query\": \"cats\"}[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Nice\"}");
        assertEquals("Sure.", p.content());
        assertEquals(List.of("search", "get_weather"), p.calls().stream().map(ToolCall::name).toList());
        assertEquals(Map.of("city", "Nice"), args(p.calls().get(1)));
        p = parser(ToolFormat.MISTRAL).parse("[TOOL_CALLS]search[CALL_ID]Ab3dE6gH9[ARGS]{\"query\": \"x\"}");
        assertEquals("Ab3dE6gH9", p.calls().getFirst().id());
        assertEquals("search", p.calls().getFirst().name());
        assertFalse(parser(ToolFormat.MISTRAL).parse("[TOOL_CALLS][{\"name\": \"search\", \"arguments\": {}").hasCalls());
        assertFalse(parser(ToolFormat.MISTRAL).parse("[TOOL_CALLS][]").hasCalls());
    }

    @Test
    void commandRAction() {
        String out = "Plan: I will look up the weather.\nAction: ```json\n[\n    {\n        \"tool_name\": \"get_weather\",\n"
                + "        \"parameters\": {\"city\": \"Bern\"}\n    }\n]\n```";
        ToolCallParser.Parsed p = parser(ToolFormat.COMMAND_R).parse(out);
        assertEquals("Plan: I will look up the weather.", p.content());
        assertEquals(1, p.calls().size());
        assertEquals(Map.of("city", "Bern"), args(p.calls().getFirst()));
        ToolCallParser.Parsed direct = parser(ToolFormat.COMMAND_R).parse("Action: ```json\n[{\"tool_name\": \"directly_answer\", \"parameters\": {}}]\n```");
        assertFalse(direct.hasCalls());
        assertFalse(parser(ToolFormat.COMMAND_R).parse("Action: ```json\n[{\"tool_name\": \"search\"\n```").hasCalls());
    }

    @Test
    void gptOssHarmony() {
        ToolCallParser.Parsed p = parser(ToolFormat.GPT_OSS).parse(" to=functions.get_weather<|channel|>commentary json<|message|>{\"city\": \"Oslo\"}");
        assertEquals(1, p.calls().size());
        assertEquals("get_weather", p.calls().getFirst().name());
        assertEquals(Map.of("city", "Oslo"), args(p.calls().getFirst()));
        assertEquals("", p.content());
        p = parser(ToolFormat.GPT_OSS).parse("<|channel|>analysis<|message|>The user wants a search.<|end|><|start|>assistant<|channel|>commentary"
                + " to=functions.search <|constrain|>json<|message|>{\"query\":\"owls\"}<|call|>");
        assertEquals(List.of("search"), p.calls().stream().map(ToolCall::name).toList());
        assertEquals("The user wants a search.", p.content(), "the text before the call: its last message");
        p = parser(ToolFormat.GPT_OSS).parse("<|channel|>commentary<|message|>{\"name\": \"search\", \"arguments\": {\"query\": \"q\"}}");
        assertEquals(List.of("search"), p.calls().stream().map(ToolCall::name).toList(), "a forced call among several tools");
        ToolCallParser.Parsed text = parser(ToolFormat.GPT_OSS).parse("<|channel|>analysis<|message|>Easy.<|end|><|start|>assistant<|channel|>final<|message|>Hello!");
        assertFalse(text.hasCalls());
        assertEquals("Hello!", text.content(), "the final channel is the answer");
        ToolCallParser.Parsed broken = parser(ToolFormat.GPT_OSS).parse(" to=functions.search<|channel|>commentary json<|message|>{\"query\":");
        assertFalse(broken.hasCalls());
        assertEquals("{\"query\":", broken.content());
    }

    @Test
    void genericObjectAndFallback() {
        ToolCallParser.Parsed p = parser(ToolFormat.GENERIC).parse("```json\n{\"name\": \"search\", \"arguments\": {\"query\": \"owls\"}}\n```");
        assertEquals(1, p.calls().size());
        assertEquals(Map.of("query", "owls"), args(p.calls().getFirst()));
        p = parser(ToolFormat.GENERIC).parse("{\"tool_calls\": [{\"name\": \"search\", \"arguments\": {}}, "
                + "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Graz\\\"}\"}}]}");
        assertEquals(List.of("search", "get_weather"), p.calls().stream().map(ToolCall::name).toList());
        assertEquals("{}", p.calls().getFirst().arguments());
        // a JSON answer that does not name an offered tool is an answer, not a call
        String json = "{\"name\": \"Bob\", \"arguments\": {\"age\": 3}}";
        assertFalse(parser(ToolFormat.GENERIC).parse(json).hasCalls());
        assertEquals(json, parser(ToolFormat.GENERIC).parse(json).content());
        assertFalse(parser(ToolFormat.GENERIC).parse("Once upon a time").hasCalls());
        // Hermes models that answer with a bare call
        ToolCallParser.Parsed bare = parser(ToolFormat.HERMES).parse("{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Kyiv\"}}");
        assertTrue(bare.hasCalls());
        assertEquals("", bare.content());
    }

    @Test
    void streamHoldsBackMarkersOnly() {
        ToolCallStream s = new ToolCallStream(parser(ToolFormat.HERMES));
        StringBuilder sent = new StringBuilder();
        String out = "I'll check.\n<tool_call>\n{\"name\": \"search\", \"arguments\": {\"query\": \"a<b\"}}\n</tool_call>";
        for (int i = 0; i < out.length(); i += 3) {
            String piece = out.substring(i, Math.min(out.length(), i + 3));
            sent.append(s.add(piece));
            assertFalse(sent.toString().contains("<tool"), "a marker is never sent: " + sent);
        }
        ToolCallParser.Parsed end = s.finish();
        assertEquals("I'll check.\n", sent.toString());
        assertEquals("", end.content());
        assertEquals(1, end.calls().size());

        ToolCallStream text = new ToolCallStream(parser(ToolFormat.HERMES));
        assertEquals("", text.add("  "), "white space at the start may precede a bare call");
        assertEquals("  Hello ", text.add("Hello <"));
        assertEquals("", text.add("tool"));
        assertEquals("<tools> and", text.add("s> and"), "<tools> is not <tool_call>: released");
        assertEquals(" <tool", text.add(" <tool") + text.finish().content());

        ToolCallStream bare = new ToolCallStream(parser(ToolFormat.GENERIC));
        assertEquals("", bare.add("{\"name\": \"Bob\""));
        assertEquals("", bare.add(", \"arguments\": {}}"));
        ToolCallParser.Parsed p = bare.finish();
        assertFalse(p.hasCalls());
        assertEquals("{\"name\": \"Bob\", \"arguments\": {}}", p.content(), "held text that was no call comes out as text");
    }
}
