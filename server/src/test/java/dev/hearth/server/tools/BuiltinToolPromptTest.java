package dev.hearth.server.tools;

import dev.hearth.llama.chat.ChatTemplate;
import dev.hearth.llama.tokenizer.Tokenizer;
import dev.hearth.runtime.gguf.GgufFile;
import dev.hearth.server.chat.BuiltinToolPrompt;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The built-in formats with tools: the tools reach the system text, an earlier call is written
 * in the form the format's parser reads back as the same call, and results are in the prompt.
 * And call markers that are control tokens (Llama 3's {@code <|python_tag|>}) come out as text.
 */
class BuiltinToolPromptTest {
    static final List<Map<String, Object>> TOOLS = List.of(Map.of("type", "function", "function",
            Map.of("name", "get_weather", "parameters", Map.of("type", "object", "properties", Map.of("city", Map.of("type", "string"))))));

    static Map<String, Object> msg(String role, String content, Object... more) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        for (int i = 0; i < more.length; i += 2) m.put((String) more[i], more[i + 1]);
        return m;
    }

    @Test
    void callsWrittenAsTheParserReadsThem() {
        Map<String, Object> call = Map.of("id", "c1", "type", "function", "function", Map.of("name", "get_weather", "arguments", Map.of("city", "Rome")));
        List<Map<String, Object>> messages = List.of(msg("system", "Be brief."), msg("user", "Weather in Rome?"),
                msg("assistant", "", "tool_calls", List.of(call)), msg("tool", "sunny, 21 degrees", "tool_call_id", "c1"));
        for (ChatTemplate f : ChatTemplate.values()) {
            List<ChatTemplate.Message> ms = BuiltinToolPrompt.messages(f, messages, TOOLS);
            String prompt = f.render(ms);
            assertTrue(prompt.contains("Be brief.") && prompt.contains("\"get_weather\"") && prompt.contains("sunny, 21 degrees"), f + ": " + prompt);
            ChatTemplate.Message assistant = ms.stream().filter(m -> m.role().equals("assistant")).findFirst().orElseThrow();
            ToolCallParser.Parsed p = new ToolCallParser(ToolFormat.forBuiltin(f), Set.of("get_weather"), () -> "x").parse(assistant.content());
            assertEquals(1, p.calls().size(), f + ": " + assistant.content());
            assertEquals("get_weather", p.calls().getFirst().name());
            assertEquals("{\"city\":\"Rome\"}", p.calls().getFirst().arguments());
        }
    }

    @Test
    void markerControlTokensComeOutAsText() {
        Path vocab = Path.of(System.getProperty("hearth.testdata", "../testdata"), "ggml-vocab-llama-bpe.gguf");
        try (GgufFile f = GgufFile.open(vocab)) {
            Tokenizer tok = Tokenizer.fromGguf(f);
            // Llama 3.0's vocabulary has no <|python_tag|> (3.1 named a reserved token so): a control token stands in for it
            int marker = tok.tokenId("<|start_header_id|>");
            assertTrue(marker >= 0 && tok.isControl(marker));
            assertEquals(0, tok.tokenBytes(marker).length, "a control token has no text");
            Tokenizer shown = MarkerTokens.of(tok, List.of("<|start_header_id|>", "<|python_tag|>"));
            assertArrayEquals("<|start_header_id|>".getBytes(StandardCharsets.UTF_8), shown.tokenBytes(marker));
            assertFalse(shown.isControl(marker), "text, so that a constrained call may open with it");
            assertSame(shown, MarkerTokens.of(tok, List.of("<|start_header_id|>", "<|python_tag|>")), "one per tokenizer and markers");
            int eot = tok.tokenId("<|eot_id|>");
            assertEquals(0, shown.tokenBytes(eot).length, "other control tokens stay silent");
            assertTrue(shown.isEndOfGeneration(eot));
            int hello = tok.encode("Hello", false)[0];
            assertArrayEquals(tok.tokenBytes(hello), shown.tokenBytes(hello));
            assertSame(tok, MarkerTokens.of(tok, ToolFormat.HERMES), "no marker is a control token there: the tokenizer itself");
        }
    }
}
