package dev.hearth.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.models.ResponseFormatJsonObject;
import com.openai.models.ResponseFormatJsonSchema;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.StructuredChatCompletionCreateParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Structured output through the OpenAI Java SDK on loopback: a json_schema built with the SDK's
 * types (whole and streamed), json_object, a Java class as the response format (the SDK derives
 * the schema and parses the answer into the class), and an unsupported schema as the SDK's
 * BadRequestException.
 */
class StructuredOutputSdkTest {
    static TestModel model;
    static OpenAIClient client;
    static final ObjectMapper mapper = new ObjectMapper();

    /** The answer the SDK parses into; public fields, as the SDK's schema generator reads them. */
    public static class Pet {
        public String name;
        public int age;
        public boolean vaccinated;
        public List<String> toys;
    }

    @BeforeAll
    static void start() throws Exception {
        model = new TestModel(TestModel.stories(), 1, 512, TestModel.options());
        client = OpenAIOkHttpClient.builder().baseUrl(model.base() + "/v1").apiKey("sk-dummy").maxRetries(0)
                .timeout(Duration.ofSeconds(60)).build();
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        if (model != null) model.close();
    }

    static final Map<String, Object> SCHEMA = Map.of("type", "object",
            "properties", Map.of("title", Map.of("type", "string", "maxLength", 20),
                    "stars", Map.of("type", "integer", "minimum", 1, "maximum", 5),
                    "mood", Map.of("enum", List.of("happy", "sad"))),
            "required", List.of("title", "stars", "mood"), "additionalProperties", false);

    static ResponseFormatJsonSchema format() {
        ResponseFormatJsonSchema.JsonSchema.Schema.Builder s = ResponseFormatJsonSchema.JsonSchema.Schema.builder();
        SCHEMA.forEach((k, v) -> s.putAdditionalProperty(k, JsonValue.from(v)));
        return ResponseFormatJsonSchema.builder().jsonSchema(ResponseFormatJsonSchema.JsonSchema.builder().name("review").strict(true).schema(s.build()).build()).build();
    }

    static ChatCompletionCreateParams.Builder ask() {
        return ChatCompletionCreateParams.builder().model("stories260K").addUserMessage("Review the story of Lily and the dog.")
                .maxCompletionTokens(150).temperature(0.6).seed(3);
    }

    static void checkReview(String text) throws Exception {
        var node = mapper.readTree(text);
        assertTrue(node.get("title").isTextual() && node.get("title").asText().length() <= 20, text);
        assertTrue(node.get("stars").isInt() && node.get("stars").asInt() >= 1 && node.get("stars").asInt() <= 5, text);
        assertTrue(List.of("happy", "sad").contains(node.get("mood").asText()), text);
        assertEquals(3, node.size(), text);
        assertTrue(StructuredOutputTest.validate(SCHEMA, text).isEmpty(), text);
    }

    @Test
    void jsonSchemaWholeAndStreamed() throws Exception {
        ChatCompletion c = client.chat().completions().create(ask().responseFormat(format()).build());
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, c.choices().getFirst().finishReason());
        checkReview(c.choices().getFirst().message().content().orElseThrow());

        StringBuilder text = new StringBuilder();
        String finish = null;
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(ask().responseFormat(format()).seed(4).build())) {
            for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) s.stream()::iterator) {
                for (ChatCompletionChunk.Choice ch : chunk.choices()) {
                    ch.delta().content().ifPresent(text::append);
                    if (ch.finishReason().isPresent()) finish = ch.finishReason().get().asString();
                }
            }
        }
        assertEquals("stop", finish);
        checkReview(text.toString());
    }

    @Test
    void jsonObject() throws Exception {
        ChatCompletion c = client.chat().completions().create(ask().responseFormat(ResponseFormatJsonObject.builder().build()).build());
        assertTrue(mapper.readTree(c.choices().getFirst().message().content().orElseThrow()).isObject());
    }

    @Test
    void aJavaClassAsTheFormat() {
        StructuredChatCompletionCreateParams<Pet> params = ask().responseFormat(Pet.class).build();
        Pet pet = client.chat().completions().create(params).choices().getFirst().message().content().orElseThrow();
        assertNotNull(pet.name);
        assertNotNull(pet.toys);
    }

    @Test
    void anUnsupportedSchemaIsABadRequest() {
        ResponseFormatJsonSchema f = ResponseFormatJsonSchema.builder().jsonSchema(ResponseFormatJsonSchema.JsonSchema.builder().name("x")
                .schema(ResponseFormatJsonSchema.JsonSchema.Schema.builder().putAdditionalProperty("type", JsonValue.from("integer"))
                        .putAdditionalProperty("multipleOf", JsonValue.from(7)).build()).build()).build();
        BadRequestException e = assertThrows(BadRequestException.class, () -> client.chat().completions().create(ask().responseFormat(f).build()));
        assertTrue(e.getMessage().contains("multipleOf"), e.getMessage());
    }
}
