package dev.hearth.server.chat;

import dev.hearth.llama.chat.ChatTemplate;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The built-in formats (used where a model has no chat template, or Hearth cannot render it)
 * against the real templates as Python Jinja2 renders them (chat/expected.json), for the same
 * conversations: each must give the same prompt, less the BOS (the tokenizer adds it).
 */
class BuiltinChatFormatsTest {
    /** A built-in format, the real template it stands for, and the conversations where they must agree. */
    record Pair(ChatTemplate format, String template, List<String> conversations) {
    }

    static final List<String> ALL = List.of("system_user", "multi_turn", "user_assistant_user");
    static final List<Pair> PAIRS = List.of(
            new Pair(ChatTemplate.PHI3, "microsoft-Phi-3.5-mini-instruct", ALL),
            // Gemma 2 rejects a system message (Gemma 3 puts it into the first user turn, as the built-in format does).
            new Pair(ChatTemplate.GEMMA, "google-gemma-2-2b-it", List.of("user_assistant_user")),
            new Pair(ChatTemplate.CHATML, "Qwen-Qwen3-0.6B", ALL),
            // Qwen 2.5 writes a default system message where there is none.
            new Pair(ChatTemplate.CHATML, "Qwen-Qwen2.5-7B-Instruct", List.of("system_user", "multi_turn")));

    @SuppressWarnings("unchecked")
    @TestFactory
    List<DynamicTest> sameAsTheRealTemplate() throws IOException {
        Map<String, Object> expected = RealChatTemplatesTest.expected();
        Map<String, Object> conversations = (Map<String, Object>) expected.get("conversations");
        Map<String, Object> templates = (Map<String, Object>) expected.get("templates");
        List<DynamicTest> tests = new ArrayList<>();
        for (Pair p : PAIRS) {
            Map<String, Object> spec = (Map<String, Object>) templates.get(p.template());
            String bos = (String) spec.get("bos_token");
            for (String name : p.conversations()) {
                tests.add(DynamicTest.dynamicTest(p.format() + " = " + p.template() + " / " + name, () -> {
                    Map<String, Object> c = (Map<String, Object>) conversations.get(name);
                    assertTrue((Boolean) c.get("add_generation_prompt"));
                    List<ChatTemplate.Message> messages = new ArrayList<>();
                    for (Map<String, Object> m : (List<Map<String, Object>>) c.get("messages")) {
                        messages.add(new ChatTemplate.Message((String) m.get("role"), (String) m.get("content")));
                    }
                    String want = (String) ((Map<String, Object>) ((Map<String, Object>) spec.get("cases")).get(name)).get("output");
                    if (want.startsWith(bos)) want = want.substring(bos.length());
                    assertEquals(want, p.format().render(messages));
                }));
            }
        }
        return tests;
    }

    /** Each real template is detected as the built-in format that stands for it. */
    @Test
    void detection() throws IOException {
        for (Pair p : PAIRS) {
            assertEquals(p.format(), ChatTemplate.detect(RealChatTemplatesTest.resource("templates/" + p.template() + ".jinja")), p.template());
        }
        assertEquals(ChatTemplate.LLAMA3, ChatTemplate.detect(RealChatTemplatesTest.resource("templates/meta-llama-Llama-3.1-8B-Instruct.jinja")));
        assertEquals(ChatTemplate.LLAMA3, ChatTemplate.detect(RealChatTemplatesTest.resource("templates/meta-llama-Llama-3.2-3B-Instruct.jinja")));
    }
}
