package dev.hearth.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import dev.hearth.runtime.json.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * response_format on stories260K: 100 json_schema requests with seeded random schemas (chat and
 * completions, streamed and not, greedy and sampled) whose answers must all parse and validate
 * against their schema with networknt's validator (formats asserted); json_object answers; and
 * 400s naming what is wrong or unsupported.
 */
class StructuredOutputTest {
    static TestModel model;
    static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    static final ObjectMapper mapper = new ObjectMapper();
    static final JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
    static final SchemaValidatorsConfig config = SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build();

    @BeforeAll
    static void start() throws Exception {
        model = new TestModel(TestModel.stories(), 1, 512, TestModel.options());
    }

    @AfterAll
    static void stop() {
        if (model != null) model.close();
    }

    static HttpResponse<String> post(String path, Object body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(model.base() + path)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(Json.write(body))).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The answer's text and finish reason, from a whole answer or the events of a stream. */
    @SuppressWarnings("unchecked")
    static String[] answer(HttpResponse<String> res, boolean chat, boolean stream) {
        assertEquals(200, res.statusCode(), res.body());
        if (!stream) {
            Map<String, Object> choice = (Map<String, Object>) ((List<?>) ((Map<String, Object>) Json.parse(res.body())).get("choices")).getFirst();
            String text = chat ? (String) ((Map<String, Object>) choice.get("message")).get("content") : (String) choice.get("text");
            return new String[]{text, (String) choice.get("finish_reason")};
        }
        StringBuilder text = new StringBuilder();
        String finish = null;
        for (String line : res.body().split("\n")) {
            if (!line.startsWith("data: ") || line.equals("data: [DONE]")) continue;
            Map<String, Object> ev = (Map<String, Object>) Json.parse(line.substring(6));
            List<?> choices = (List<?>) ev.get("choices");
            if (choices == null || choices.isEmpty()) continue;
            Map<String, Object> c = (Map<String, Object>) choices.getFirst();
            Object piece = chat ? ((Map<String, Object>) c.get("delta")).get("content") : c.get("text");
            if (piece != null) text.append(piece);
            if (c.get("finish_reason") != null) finish = (String) c.get("finish_reason");
        }
        return new String[]{text.toString(), finish};
    }

    static Map<String, Object> request(boolean chat, boolean stream, Map<String, Object> responseFormat, double temperature, long seed) {
        Map<String, Object> body = new LinkedHashMap<>();
        if (chat) body.put("messages", List.of(Map.of("role", "user", "content", "Tell me about Lily and her dog as JSON.")));
        else body.put("prompt", "Once upon a time");
        body.put("max_tokens", 400);
        body.put("temperature", temperature);
        body.put("seed", seed);
        body.put("stream", stream);
        body.put("response_format", responseFormat);
        return body;
    }

    static Set<ValidationMessage> validate(Map<String, Object> schema, String text) throws Exception {
        JsonSchema s = factory.getSchema(mapper.readTree(Json.write(schema)), config);
        JsonNode node = mapper.readTree(text);
        return s.validate(node);
    }

    @Test
    void hundredRandomSchemasGiveValidAnswers() throws Exception {
        SchemaGenerator gen = new SchemaGenerator(20261203);
        List<String> failures = new ArrayList<>();
        int tokens = 0;
        long t0 = System.nanoTime();
        for (int i = 0; i < 100; i++) {
            Map<String, Object> schema = gen.next();
            boolean chat = i % 2 == 0, stream = i % 4 >= 2;
            double temperature = i % 3 == 0 ? 0 : 0.8;
            Map<String, Object> rf = Map.of("type", "json_schema", "json_schema", Map.of("name", "thing" + i, "schema", schema, "strict", true));
            HttpResponse<String> res = post(chat ? "/v1/chat/completions" : "/v1/completions", request(chat, stream, rf, temperature, i));
            String[] a = answer(res, chat, stream);
            tokens += a[0].length();
            String where = "#" + i + " " + Json.write(schema) + " -> " + a[0];
            if (!"stop".equals(a[1])) {
                failures.add(where + " (finish_reason " + a[1] + ")");
                continue;
            }
            try {
                Set<ValidationMessage> errors = validate(schema, a[0]);
                if (!errors.isEmpty()) failures.add(where + " " + errors);
            } catch (Exception e) {
                failures.add(where + " does not parse: " + e.getMessage());
            }
        }
        System.out.printf("100 json_schema answers, %d characters, %.1f s%n", tokens, (System.nanoTime() - t0) / 1e9);
        assertTrue(failures.isEmpty(), failures.size() + " failures:\n" + String.join("\n", failures));
    }

