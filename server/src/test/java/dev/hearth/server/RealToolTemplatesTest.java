package dev.hearth.server;

import dev.hearth.llama.chat.ChatTemplate;
import dev.hearth.llama.sampling.SamplerParams;
import dev.hearth.runtime.json.Json;
import dev.hearth.server.chat.BuiltinToolPrompt;
import dev.hearth.server.chat.JinjaChatTemplate;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tools and tool history through the real templates: those that take tools (Hermes 2 Pro, Qwen
 * 2.5 and 3, Llama 3.1-3.3, Mistral Nemo, Command R+, gpt-oss) and those that do not (Gemma 2,
 * Phi-3.5, DeepSeek-R1-Distill: the conversation rewritten with the tools in its text). Each
 * conversation is sent as a client sends it (resources chat/expected_tools.json, written by make_expected_tools.py), read by the
 * server's request reader and rendered; the prompt must equal Python Jinja2's, and a template's
 * refusal must be the same. The built-in ChatML format with tools must equal Qwen 3's template.
 */
class RealToolTemplatesTest {
    static String resource(String name) throws IOException {
        try (InputStream in = RealToolTemplatesTest.class.getResourceAsStream("/chat/" + name)) {
            if (in == null) throw new IOException("missing test resource chat/" + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The conversation as the server reads it from a client's request with the tools. */
    static CompletionRequest request(Object messages, Object tools) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("model", "m");
        body.put("messages", messages);
        body.put("tools", tools);
        return CompletionRequest.parse(Json.write(body), true, SamplerParams.DEFAULTS);
    }

    @SuppressWarnings("unchecked")
    @TestFactory
    List<DynamicNode> matchesPythonJinja2() throws IOException {
        Map<String, Object> expected = (Map<String, Object>) Json.parse(resource("expected_tools.json"));
        Map<String, Object> conversations = (Map<String, Object>) expected.get("conversations");
        Map<String, Object> templates = (Map<String, Object>) expected.get("templates");
        Clock clock = Clock.fixed(LocalDateTime.parse((String) expected.get("now")).toInstant(ZoneOffset.UTC), ZoneOffset.UTC);
        List<DynamicNode> nodes = new ArrayList<>();
        for (var t : templates.entrySet()) {
            String name = t.getKey();
            Map<String, Object> spec = (Map<String, Object>) t.getValue();
            JinjaChatTemplate template = new JinjaChatTemplate(resource("templates/" + name + ".jinja"), (String) spec.get("bos_token"),
                    (String) spec.get("eos_token"), clock);
            List<DynamicTest> cases = new ArrayList<>();
            for (var c : ((Map<String, Object>) spec.get("cases")).entrySet()) {
                String what = name + " / " + c.getKey();
                Map<String, Object> want = (Map<String, Object>) c.getValue();
                cases.add(DynamicTest.dynamicTest(c.getKey(), () -> {
                    CompletionRequest r = request(conversations.get(c.getKey()), expected.get("tools"));
                    List<Map<String, Object>> tools = r.tools().tools();
                    if (want.containsKey("error")) {
                        JinjaChatTemplate.Rejected e = assertThrows(JinjaChatTemplate.Rejected.class,
                                () -> BuiltinToolPrompt.renderJinja(template, r.messages(), tools), what);
                        assertEquals(want.get("error"), e.getMessage(), what);
                    } else {
                        String got = BuiltinToolPrompt.renderJinja(template, r.messages(), tools);
                        String dir = System.getProperty("hearth.chat.dump");
                        if (dir != null) {
                            java.nio.file.Files.createDirectories(java.nio.file.Path.of(dir));
                            java.nio.file.Files.writeString(java.nio.file.Path.of(dir, name + "." + c.getKey() + ".txt"), got);
                        }
                        assertEquals(want.get("output"), got, what);
                    }
                }));
            }
            nodes.add(DynamicContainer.dynamicContainer(name, cases));
        }
        assertTrue(templates.size() >= 12, "expected_tools.json lists the templates");
        return nodes;
    }

    @SuppressWarnings("unchecked")
    @TestFactory
    List<DynamicTest> builtinChatMlIsQwen3() throws IOException {
        Map<String, Object> expected = (Map<String, Object>) Json.parse(resource("expected_tools.json"));
        Map<String, Object> conversations = (Map<String, Object>) expected.get("conversations");
        Map<String, Object> qwen3 = (Map<String, Object>) ((Map<String, Object>) expected.get("templates")).get("Qwen-Qwen3-0.6B");
        List<DynamicTest> tests = new ArrayList<>();
        for (var c : ((Map<String, Object>) qwen3.get("cases")).entrySet()) {
            tests.add(DynamicTest.dynamicTest(c.getKey(), () -> {
                CompletionRequest r = request(conversations.get(c.getKey()), expected.get("tools"));
                String got = ChatTemplate.CHATML.render(BuiltinToolPrompt.messages(ChatTemplate.CHATML, r.messages(), r.tools().tools()));
                assertEquals(((Map<String, Object>) c.getValue()).get("output"), got, c.getKey());
            }));
        }
        assertTrue(tests.size() >= 4);
        return tests;
    }
}
