package dev.hearth.server;

import dev.hearth.runtime.json.Json;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.ollama.OllamaChatModel;
import dev.langchain4j.model.ollama.OllamaLanguageModel;
import dev.langchain4j.model.ollama.OllamaModel;
import dev.langchain4j.model.ollama.OllamaModelCard;
import dev.langchain4j.model.ollama.OllamaModels;
import dev.langchain4j.model.ollama.OllamaStreamingChatModel;
import dev.langchain4j.model.ollama.OllamaStreamingLanguageModel;
import dev.langchain4j.model.ollama.RunningOllamaModel;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
 * Ollama's API as LangChain4j's Ollama module sees it, on loopback, over stories260K: generate
 * against llama.cpp's greedy text, chat against the OpenAI route's answer to the same request,
 * both streamed and whole, and the model lists.
 */
class OllamaClientTest {
    static TestModel model;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        model = new TestModel(TestModel.stories(), 1, 256, TestModel.options());
        base = model.base();
    }

    @AfterAll
    static void stop() {
        if (model != null) model.close();
    }

    @Test
    void generateMatchesLlamaCpp() throws Exception {
        for (Map<String, Object> c : OpenAiSdkTest.greedyCases().subList(0, 2)) {
            int n = ((List<?>) c.get("generated")).size();
            OllamaLanguageModel lm = OllamaLanguageModel.builder().baseUrl(base).modelName("stories260K").temperature(0.0).numPredict(n)
                    .timeout(Duration.ofSeconds(60)).maxRetries(0).build();
            Response<String> r = lm.generate((String) c.get("prompt"));
            assertEquals(((String) c.get("text")).strip(), r.content().strip(), "prompt " + c.get("prompt"));
            assertEquals(n, r.tokenUsage().outputTokenCount());
            assertEquals(((List<?>) c.get("prompt_tokens")).size(), r.tokenUsage().inputTokenCount());
        }
    }

    @Test
    void streamedGenerateIsTheSameText() throws Exception {
        Map<String, Object> c = OpenAiSdkTest.greedyCases().getFirst();
        int n = ((List<?>) c.get("generated")).size();
        OllamaStreamingLanguageModel lm = OllamaStreamingLanguageModel.builder().baseUrl(base).modelName("stories260K:latest")
                .temperature(0.0).numPredict(n).timeout(Duration.ofSeconds(60)).build();
        List<String> pieces = new ArrayList<>();
        CompletableFuture<Response<String>> done = new CompletableFuture<>();
        lm.generate((String) c.get("prompt"), new dev.langchain4j.model.StreamingResponseHandler<>() {
            @Override
            public void onNext(String token) {
                pieces.add(token);
            }

            @Override
            public void onComplete(Response<String> response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        Response<String> r = done.get(60, TimeUnit.SECONDS);
        assertTrue(pieces.size() > 5, "streamed in pieces: " + pieces);
        assertEquals(((String) c.get("text")).strip(), String.join("", pieces).strip());
        assertEquals(n, r.tokenUsage().outputTokenCount());
    }

    /** The OpenAI route's greedy chat answer, for comparison. */
    @SuppressWarnings("unchecked")
    static String openAiChat(String base, String modelName, String user, int n) throws Exception {
        String body = Json.write(Map.of("model", modelName, "messages", List.of(Map.of("role", "user", "content", user)), "max_tokens", n,
                "temperature", 0));
        HttpResponse<String> res = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, res.statusCode(), res.body());
        Map<String, Object> m = (Map<String, Object>) Json.parse(res.body());
        return (String) ((Map<String, Object>) ((List<Map<String, Object>>) m.get("choices")).getFirst().get("message")).get("content");
    }

    @Test
    void chatWholeAndStreamedAgreeWithTheOpenAiRoute() throws Exception {
        String expected = openAiChat(base, "stories260K", "Tell me a story about a cat.", 20);
        assertFalse(expected.isBlank());
        OllamaChatModel chat = OllamaChatModel.builder().baseUrl(base).modelName("stories260K").temperature(0.0).numPredict(20)
                .timeout(Duration.ofSeconds(60)).maxRetries(0).build();
        ChatResponse r = chat.chat(ChatRequest.builder().messages(UserMessage.from("Tell me a story about a cat.")).build());
        assertEquals(expected, r.aiMessage().text());
        assertEquals(20, r.metadata().tokenUsage().outputTokenCount());
        assertEquals(FinishReason.LENGTH, r.metadata().finishReason());

        OllamaStreamingChatModel streaming = OllamaStreamingChatModel.builder().baseUrl(base).modelName("stories260K").temperature(0.0)
                .numPredict(20).timeout(Duration.ofSeconds(60)).build();
        List<String> pieces = new ArrayList<>();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        streaming.chat("Tell me a story about a cat.", new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String partial) {
                pieces.add(partial);
            }

            @Override
            public void onCompleteResponse(ChatResponse complete) {
                done.complete(complete);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        ChatResponse s = done.get(60, TimeUnit.SECONDS);
        assertTrue(pieces.size() > 3, "streamed in pieces: " + pieces);
        assertEquals(expected, String.join("", pieces));
        assertEquals(expected, s.aiMessage().text());
        assertEquals(20, s.metadata().tokenUsage().outputTokenCount());
    }

    @Test
    void listsShowsAndRunningModels() {
        OllamaModels models = OllamaModels.builder().baseUrl(base).timeout(Duration.ofSeconds(30)).build();
        List<OllamaModel> all = models.availableModels().content();
        assertEquals(1, all.size());
        OllamaModel m = all.getFirst();
        assertEquals("stories260K", m.getName());
        assertEquals("llama", m.getDetails().getFamily());
        assertEquals("gguf", m.getDetails().getFormat());
        assertEquals("F32", m.getDetails().getQuantizationLevel());
        assertTrue(m.getDetails().getParameterSize().endsWith("K"), m.getDetails().getParameterSize());
        assertEquals(TestModel.stories().toFile().length(), m.getSize());
        assertTrue(m.getDigest().matches("sha256:[0-9a-f]{64}"), m.getDigest());
        List<RunningOllamaModel> running = models.runningModels().content();
        assertEquals(List.of("stories260K"), running.stream().map(RunningOllamaModel::getName).toList());
        assertEquals(0L, running.getFirst().getSizeVram(), "on the reference device nothing is in GPU memory");
        OllamaModelCard card = models.modelCard("stories260K").content();
        assertEquals("llama", card.getDetails().getFamily());
        assertEquals("llama", card.getModelInfo().get("general.architecture"));
    }
}
