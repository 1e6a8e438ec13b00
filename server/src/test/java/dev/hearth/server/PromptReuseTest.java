package dev.hearth.server;

import dev.hearth.runtime.json.Json;
import dev.hearth.server.http.ApiError;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Multi-turn chats: the next turn re-uses the slot's cache of the previous one (shown in
 * usage.prompt_tokens_details.cached_tokens), and a chat that outgrows the context is refused,
 * or, with --context-overflow truncate, loses its oldest turns.
 */
class PromptReuseTest {
    static Map<String, Object> msg(String role, String content) {
        return Map.of("role", role, "content", content);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> chat(TestModel m, List<Map<String, Object>> messages, int maxTokens, int status) throws Exception {
        String body = "{\"messages\": " + Json.write(messages) + ", \"max_tokens\": " + maxTokens + ", \"temperature\": 0}";
        RawHttp.Response r = HardeningTest.post(m, "/v1/chat/completions", body, "application/json");
        assertEquals(status, r.status(), r.body());
        return (Map<String, Object>) Json.parse(r.body());
    }

    @SuppressWarnings("unchecked")
    static int usage(Map<String, Object> answer, String field) {
        Map<String, Object> u = (Map<String, Object>) answer.get("usage");
        if (field.equals("cached_tokens")) return ((Number) ((Map<String, Object>) u.get("prompt_tokens_details")).get("cached_tokens")).intValue();
        return ((Number) u.get(field)).intValue();
    }

    @SuppressWarnings("unchecked")
    static String text(Map<String, Object> answer) {
        return (String) ((Map<String, Object>) ((List<Map<String, Object>>) answer.get("choices")).getFirst().get("message")).get("content");
    }

    @Test
    void eachTurnReusesThePreviousTurnsCacheEvenWithAnotherRequestBetween() throws Exception {
        try (TestModel m = new TestModel(TestModel.stories(), 2, 512, TestModel.options())) {
            List<Map<String, Object>> messages = new ArrayList<>(List.of(msg("system", "You tell stories."), msg("user", "Tell me about a cat.")));
            Map<String, Object> first = chat(m, messages, 24, 200);
            assertEquals(0, usage(first, "cached_tokens"));
            int before = usage(first, "prompt_tokens");
            for (String next : List.of("What happened next?", "And then?", "How did it end?")) {
                // an unrelated request goes to the other slot and leaves the conversation's cache alone
                assertEquals(200, HardeningTest.post(m, "/v1/completions", "{\"prompt\": \"The big red ball\", \"max_tokens\": 4}", "application/json").status());
                messages.add(msg("assistant", text(first)));
                messages.add(msg("user", next));
                Map<String, Object> again = chat(m, messages, 24, 200);
                int prompt = usage(again, "prompt_tokens");
                int cached = usage(again, "cached_tokens");
                int answer = usage(first, "completion_tokens");
                assertTrue(prompt > before + answer, prompt + " > " + before + " + " + answer);
                // the previous prompt and its answer (all but its last token, never run through the model) come from the cache:
                // the answer's text, tokenized again inside the next prompt, gives the tokens that were generated
                assertTrue(cached >= before + answer - 1, "turn re-used " + cached + " cached tokens of a prompt of " + prompt
                        + "; the previous prompt was " + before + " and its answer " + answer + " tokens");
                before = prompt;
                first = again;
            }
        }
    }

    static List<Map<String, Object>> longChat(int turns) {
        List<Map<String, Object>> messages = new ArrayList<>(List.of(msg("system", "Be kind.")));
        for (int i = 0; i < turns; i++) {
            messages.add(msg("user", "Tell me story number " + i + " about a little dog and a big tree in the park."));
            messages.add(msg("assistant", "Once upon a time there was a little dog. It was happy and it played with the ball " + i + "."));
        }
        messages.add(msg("user", "One more, please."));
        return messages;
    }

    @Test
    void aChatPastTheContextIsRefusedUnlessTruncationIsOn() throws Exception {
        try (TestModel m = new TestModel(TestModel.stories(), 1, 128, TestModel.options())) {
            Map<String, Object> e = chat(m, longChat(12), 8, 400);
            @SuppressWarnings("unchecked")
            Map<String, Object> err = (Map<String, Object>) e.get("error");
            assertEquals("context_length_exceeded", err.get("code"));
            assertTrue(err.get("message").toString().contains("--context-overflow truncate"), err.toString());
        }
        ServerOptions o = TestModel.options().withPolicy(ServerPolicy.DEFAULTS.withContextOverflow(ServerPolicy.ContextOverflow.TRUNCATE));
        try (TestModel m = new TestModel(TestModel.stories(), 1, 128, o)) {
            Map<String, Object> ok = chat(m, longChat(12), 8, 200);
            int prompt = usage(ok, "prompt_tokens");
            assertTrue(prompt + 8 <= 128 && prompt > 40, "prompt of " + prompt + " tokens");
            // the last message alone does not fit: still a 400
            List<Map<String, Object>> huge = longChat(2);
            huge.set(huge.size() - 1, msg("user", "dog ".repeat(400)));
            chat(m, huge, 8, 400);
        }
    }

    @Test
    void truncationKeepsTheSystemMessagesAndDropsTheFewestOldestTurns() throws Exception {
        try (TestModel m = new TestModel(TestModel.stories(), 1, 128, TestModel.options())) {
            Prompts prompts = new Prompts(m.tokenizer, null, null);
            PromptFit fit = new PromptFit(m.tokenizer, 128, ServerPolicy.ContextOverflow.TRUNCATE);
            List<Map<String, Object>> messages = longChat(12);
            List<List<Map<String, Object>>> rendered = new ArrayList<>();
            PromptFit.Fitted f = fit.chat(messages, 16, ms -> {
                rendered.add(ms);
                return prompts.chatText(ms);
            });
            assertTrue(f.droppedMessages() > 0 && f.droppedMessages() % 2 == 0, "dropped " + f.droppedMessages());
            List<Map<String, Object>> kept = new ArrayList<>(messages.subList(0, 1));
            kept.addAll(messages.subList(1 + f.droppedMessages(), messages.size()));
            assertEquals(prompts.chat(kept).length, f.tokens().length);
            assertTrue(f.tokens().length + 16 <= 128);
            assertEquals("user", kept.get(1).get("role"));
            // one turn fewer dropped does not fit
            List<Map<String, Object>> more = new ArrayList<>(messages.subList(0, 1));
            more.addAll(messages.subList(1 + f.droppedMessages() - 2, messages.size()));
            assertTrue(prompts.chat(more).length + 16 > 128);
            assertTrue(rendered.size() < 8, "rendered " + rendered.size() + " times for 25 messages");
            PromptFit strict = new PromptFit(m.tokenizer, 128, ServerPolicy.ContextOverflow.ERROR);
            assertEquals("context_length_exceeded", assertThrows(ApiError.class, () -> strict.chat(messages, 16, prompts::chatText)).code());
        }
    }
}
