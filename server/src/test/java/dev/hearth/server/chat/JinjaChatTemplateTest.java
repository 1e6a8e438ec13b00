package dev.hearth.server.chat;

import dev.hearth.runtime.json.Json;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real chat templates (Llama 2 and 3, ChatML, Qwen 2.5, Mistral, Zephyr, Gemma, a namespace one)
 * rendered by Jinjava against Python Jinja2's output for the same conversations, set up as
 * transformers does (templates/make_expected.py wrote templates/expected.json).
 */
class JinjaChatTemplateTest {
    static String resource(String name) throws IOException {
        try (InputStream in = JinjaChatTemplateTest.class.getResourceAsStream("/templates/" + name)) {
            if (in == null) throw new IOException("missing test resource templates/" + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @SuppressWarnings("unchecked")
    @TestFactory
    List<DynamicTest> matchesPythonJinja2() throws IOException {
        Map<String, Object> expected = (Map<String, Object>) Json.parse(resource("expected.json"));
        List<DynamicTest> tests = new ArrayList<>();
        for (var e : expected.entrySet()) {
            String name = e.getKey();
            List<Map<String, Object>> cases = (List<Map<String, Object>>) e.getValue();
            tests.add(DynamicTest.dynamicTest(name, () -> {
                JinjaChatTemplate t = new JinjaChatTemplate(resource(name + ".jinja"), "<s>", "</s>");
                int i = 0;
                for (Map<String, Object> c : cases) {
                    List<Map<String, Object>> messages = (List<Map<String, Object>>) c.get("messages");
                    boolean gen = (Boolean) c.get("add_generation_prompt");
                    String what = name + " case " + i++;
                    if (c.containsKey("error")) {
                        JinjaChatTemplate.Rejected r = assertThrows(JinjaChatTemplate.Rejected.class, () -> t.render(messages, gen), what);
                        assertEquals(c.get("error"), r.getMessage(), what);
                    } else {
                        assertEquals(c.get("output"), t.render(messages, gen), what);
                    }
                }
            }));
        }
        assertTrue(tests.size() >= 8, "expected.json lists the templates");
        return tests;
    }

    @Test
    void messageTextIsNeverATemplate() {
        JinjaChatTemplate t = new JinjaChatTemplate("{% for m in messages %}{{ m['content'] }}{% endfor %}", "", "");
        String text = "{{ 7*7 }} {% raw %}{{ bos_token }}{% endraw %} {{ raise_exception('x') }}";
        assertEquals(text, t.render(List.of(Map.of("role", "user", "content", text)), true));
    }

    @Test
    void unsupportedTemplateFails() {
        JinjaChatTemplate t = new JinjaChatTemplate("{% for m in messages %}{{ m.content }}{% endfor", "", "");
        assertThrows(JinjaChatTemplate.Failed.class, () -> t.render(List.of(Map.of("role", "user", "content", "hi")), true));
    }

    @Test
    void strftimeNowGivesToday() {
        JinjaChatTemplate t = new JinjaChatTemplate("{{ strftime_now('%Y-%m-%d') }}", "", "");
        assertEquals(java.time.LocalDate.now().toString(), t.render(List.of(), true));
    }
}
