package dev.hearth.llama.tokenizer;

import dev.hearth.runtime.json.Json;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The stories260K vocabulary (SentencePiece, 512 tokens) against llama.cpp's greedy runs: each
 * prompt encodes (with BOS) to llama.cpp's prompt_tokens, and the generated ids decode to its text.
 */
class Stories260KTokenizerTest {
    private static final String MODEL = "stories260K-f32.gguf";

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> runs() throws IOException {
        String json = Files.readString(TestFiles.model("stories260K.greedy.json"), StandardCharsets.UTF_8);
        Map<String, Object> root = (Map<String, Object>) Json.parse(json);
        Map<String, Object> models = (Map<String, Object>) root.get("models");
        List<Map<String, Object>> runs = new java.util.ArrayList<>();
        // all four files share the vocabulary; their prompts and generated texts all count
        for (Object list : models.values()) runs.addAll((List<Map<String, Object>>) list);
        return runs;
    }

    private static int[] ints(Object list) {
        return ((List<?>) list).stream().mapToInt(o -> ((Number) o).intValue()).toArray();
    }

    @Test
    void vocabularyBasics() {
        Tokenizer tok = TestFiles.tokenizer(MODEL);
        assertEquals(512, tok.vocabSize());
        assertEquals(1, tok.bos());
        assertEquals(2, tok.eos());
        assertTrue(tok.addsBos());
        assertTrue(tok.isControl(1));
        assertFalse(tok.isControl(403));
        assertEquals(java.util.Set.of(2), tok.endOfGeneration());
    }

    @Test
    void promptsEncodeToLlamaCppPromptTokens() throws IOException {
        Tokenizer tok = TestFiles.tokenizer(MODEL);
        List<Map<String, Object>> runs = runs();
        assertEquals(20, runs.size());
        for (Map<String, Object> run : runs) {
            String prompt = (String) run.get("prompt");
            assertArrayEquals(ints(run.get("prompt_tokens")), tok.encode(prompt, true), () -> "prompt '" + prompt + "'");
        }
    }

    @Test
    void generatedIdsDecodeToLlamaCppText() throws IOException {
        Tokenizer tok = TestFiles.tokenizer(MODEL);
        for (Map<String, Object> run : runs()) {
            int[] generated = ints(run.get("generated"));
            assertEquals(run.get("text"), tok.decode(generated), () -> "generated after '" + run.get("prompt") + "'");
        }
    }

    @Test
    void streamingTokenBytesGivesTheSameText() throws IOException {
        // a stream prints every piece in full; only decode() drops the first token's leading space
        Tokenizer tok = TestFiles.tokenizer(MODEL);
        for (Map<String, Object> run : runs()) {
            int[] generated = ints(run.get("generated"));
            Utf8Streamer streamer = new Utf8Streamer();
            StringBuilder streamed = new StringBuilder();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            for (int id : generated) {
                byte[] b = tok.tokenBytes(id);
                all.writeBytes(b);
                streamed.append(streamer.accept(b));
            }
            streamed.append(streamer.flush());
            assertEquals(all.toString(StandardCharsets.UTF_8), streamed.toString());
            String text = (String) run.get("text");
            String s = streamed.toString();
            assertEquals(text, s.startsWith(" ") ? s.substring(1) : s);
        }
    }
}
