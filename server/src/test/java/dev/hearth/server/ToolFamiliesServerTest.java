package dev.hearth.server;

import dev.hearth.runtime.gguf.GgufFile;
import dev.hearth.runtime.gguf.GgufValue;
import dev.hearth.runtime.gguf.GgufWriter;
import dev.hearth.runtime.json.Json;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A forced call in each template family's own format, end to end: stories260K served with a
 * real tool template (Hermes 2 Pro, Qwen 2.5, Llama 3.1, Mistral Nemo, Command R+, gpt-oss),
 * tool_choice "required" and a named function; the constrained output (the family's opening text,
 * the JSON, its closing text) is read back by that family's parser into message.tool_calls, whole
 * and streamed.
 */
class ToolFamiliesServerTest {
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final String TOOLS = "[{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"The weather in a city.\","
            + " \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", \"description\": \"The city\", \"enum\": [\"Paris\", \"Rome\"]},"
            + " \"days\": {\"type\": \"integer\", \"description\": \"Days ahead\", \"minimum\": 0, \"maximum\": 9}}, \"required\": [\"city\", \"days\"]}}},"
            + " {\"type\": \"function\", \"function\": {\"name\": \"get_time\", \"description\": \"The time now.\","
            + " \"parameters\": {\"type\": \"object\", \"properties\": {}}}}]";

    @TempDir
    Path dir;

    Path withTemplate(String name) throws Exception {
        String template = Files.readString(Path.of("src/test/resources/chat/templates/" + name + ".jinja"));
        Path out = dir.resolve(name + ".gguf");
        try (GgufFile f = GgufFile.open(TestModel.stories())) {
            GgufWriter.copyOf(f).put("tokenizer.chat_template", GgufValue.of(template)).write(out);
        }
        return out;
    }

    static HttpResponse<String> post(TestModel m, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(m.base() + "/v1/chat/completions")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @SuppressWarnings("unchecked")
    static void checkCall(Map<String, Object> call) {
        Map<String, Object> fn = (Map<String, Object>) call.get("function");
        assertTrue(List.of("get_weather", "get_time").contains(fn.get("name")), call.toString());
        Map<String, Object> args = (Map<String, Object>) Json.parse((String) fn.get("arguments"));
        if (fn.get("name").equals("get_weather")) {
            assertTrue(List.of("Paris", "Rome").contains(args.get("city")), call.toString());
            long days = (Long) args.get("days");
            assertTrue(days >= 0 && days <= 9, call.toString());
        } else {
            assertEquals(Map.of(), args);
        }
        assertFalse(((String) call.get("id")).isEmpty());
    }

    @SuppressWarnings("unchecked")
    @TestFactory
    List<DynamicTest> forcedCallInEachFamily() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : List.of("NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use", "Qwen-Qwen2.5-7B-Instruct", "meta-llama-Llama-3.1-8B-Instruct",
                "mistralai-Mistral-Nemo-Instruct-2407", "CohereForAI-c4ai-command-r-plus-tool_use", "openai-gpt-oss-120b")) {
            tests.add(DynamicTest.dynamicTest(name, () -> {
                try (TestModel m = new TestModel(withTemplate(name), 1, 4096, TestModel.options())) {
                    String body = "{\"messages\": [{\"role\": \"user\", \"content\": \"Weather in Rome?\"}], \"tools\": " + TOOLS
                            + ", \"tool_choice\": \"required\", \"temperature\": 0, \"max_tokens\": 200";
                    HttpResponse<String> r = post(m, body + "}");
                    assertEquals(200, r.statusCode(), r.body());
                    Map<String, Object> choice = (Map<String, Object>) ((List<?>) ((Map<String, Object>) Json.parse(r.body())).get("choices")).getFirst();
                    assertEquals("tool_calls", choice.get("finish_reason"), r.body());
                    Map<String, Object> msg = (Map<String, Object>) choice.get("message");
                    List<Map<String, Object>> calls = (List<Map<String, Object>>) msg.get("tool_calls");
                    assertEquals(1, calls.size(), r.body());
                    checkCall(calls.getFirst());
                    if (name.startsWith("mistralai")) assertTrue(((String) calls.getFirst().get("id")).matches("[a-zA-Z0-9]{9}"), "Nemo's ids");

                    HttpResponse<String> s = post(m, body + ", \"stream\": true}");
                    assertEquals(200, s.statusCode(), s.body());
                    String streamed = s.body();
                    assertTrue(streamed.contains("\"finish_reason\":\"tool_calls\""), streamed);
                    StringBuilder args = new StringBuilder();
                    String id = null;
                    String fname = null;
                    for (String line : streamed.split("\n")) {
                        if (!line.startsWith("data: {")) continue;
                        Map<String, Object> chunk = (Map<String, Object>) Json.parse(line.substring(6));
                        for (Object c : (List<?>) chunk.get("choices")) {
                            Map<String, Object> delta = (Map<String, Object>) ((Map<String, Object>) c).get("delta");
                            assertFalse(delta.get("content") instanceof String t && !t.isEmpty(), "no text besides the call: " + line);
                            if (delta.get("tool_calls") instanceof List<?> tcs) {
                                for (Object tc : tcs) {
                                    Map<String, Object> t = (Map<String, Object>) tc;
                                    assertEquals(0L, t.get("index"));
                                    if (t.get("id") != null) id = (String) t.get("id");
                                    Map<String, Object> fn = (Map<String, Object>) t.get("function");
                                    if (fn.get("name") != null) fname = (String) fn.get("name");
                                    if (fn.get("arguments") != null) args.append(fn.get("arguments"));
                                }
                            }
                        }
                    }
                    checkCall(Map.of("id", id, "type", "function", "function", Map.of("name", fname, "arguments", args.toString())));

                    // a named function (gpt-oss names it before the JSON)
                    HttpResponse<String> n = post(m, body.replace("\"tool_choice\": \"required\"", "\"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"get_weather\"}}") + "}");
                    assertEquals(200, n.statusCode(), n.body());
                    Map<String, Object> nc = (Map<String, Object>) ((List<?>) ((Map<String, Object>) Json.parse(n.body())).get("choices")).getFirst();
                    List<Map<String, Object>> named = (List<Map<String, Object>>) ((Map<String, Object>) nc.get("message")).get("tool_calls");
                    assertTrue(named != null && named.size() == 1, n.body());
                    assertEquals("get_weather", ((Map<?, ?>) named.getFirst().get("function")).get("name"), n.body());
                    checkCall(named.getFirst());
                }
            }));
        }
        return tests;
    }
}
