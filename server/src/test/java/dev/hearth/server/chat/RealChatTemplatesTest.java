package dev.hearth.server.chat;

import dev.hearth.runtime.json.Json;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real chat templates of the models Hearth runs (Llama 3.x, Qwen 2.5 and 3, DeepSeek-R1-Distill,
 * Mistral Nemo, Phi-3.5, Gemma 2, Command R+ and Hermes 2 Pro tool use, gpt-oss), from
 * llama.cpp's test data, rendered by Hearth for a set of conversations (with tools where the
 * template takes them), against Python Jinja2's output set up as transformers sets it up
 * (resources chat/make_expected.py wrote chat/expected.json). Every case must match exactly.
 */
class RealChatTemplatesTest {
    static String resource(String name) throws IOException {
        try (InputStream in = RealChatTemplatesTest.class.getResourceAsStream("/chat/" + name)) {
            if (in == null) throw new IOException("missing test resource chat/" + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> expected() throws IOException {
        return (Map<String, Object>) Json.parse(resource("expected.json"));
    }

    static Clock clock(Map<String, Object> expected) {
        return Clock.fixed(LocalDateTime.parse((String) expected.get("now")).toInstant(ZoneOffset.UTC), ZoneOffset.UTC);
    }

    /** The template variables of a conversation besides messages and add_generation_prompt. */
    static Map<String, Object> extra(Map<String, Object> conversation) {
        Map<String, Object> extra = new HashMap<>();
        if (conversation.containsKey("tools")) extra.put("tools", conversation.get("tools"));
        if (conversation.get("kwargs") instanceof Map<?, ?> kwargs) {
            for (var e : kwargs.entrySet()) extra.put((String) e.getKey(), e.getValue());
        }
        return extra;
    }

    /** With -Dhearth.chat.dump=DIR, Hearth's renderings are written there too (to diff with expected.json). */
    static void dump(String name, String text) throws IOException {
        String dir = System.getProperty("hearth.chat.dump");
        if (dir != null) {
            java.nio.file.Files.createDirectories(java.nio.file.Path.of(dir));
            java.nio.file.Files.writeString(java.nio.file.Path.of(dir, name + ".txt"), text);
        }
    }

    @SuppressWarnings("unchecked")
    @TestFactory
    List<DynamicNode> matchesPythonJinja2() throws IOException {
        Map<String, Object> expected = expected();
        Map<String, Object> conversations = (Map<String, Object>) expected.get("conversations");
        Map<String, Object> templates = (Map<String, Object>) expected.get("templates");
        List<DynamicNode> nodes = new ArrayList<>();
        for (var t : templates.entrySet()) {
            String name = t.getKey();
            Map<String, Object> spec = (Map<String, Object>) t.getValue();
            String source = resource("templates/" + name + ".jinja");
            JinjaChatTemplate template = new JinjaChatTemplate(source, (String) spec.get("bos_token"), (String) spec.get("eos_token"), clock(expected));
            List<DynamicTest> cases = new ArrayList<>();
            for (var c : ((Map<String, Object>) spec.get("cases")).entrySet()) {
                String what = name + " / " + c.getKey();
                Map<String, Object> conversation = (Map<String, Object>) conversations.get(c.getKey());
                Map<String, Object> want = (Map<String, Object>) c.getValue();
                List<Map<String, Object>> messages = (List<Map<String, Object>>) conversation.get("messages");
                boolean gen = (Boolean) conversation.get("add_generation_prompt");
                cases.add(DynamicTest.dynamicTest(c.getKey(), () -> {
                    if (want.containsKey("error")) {
                        JinjaChatTemplate.Rejected r = assertThrows(JinjaChatTemplate.Rejected.class,
                                () -> template.render(messages, gen, extra(conversation)), what);
                        assertEquals(want.get("error"), r.getMessage(), what);
                    } else {
                        String got = template.render(messages, gen, extra(conversation));
                        dump(name + "." + c.getKey(), got);
                        assertEquals(want.get("output"), got, what);
                    }
                }));
            }
            nodes.add(DynamicContainer.dynamicContainer(name, cases));
        }
        assertTrue(templates.size() >= 12, "expected.json lists the templates");
        return nodes;
    }
}
