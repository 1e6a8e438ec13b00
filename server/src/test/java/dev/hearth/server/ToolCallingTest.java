package dev.hearth.server;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessage;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionNamedToolChoice;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import dev.hearth.runtime.gguf.GgufFile;
import dev.hearth.runtime.gguf.GgufValue;
import dev.hearth.runtime.gguf.GgufWriter;
import dev.hearth.runtime.json.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tool calling as the OpenAI Java SDK uses it, on loopback: tools, a forced call (tool_choice
 * "required" or a named function: constrained decoding makes even a tiny model write a valid
 * call), the call answered in message.tool_calls or streamed as delta.tool_calls (gathered by the
 * SDK's own accumulator), the result sent back as a role "tool" message, and the answer after
 * it. On stories260K (no template: the built-in plain format, generic JSON calls) and on a tiny
 * random-weight qwen3 model served with Qwen 3's template (Hermes {@code <tool_call>} calls).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ToolCallingTest {
    TestModel stories;
    TestModel qwen3;
    OpenAIClient storiesClient;
    OpenAIClient qwen3Client;
    Path dir;

    static OpenAIClient client(TestModel m) {
        return OpenAIOkHttpClient.builder().baseUrl(m.base() + "/v1").apiKey("sk-dummy").maxRetries(0).timeout(Duration.ofSeconds(120)).build();
    }

    /** The tiny qwen3 model with Qwen 3's chat template (its file has none). */
    static Path qwen3WithTemplate(Path dir) throws Exception {
        String template = Files.readString(Path.of("src/test/resources/chat/templates/Qwen-Qwen3-0.6B.jinja"));
        Path out = dir.resolve("qwen3-tiny-chat.gguf");
        try (GgufFile f = GgufFile.open(TestModel.models().resolve("arch/qwen3-tiny-f32.gguf"))) {
            GgufWriter.copyOf(f).put("tokenizer.chat_template", GgufValue.of(template)).write(out);
        }
        return out;
    }

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("hearth-tools");
        stories = new TestModel(TestModel.stories(), 1, 1024, TestModel.options());
        qwen3 = new TestModel(qwen3WithTemplate(dir), 1, 1024, TestModel.options());
        storiesClient = client(stories);
        qwen3Client = client(qwen3);
    }

    @AfterAll
    void stop() throws Exception {
        if (storiesClient != null) storiesClient.close();
        if (qwen3Client != null) qwen3Client.close();
        if (stories != null) stories.close();
        if (qwen3 != null) qwen3.close();
        if (dir != null) try (var s = Files.list(dir)) {
            for (Path p : s.toList()) Files.delete(p);
            Files.delete(dir);
        }
    }

    static final Map<String, Object> WEATHER = Map.of("type", "object",
            "properties", Map.of("city", Map.of("type", "string", "maxLength", 12),
                    "unit", Map.of("type", "string", "enum", List.of("celsius", "fahrenheit"))),
            "required", List.of("city", "unit"), "additionalProperties", false);
    static final Map<String, Object> SEARCH = Map.of("type", "object",
            "properties", Map.of("query", Map.of("type", "string", "maxLength", 16), "count", Map.of("type", "integer", "minimum", 1, "maximum", 5)),
            "required", List.of("query", "count"));

    static FunctionDefinition function(String name, String description, Map<String, Object> schema) {
        FunctionParameters.Builder p = FunctionParameters.builder();
        for (var e : schema.entrySet()) p.putAdditionalProperty(e.getKey(), JsonValue.from(e.getValue()));
        return FunctionDefinition.builder().name(name).description(description).parameters(p.build()).build();
    }

    static ChatCompletionCreateParams.Builder request(String question) {
        return ChatCompletionCreateParams.builder().model("any").addSystemMessage("You can look things up.").addUserMessage(question)
                .addFunctionTool(function("get_weather", "The weather in a city.", WEATHER))
                .addFunctionTool(function("search", "Search the web.", SEARCH))
                .temperature(0.0).maxCompletionTokens(120);
    }

    /** The arguments text is a JSON object valid for the tool's schema (the properties, required ones, bounds, enums). */
    @SuppressWarnings("unchecked")
    static Map<String, Object> checkArguments(String name, String arguments) {
        Map<String, Object> schema = name.equals("get_weather") ? WEATHER : SEARCH;
        Object parsed = Json.parse(arguments);
        assertTrue(parsed instanceof Map<?, ?>, "arguments are a JSON object: " + arguments);
        Map<String, Object> args = (Map<String, Object>) parsed;
        Map<String, Object> props = (Map<String, Object>) schema.get("properties");
        for (Object req : (List<?>) schema.get("required")) assertTrue(args.containsKey(req), req + " is required: " + arguments);
        for (var e : args.entrySet()) {
            Map<String, Object> p = (Map<String, Object>) props.get(e.getKey());
            assertNotNull(p, "no property " + e.getKey() + " in the schema: " + arguments);
            switch ((String) p.get("type")) {
                case "string" -> {
                    assertTrue(e.getValue() instanceof String, arguments);
                    if (p.containsKey("maxLength")) assertTrue(((String) e.getValue()).length() <= ((Number) p.get("maxLength")).intValue(), arguments);
                    if (p.containsKey("enum")) assertTrue(((List<?>) p.get("enum")).contains(e.getValue()), arguments);
                }
                case "integer" -> {
                    assertTrue(e.getValue() instanceof Long, arguments);
                    long v = (Long) e.getValue();
                    assertTrue(v >= ((Number) p.get("minimum")).longValue() && v <= ((Number) p.get("maximum")).longValue(), arguments);
                }
                default -> throw new AssertionError("unexpected type in the test schema");
            }
        }
        return args;
    }

    /** A forced call, then its result sent back, then the answer: whole or streamed, named or "required". */
    void roundTrip(OpenAIClient client, boolean streamed, ChatCompletionToolChoiceOption choice, String wantName) {
        ChatCompletionCreateParams first = request("What's the weather in Paris?").toolChoice(choice).build();
        ChatCompletion c;
        if (streamed) {
            ChatCompletionAccumulator acc = ChatCompletionAccumulator.create();
            List<ChatCompletionChunk.Choice.Delta.ToolCall> deltas = new ArrayList<>();
            StringBuilder content = new StringBuilder();
            // the SDK's accumulator takes usage only from the separate last chunk that include_usage asks for
            ChatCompletionCreateParams withUsage = first.toBuilder()
                    .streamOptions(com.openai.models.chat.completions.ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
            try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(withUsage)) {
                s.stream().forEach(chunk -> {
                    acc.accumulate(chunk);
                    for (var ch : chunk.choices()) {
                        ch.delta().toolCalls().ifPresent(deltas::addAll);
                        ch.delta().content().ifPresent(content::append);
                    }
                });
            }
            assertFalse(deltas.isEmpty(), "tool calls come as delta.tool_calls");
            var head = deltas.getFirst();
            assertEquals(0, head.index());
            assertTrue(head.id().isPresent() && head.function().flatMap(f -> f.name()).isPresent(), "the first delta has id and name: " + head);
            assertEquals("", head.function().flatMap(f -> f.arguments()).orElseThrow(), "then the arguments");
            assertFalse(content.toString().contains("{") || content.toString().contains("<tool_call>"), "the call is not sent as text: " + content);
            c = acc.chatCompletion();
        } else {
            c = client.chat().completions().create(first);
        }
        var ch = c.choices().getFirst();
        assertEquals("tool_calls", ch.finishReason().asString());
        ChatCompletionMessage msg = ch.message();
        List<com.openai.models.chat.completions.ChatCompletionMessageToolCall> calls = msg.toolCalls().orElseThrow();
        assertEquals(1, calls.size(), "one forced call");
        ChatCompletionMessageFunctionToolCall call = calls.getFirst().asFunction();
        if (wantName != null) assertEquals(wantName, call.function().name());
        assertTrue(List.of("get_weather", "search").contains(call.function().name()));
        assertTrue(call.id().length() >= 9, call.id());
        checkArguments(call.function().name(), call.function().arguments());
        long firstPrompt = c.usage().map(u -> u.promptTokens()).orElse(0L);

        ChatCompletionCreateParams second = first.toBuilder().addMessage(msg)
                .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id()).content("18 degrees and sunny").build())
                .toolChoice(ChatCompletionToolChoiceOption.Auto.AUTO).maxCompletionTokens(24).build();
        ChatCompletion answer = client.chat().completions().create(second);
        var a = answer.choices().getFirst();
        assertTrue(a.message().toolCalls().map(List::isEmpty).orElse(true), "an answer, not another call");
        assertFalse(a.message().content().orElse("").isEmpty(), "the answer has text");
        assertTrue(List.of("stop", "length").contains(a.finishReason().asString()));
        if (!streamed) {
            long secondPrompt = answer.usage().orElseThrow().promptTokens();
            assertTrue(secondPrompt > firstPrompt + 5, "the call and its result are in the prompt: " + firstPrompt + " -> " + secondPrompt);
        }
    }

    static ChatCompletionToolChoiceOption named(String name) {
        return ChatCompletionToolChoiceOption.ofNamedToolChoice(ChatCompletionNamedToolChoice.builder()
                .function(ChatCompletionNamedToolChoice.Function.builder().name(name).build()).build());
    }

    static final ChatCompletionToolChoiceOption REQUIRED = ChatCompletionToolChoiceOption.ofAuto(ChatCompletionToolChoiceOption.Auto.REQUIRED);

    @Test
    void storiesRequiredWhole() {
        roundTrip(storiesClient, false, REQUIRED, null);
    }

    @Test
    void storiesNamedStreamed() {
        roundTrip(storiesClient, true, named("search"), "search");
    }

    @Test
    void qwen3RequiredWholeAndStreamed() {
        assertEquals("jinja", qwen3.server.chatFormat());
        roundTrip(qwen3Client, false, REQUIRED, null);
        roundTrip(qwen3Client, true, REQUIRED, null);
    }

    @Test
    void qwen3NamedWhole() {
        roundTrip(qwen3Client, false, named("get_weather"), "get_weather");
    }

    @Test
    void autoAndNoneGiveText() {
        for (var choice : List.of(ChatCompletionToolChoiceOption.Auto.AUTO, ChatCompletionToolChoiceOption.Auto.NONE)) {
            ChatCompletion c = storiesClient.chat().completions().create(request("Once upon a time").toolChoice(choice).maxCompletionTokens(16).build());
            var ch = c.choices().getFirst();
            assertTrue(ch.message().toolCalls().map(List::isEmpty).orElse(true), choice.toString());
            assertFalse(ch.message().content().orElse("").isEmpty());
        }
    }

    @Test
    void autoStreamedTextIsTheWholeText() {
        ChatCompletionCreateParams p = request("Once upon a time").toolChoice(ChatCompletionToolChoiceOption.Auto.AUTO).maxCompletionTokens(24).build();
        String whole = storiesClient.chat().completions().create(p).choices().getFirst().message().content().orElseThrow();
        StringBuilder streamed = new StringBuilder();
        List<String> finish = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> s = storiesClient.chat().completions().createStreaming(p)) {
            s.stream().forEach(chunk -> chunk.choices().forEach(ch -> {
                ch.delta().content().ifPresent(streamed::append);
                assertTrue(ch.delta().toolCalls().map(List::isEmpty).orElse(true));
                ch.finishReason().ifPresent(f -> finish.add(f.asString()));
            }));
        }
        assertEquals(whole, streamed.toString(), "text held back while it might have been a call is sent in the end");
        assertEquals(1, finish.size());
        assertTrue(List.of("stop", "length").contains(finish.getFirst()));
    }

    @Test
    void badToolRequestsAre400s() {
        BadRequestException e = assertThrows(BadRequestException.class,
                () -> storiesClient.chat().completions().create(request("Hi").toolChoice(named("launch_rocket")).build()));
        assertTrue(e.getMessage().contains("launch_rocket"), e.getMessage());
        e = assertThrows(BadRequestException.class, () -> storiesClient.chat().completions().create(ChatCompletionCreateParams.builder()
                .model("any").addUserMessage("Hi").toolChoice(REQUIRED).build()));
        assertTrue(e.getMessage().contains("only allowed when 'tools' are specified"), e.getMessage());
        Map<String, Object> odd = Map.of("type", "object", "properties", Map.of("n", Map.of("type", "integer", "multipleOf", 7)));
        e = assertThrows(BadRequestException.class, () -> storiesClient.chat().completions().create(ChatCompletionCreateParams.builder()
                .model("any").addUserMessage("Hi").addFunctionTool(function("odd", "Odd.", odd)).toolChoice(REQUIRED).build()));
        assertTrue(e.getMessage().contains("multipleOf"), e.getMessage());
    }
}
