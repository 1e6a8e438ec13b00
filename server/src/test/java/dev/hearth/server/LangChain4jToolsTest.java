package dev.hearth.server;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.output.FinishReason;
import dev.hearth.runtime.json.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tool calling as LangChain4j's OpenAI module uses it, on loopback: a tool specification,
 * ToolChoice.REQUIRED (the call is constrained to the tool's schema), the execution request, its
 * result sent back, and the answer; with the blocking and the streaming model; on stories260K
 * (built-in format, generic JSON calls) and on a tiny qwen3 with Qwen 3's template (Hermes calls).
 */
class LangChain4jToolsTest {
    static TestModel stories;
    static TestModel qwen3;
    static Path dir;

    static final ToolSpecification WEATHER = ToolSpecification.builder().name("get_weather").description("The weather in a city.")
            .parameters(JsonObjectSchema.builder()
                    .addEnumProperty("city", List.of("Paris", "Rome", "Oslo"))
                    .addEnumProperty("unit", List.of("celsius", "fahrenheit"))
                    .addIntegerProperty("days", "How many days ahead")
                    .required("city", "unit", "days").build())
            .build();

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("hearth-lc4j");
        stories = new TestModel(TestModel.stories(), 1, 1024, TestModel.options());
        qwen3 = new TestModel(ToolCallingTest.qwen3WithTemplate(dir), 1, 1024, TestModel.options());
    }

    @AfterAll
    static void stop() throws Exception {
        if (stories != null) stories.close();
        if (qwen3 != null) qwen3.close();
        if (dir != null) try (var s = Files.list(dir)) {
            for (Path p : s.toList()) Files.delete(p);
            Files.delete(dir);
        }
    }

    static List<TestModel> models() {
        return List.of(stories, qwen3);
    }

    static List<ChatMessage> question() {
        return new ArrayList<>(List.of(SystemMessage.from("You can look things up."), UserMessage.from("What's the weather in Rome?")));
    }

    static ChatRequest request(List<ChatMessage> messages, ToolChoice choice) {
        return ChatRequest.builder().messages(messages).toolSpecifications(WEATHER).toolChoice(choice).build();
    }

    @SuppressWarnings("unchecked")
    static void checkCall(AiMessage ai) {
        assertTrue(ai.hasToolExecutionRequests(), "a tool call: " + ai);
        assertEquals(1, ai.toolExecutionRequests().size());
        ToolExecutionRequest r = ai.toolExecutionRequests().getFirst();
        assertEquals("get_weather", r.name());
        assertFalse(r.id() == null || r.id().isBlank());
        Map<String, Object> args = (Map<String, Object>) Json.parse(r.arguments());
        assertTrue(List.of("Paris", "Rome", "Oslo").contains(args.get("city")), r.arguments());
        assertTrue(List.of("celsius", "fahrenheit").contains(args.get("unit")), r.arguments());
        assertTrue(args.get("days") instanceof Long, r.arguments());
        assertEquals(3, args.size(), r.arguments());
    }

    @ParameterizedTest(autoCloseArguments = false) // the models serve every test; @AfterAll closes them
    @MethodSource("models")
    void blockingRoundTrip(TestModel model) {
        OpenAiChatModel chat = OpenAiChatModel.builder().baseUrl(model.base() + "/v1").apiKey("sk-dummy").modelName("any")
                .temperature(0.0).maxTokens(300).timeout(Duration.ofSeconds(120)).maxRetries(0).build();
        List<ChatMessage> messages = question();
        ChatResponse first = chat.chat(request(messages, ToolChoice.REQUIRED));
        assertEquals(FinishReason.TOOL_EXECUTION, first.finishReason());
        checkCall(first.aiMessage());
        messages.add(first.aiMessage());
        messages.add(ToolExecutionResultMessage.from(first.aiMessage().toolExecutionRequests().getFirst(), "18 degrees and sunny"));
        ChatResponse answer = chat.chat(request(messages, ToolChoice.AUTO));
        assertFalse(answer.aiMessage().hasToolExecutionRequests());
        assertFalse(answer.aiMessage().text() == null || answer.aiMessage().text().isEmpty());
        assertTrue(answer.tokenUsage().inputTokenCount() > first.tokenUsage().inputTokenCount(), "the call and result are in the prompt");
    }

    static ChatResponse stream(OpenAiStreamingChatModel chat, ChatRequest req, StringBuilder partial) throws Exception {
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        chat.chat(req, new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String text) {
                partial.append(text);
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        return done.get(120, TimeUnit.SECONDS);
    }

    @ParameterizedTest(autoCloseArguments = false) // the models serve every test; @AfterAll closes them
    @MethodSource("models")
    void streamingRoundTrip(TestModel model) throws Exception {
        OpenAiStreamingChatModel chat = OpenAiStreamingChatModel.builder().baseUrl(model.base() + "/v1").apiKey("sk-dummy").modelName("any")
                .temperature(0.0).maxTokens(300).timeout(Duration.ofSeconds(120)).build();
        List<ChatMessage> messages = question();
        StringBuilder partial = new StringBuilder();
        ChatResponse first = stream(chat, request(messages, ToolChoice.REQUIRED), partial);
        assertEquals(FinishReason.TOOL_EXECUTION, first.finishReason());
        checkCall(first.aiMessage());
        assertFalse(partial.toString().contains("{"), "the call is not streamed as text: " + partial);
        messages.add(first.aiMessage());
        messages.add(ToolExecutionResultMessage.from(first.aiMessage().toolExecutionRequests().getFirst(), "18 degrees and sunny"));
        StringBuilder text = new StringBuilder();
        ChatResponse answer = stream(chat, request(messages, ToolChoice.AUTO), text);
        assertFalse(answer.aiMessage().hasToolExecutionRequests());
        assertFalse(text.isEmpty());
        assertEquals(text.toString(), answer.aiMessage().text());
    }
}
