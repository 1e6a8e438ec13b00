package dev.hearth.server;

import dev.hearth.runtime.gguf.GgufFile;
import dev.hearth.runtime.gguf.GgufValue;
import dev.hearth.runtime.gguf.GgufWriter;
import dev.hearth.runtime.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The chat template from the GGUF file, in the server: stories260K copies with a
 * tokenizer.chat_template added. A chat request must give the same greedy text as a completion
 * of the prompt the template makes by hand; a template that raises gives a 400; one Jinjava
 * cannot render falls back to the built-in format, said once on the log.
 */
class ChatTemplateServerTest {
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    Path withTemplate(String template) {
        Path out = dir.resolve("stories-" + Integer.toHexString(template.hashCode()) + ".gguf");
        try (GgufFile f = GgufFile.open(TestModel.stories())) {
            GgufWriter.copyOf(f).put("tokenizer.chat_template", GgufValue.of(template)).write(out);
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> post(TestModel m, String path, String body, int status) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(m.base() + path)).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(status, r.statusCode(), r.body());
        return (Map<String, Object>) Json.parse(r.body());
    }

    @SuppressWarnings("unchecked")
    static Object choice(Map<String, Object> body, String field) {
        Map<String, Object> c = (Map<String, Object>) ((List<?>) body.get("choices")).getFirst();
        Object v = c.get(field);
        return v instanceof Map<?, ?> msg ? msg.get("content") : v;
    }

    static long promptTokens(Map<String, Object> body) {
        return ((Number) ((Map<?, ?>) body.get("usage")).get("prompt_tokens")).longValue();
    }

    @Test
    void chatUsesTheModelsTemplate() throws Exception {
        String template = "{{ bos_token }}{% for m in messages %}{{ m['role'] | upper }}: {{ m['content'] | trim }}\n{% endfor %}"
                + "{% if add_generation_prompt %}ASSISTANT:{% endif %}";
        try (TestModel m = new TestModel(withTemplate(template), 1, 256, TestModel.options())) {
            assertEquals("jinja", m.server.chatFormat());
            Map<String, Object> chat = post(m, "/v1/chat/completions", "{\"messages\": [{\"role\": \"system\", \"content\": \"Be kind.\"},"
                    + " {\"role\": \"user\", \"content\": \" Once upon a time \"}], \"max_tokens\": 20, \"temperature\": 0}", 200);
            String byHand = "SYSTEM: Be kind.\nUSER: Once upon a time\nASSISTANT:"; // BOS comes from the tokenizer, once
            Map<String, Object> completion = post(m, "/v1/completions", "{\"prompt\": " + Json.quote(byHand) + ", \"max_tokens\": 20, \"temperature\": 0}", 200);
            assertEquals(choice(completion, "text"), choice(chat, "message"));
            assertEquals(promptTokens(completion), promptTokens(chat));
            assertEquals(m.tokenizer.encode(byHand, true, true).length, promptTokens(chat));
        }
    }

    @Test
    void templateThatRaisesIsA400() throws Exception {
        String template = "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
                + "{{ m['content'] }}{% endfor %}";
        try (TestModel m = new TestModel(withTemplate(template), 1, 256, TestModel.options())) {
            Map<String, Object> e = post(m, "/v1/chat/completions", "{\"messages\": [{\"role\": \"system\", \"content\": \"x\"}]}", 400);
            assertTrue(((Map<?, ?>) e.get("error")).get("message").toString().contains("System role not supported"), e.toString());
            post(m, "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_tokens\": 2}", 200);
        }
    }

    @Test
    void templateJinjavaCannotRenderFallsBackToBuiltIn() throws Exception {
        // a ChatML template with a syntax error: the built-in ChatML format takes over
        String template = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n'}}{% endfor";
        ConcurrencyTest.Log log = new ConcurrencyTest.Log();
        try (TestModel m = new TestModel(withTemplate(template), 1, 256, TestModel.options().withLog(log.out))) {
            for (int i = 0; i < 2; i++) {
                Map<String, Object> chat = post(m, "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"max_tokens\": 2}", 200);
                String chatml = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n";
                assertEquals(m.tokenizer.encode(chatml, true, true).length, promptTokens(chat));
            }
            assertEquals("built-in chatml", m.server.chatFormat());
            String text = log.text();
            assertEquals(1, text.split("could not be rendered", -1).length - 1, "said once: " + text);
        }
    }
}