    @Test
    void concurrentRequestsOnTwoSlots() throws Exception {
        try (TestModel two = new TestModel(TestModel.stories(), 2, 512, TestModel.options())) {
            List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                int client = c;
                threads.add(Thread.ofPlatform().start(() -> {
                    SchemaGenerator gen = new SchemaGenerator(1000 + client);
                    for (int i = 0; i < 5; i++) {
                        Map<String, Object> schema = gen.next();
                        boolean stream = (client + i) % 2 == 0;
                        try {
                            HttpResponse<String> res = http.send(HttpRequest.newBuilder(URI.create(two.base() + "/v1/chat/completions")).timeout(Duration.ofSeconds(60))
                                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(Json.write(
                                            request(true, stream, Map.of("type", "json_schema", "json_schema", Map.of("name", "t", "schema", schema)), 0.8, i)))).build(),
                                    HttpResponse.BodyHandlers.ofString());
                            String[] a = answer(res, true, stream);
                            Set<ValidationMessage> errors = validate(schema, a[0]);
                            if (!"stop".equals(a[1]) || !errors.isEmpty()) failures.add(a[1] + " " + a[0] + " " + errors);
                        } catch (Exception | AssertionError e) {
                            failures.add(e.toString());
                        }
                    }
                }));
            }
            for (Thread t : threads) t.join();
            assertTrue(failures.isEmpty(), String.join("\n", failures));
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void jsonObjectAnswersAreObjects() throws Exception {
        // stories260K writes stories into keys and values and does not close the object by itself:
        // near max_tokens the constraint closes it, and the answer is a whole object with "length"
        for (int i = 0; i < 6; i++) {
            boolean chat = i % 2 == 0, stream = i % 4 >= 2;
            Map<String, Object> body = request(chat, stream, Map.of("type", "json_object"), i < 3 ? 0 : 0.7, i);
            body.put("max_tokens", 60 + 40 * i);
            String[] a = answer(post(chat ? "/v1/chat/completions" : "/v1/completions", body), chat, stream);
            assertEquals("length", a[1], a[0]);
            assertTrue(mapper.readTree(a[0]).isObject(), a[0]);
        }
        // llama.cpp's top-level json_schema
        Map<String, Object> body = request(false, false, null, 0, 1);
        body.remove("response_format");
        body.put("json_schema", Map.of("type", "array", "items", Map.of("type", "integer"), "minItems", 2, "maxItems", 2));
        String[] a = answer(post("/v1/completions", body), false, false);
        assertEquals(2, mapper.readTree(a[0]).size(), a[0]);
        // text is the default and leaves the answer alone
        String[] text = answer(post("/v1/completions", request(false, false, Map.of("type", "text"), 0, 1)), false, false);
        assertEquals("length", text[1]);
    }

    @Test
    @SuppressWarnings("unchecked")
    void badFormatsAre400sNamingTheProblem() throws Exception {
        Object[][] cases = {
                {Map.of("type", "xml"), "'xml'"},
                {Map.of("json_schema", Map.of()), "response_format.type"},
                {Map.of("type", "json_schema"), "response_format.json_schema"},
                {Map.of("type", "json_schema", "json_schema", Map.of("name", "x", "schema", "nope")), "response_format.json_schema.schema"},
                {Map.of("type", "json_schema", "json_schema", Map.of("name", "x", "schema", Map.of("type", "object",
                        "properties", Map.of("n", Map.of("type", "integer", "multipleOf", 3)), "patternProperties", Map.of()))), "multipleOf"},
                {Map.of("type", "json_schema", "json_schema", Map.of("name", "x", "schema", Map.of("type", "string", "pattern", "(?=x)y"))), "lookaround"},
                {"json", "response_format"},
        };
        for (Object[] c : cases) {
            Map<String, Object> body = request(true, false, null, 0, 1);
            body.put("response_format", c[0]);
            HttpResponse<String> res = post("/v1/chat/completions", body);
            assertEquals(400, res.statusCode(), res.body());
            Map<String, Object> err = (Map<String, Object>) ((Map<String, Object>) Json.parse(res.body())).get("error");
            String message = (String) err.get("message");
            assertTrue(message.contains((String) c[1]) || String.valueOf(err.get("param")).equals(c[1]), c[1] + " in " + res.body());
            assertTrue(String.valueOf(err.get("param")).startsWith("response_format"), res.body());
            assertTrue(!message.contains("\n") && !message.contains("Exception"), message);
            if (c[1].equals("multipleOf")) assertTrue(message.contains("patternProperties"), message);
        }
    }
}
