package dev.hearth.server;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.completions.CompletionUsage;
import com.openai.models.models.Model;
import dev.hearth.llama.chat.ChatTemplate;
import dev.hearth.runtime.json.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server as the OpenAI Java SDK sees it, on loopback: completions and chat, whole and
 * streamed, against llama.cpp's greedy text for stories260K; usage counts, seeds, stop strings,
 * the model list and an error the SDK turns into its exception.
 */
class OpenAiSdkTest {
    static TestModel model;
    static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        model = new TestModel(TestModel.stories(), 1, 256, TestModel.options());
        client = OpenAIOkHttpClient.builder().baseUrl(model.base() + "/v1").apiKey("sk-dummy").maxRetries(0)
                .timeout(Duration.ofSeconds(60)).build();
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        if (model != null) model.close();
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> greedyCases() throws Exception {
        Map<String, Object> g = (Map<String, Object>) Json.parse(Files.readString(TestModel.models().resolve("stories260K.greedy.json")));
        return (List<Map<String, Object>>) ((Map<String, Object>) g.get("models")).get("stories260K-f32.gguf");
    }

    static CompletionCreateParams greedy(String prompt, int n) {
        return CompletionCreateParams.builder().model("stories260K").prompt(prompt).maxTokens(n).temperature(0.0).build();
    }

    @Test
    void greedyCompletionMatchesLlamaCpp() throws Exception {
        for (Map<String, Object> c : greedyCases().subList(0, 2)) {
            int n = ((List<?>) c.get("generated")).size();
            Completion r = client.completions().create(greedy((String) c.get("prompt"), n));
            assertEquals(((String) c.get("text")).strip(), r.choices().getFirst().text().strip(), "prompt " + c.get("prompt"));
            assertEquals("length", r.choices().getFirst().finishReason().asString());
            CompletionUsage u = r.usage().orElseThrow();
            assertEquals(((List<?>) c.get("prompt_tokens")).size(), u.promptTokens());
            assertEquals(n, u.completionTokens());
            assertEquals(u.promptTokens() + u.completionTokens(), u.totalTokens());
            assertEquals("stories260K", r.model());
        }
    }

    @Test
    void streamedCompletionIsTheSameText() throws Exception {
        Map<String, Object> c = greedyCases().getFirst();
        StringBuilder text = new StringBuilder();
        List<String> finish = new ArrayList<>();
        int chunks = 0;
        try (StreamResponse<Completion> s = client.completions().createStreaming(greedy((String) c.get("prompt"), 40))) {
            for (Completion chunk : (Iterable<Completion>) s.stream()::iterator) {
                chunks++;
                for (var ch : chunk.choices()) {
                    text.append(ch.text());
                    ch._finishReason().asKnown().ifPresent(f -> finish.add(f.asString()));
                }
            }
        }
        assertEquals(((String) c.get("text")).strip(), text.toString().strip());
        assertEquals(List.of("length"), finish);
        assertTrue(chunks > 10, "text comes in pieces, not at once: " + chunks + " chunks");
    }

    @Test
    void chatWholeAndStreamedAgree() {
        ChatCompletionCreateParams p = ChatCompletionCreateParams.builder().model("stories260K")
                .addSystemMessage("Tell a story.").addUserMessage("Once upon a time")
                .maxCompletionTokens(24).temperature(0.0)
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
        ChatCompletion whole = client.chat().completions().create(p.toBuilder().streamOptions(java.util.Optional.empty()).build());
        String content = whole.choices().getFirst().message().content().orElseThrow();
        assertFalse(content.isBlank());
        assertEquals("chat.completion", whole._object_().asString().orElseThrow());
        // stories260K has no chat template: the built-in plain format makes the prompt
        String promptText = ChatTemplate.PLAIN.render(List.of(new ChatTemplate.Message("system", "Tell a story."),
                new ChatTemplate.Message("user", "Once upon a time")));
        var u = whole.usage().orElseThrow();
        assertEquals(model.tokenizer.encode(promptText, true, true).length, u.promptTokens());
        assertTrue(u.completionTokens() >= 1 && u.completionTokens() <= 24, "completion tokens " + u.completionTokens());

        StringBuilder streamed = new StringBuilder();
        List<String> roles = new ArrayList<>();
        List<com.openai.models.completions.CompletionUsage> usages = new ArrayList<>();
        String finish = null;
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(p)) {
            for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) s.stream()::iterator) {
                chunk.usage().ifPresent(usages::add);
                for (var ch : chunk.choices()) {
                    ch.delta().content().ifPresent(streamed::append);
                    ch.delta().role().ifPresent(r -> roles.add(r.asString()));
                    if (ch.finishReason().isPresent()) finish = ch.finishReason().get().asString();
                }
            }
        }
        assertEquals(content, streamed.toString());
        assertEquals(List.of("assistant"), roles);
        assertEquals(whole.choices().getFirst().finishReason().asString(), finish);
        assertEquals(1, usages.size(), "one usage chunk with include_usage");
        assertEquals(u.promptTokens(), usages.getFirst().promptTokens());
        assertEquals(u.completionTokens(), usages.getFirst().completionTokens());
    }

    @Test
    void sameSeedSameText() {
        CompletionCreateParams p = CompletionCreateParams.builder().model("stories260K").prompt("The little dog")
                .maxTokens(30).temperature(1.0).topP(1.0).seed(42).build();
        String a = client.completions().create(p).choices().getFirst().text();
        String b = client.completions().create(p).choices().getFirst().text();
        assertEquals(a, b);
        Set<String> others = new HashSet<>();
        for (long seed = 1; seed <= 3; seed++) others.add(client.completions().create(p.toBuilder().seed(seed).build()).choices().getFirst().text());
        others.add(a);
        assertTrue(others.size() > 1, "different seeds give different samples");
    }

    @Test
    void stopStringEndsTheTextBeforeIt() throws Exception {
        String full = ((String) greedyCases().getFirst().get("text"));
        int at = full.indexOf("Lily");
        Completion r = client.completions().create(greedy("Once upon a time", 40).toBuilder().stop("Lily").build());
        assertEquals(full.substring(0, at).strip(), r.choices().getFirst().text().strip());
        assertFalse(r.choices().getFirst().text().contains("Lil"));
        assertEquals("stop", r.choices().getFirst().finishReason().asString());
        // streamed: no part of the stop string is ever sent
        StringBuilder text = new StringBuilder();
        try (StreamResponse<Completion> s = client.completions().createStreaming(greedy("Once upon a time", 40).toBuilder().stop("Lily").build())) {
            s.stream().forEach(ch -> ch.choices().forEach(x -> text.append(x.text())));
        }
        assertEquals(r.choices().getFirst().text(), text.toString());
    }

    @Test
    void modelsListsTheModel() {
        List<Model> models = client.models().list().data();
        assertEquals(1, models.size());
        assertEquals("stories260K", models.getFirst().id());
        assertEquals("stories260K", client.models().retrieve("stories260K").id());
    }

    @Test
    void badRequestBecomesTheSdkException() {
        BadRequestException e = assertThrows(BadRequestException.class, () -> client.completions().create(greedy("Once", 1).toBuilder().maxTokens(0).build()));
        assertEquals(400, e.statusCode());
        assertTrue(e.getMessage().contains("max_tokens"), e.getMessage());
    }
}
