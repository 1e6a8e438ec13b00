package dev.hearth.llama.tokenizer;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.gguf.GgufFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tokenizers from small hand-written GGUF files: errors, user-defined tokens, end-of-turn detection. */
class HandBuiltVocabTest {
    @TempDir
    Path dir;

    private Tokenizer load(TinyGguf g) throws Exception {
        try (GgufFile f = GgufFile.open(g.write(dir))) {
            return Tokenizer.fromGguf(f);
        }
    }

    private HearthException failure(TinyGguf g) throws Exception {
        Path p = g.write(dir);
        try (GgufFile f = GgufFile.open(p)) {
            return assertThrows(HearthException.class, () -> Tokenizer.fromGguf(f));
        }
    }

    @Test
    void unknownModelKindIsNamed() throws Exception {
        HearthException e = failure(new TinyGguf().put("tokenizer.ggml.model", "bert")
                .put("tokenizer.ggml.tokens", List.of("[CLS]", "a")));
        assertTrue(e.getMessage().contains("'bert'"), e.getMessage());
    }

    @Test
    void unknownPreTokenizerIsNamed() throws Exception {
        HearthException e = failure(new TinyGguf().put("tokenizer.ggml.model", "gpt2").put("tokenizer.ggml.pre", "made-up-pre")
                .put("tokenizer.ggml.tokens", List.of("a", "b")).put("tokenizer.ggml.merges", List.of("a b")));
        assertTrue(e.getMessage().contains("made-up-pre"), e.getMessage());
    }

    @Test
    void missingTokenizerOrMergesIsAnError() throws Exception {
        assertTrue(failure(new TinyGguf().put("general.architecture", "llama")).getMessage().contains("tokenizer.ggml.model"));
        assertTrue(failure(new TinyGguf().put("tokenizer.ggml.model", "gpt2").put("tokenizer.ggml.pre", "gpt-2")
                .put("tokenizer.ggml.tokens", List.of("a"))).getMessage().contains("merges"));
    }

    @Test
    void spmUserDefinedTokensAreAlwaysMatched() throws Exception {
        Tokenizer tok = load(new TinyGguf().put("tokenizer.ggml.model", "llama")
                .put("tokenizer.ggml.tokens", List.of("<unk>", "<s>", "</s>", "▁a", "b", "▁", "<tool>"))
                .put("tokenizer.ggml.scores", new float[]{0, 0, 0, -1, -2, -3, 0})
                .put("tokenizer.ggml.token_type", new int[]{2, 3, 3, 1, 1, 1, 4}));
        // "a" gets the space prefix: "▁a"; "<tool>" is user defined, so split out even without
        // parse_special; "b" follows a special token, so it is "▁b", which is no token: "▁" "b"
        assertArrayEquals(new int[]{3, 6, 5, 4}, tok.encode("a<tool>b", false));
        assertArrayEquals(new int[]{1, 3, 6, 5, 4}, tok.encode("a<tool>b", true));
        assertEquals("a<tool> b", tok.decode(new int[]{3, 6, 5, 4}), "user-defined tokens render as their text");
        // "c" has neither a token nor byte tokens: the unknown token stands for it
        assertArrayEquals(new int[]{5, 0}, tok.encode("c", false));
    }

    @Test
    void endOfTurnTokensFoundByText() throws Exception {
        Tokenizer tok = load(new TinyGguf().put("tokenizer.ggml.model", "gpt2").put("tokenizer.ggml.pre", "gpt-2")
                .put("tokenizer.ggml.tokens", List.of("a", "b", "ab", "Ġ", "<|im_end|>", "<|endoftext|>"))
                .put("tokenizer.ggml.merges", List.of("a b")));
        assertEquals(4, tok.eot());
        assertEquals(-1, tok.bos(), "the BPE default BOS id 11 is outside this vocabulary");
        assertEquals(Set.of(4, 5), tok.endOfGeneration());
        assertTrue(tok.isControl(4) && tok.isControl(5), "end-of-turn texts are made control tokens");
        // words "ab" and " ab": "a b" merges; "Ġab" is no token, so Ġ stays alone
        assertArrayEquals(new int[]{2, 3, 2}, tok.encode("ab ab", true));
        assertArrayEquals(new int[]{2, 4}, tok.encode("ab<|im_end|>", false, true));
        assertTrue(IntStream.of(tok.encode("ab<|im_end|>", false, false)).noneMatch(id -> id == 4));
    }

    @Test
    void mergesByIdAndByTextAgree() throws Exception {
        List<String> tokens = List.of("a", "b", "c", "ab", "abc");
        // every merge line made of tokens: merged by token ids
        Tokenizer byId = load(new TinyGguf().put("tokenizer.ggml.model", "gpt2").put("tokenizer.ggml.pre", "gpt-2")
                .put("tokenizer.ggml.tokens", tokens).put("tokenizer.ggml.merges", List.of("a b", "ab c", "b c")));
        // "c c" makes "cc", which is no token: merged by text
        Tokenizer byText = load(new TinyGguf().put("tokenizer.ggml.model", "gpt2").put("tokenizer.ggml.pre", "gpt-2")
                .put("tokenizer.ggml.tokens", tokens).put("tokenizer.ggml.merges", List.of("a b", "ab c", "b c", "c c")));
        // "a b" (rank 0) before "b c" (rank 2), then "ab c" (rank 1)
        assertArrayEquals(new int[]{4}, byId.encode("abc", false));
        assertArrayEquals(new int[]{4}, byText.encode("abc", false));
        assertArrayEquals(new int[]{3, 3}, byId.encode("abab", false));
        assertArrayEquals(new int[]{3, 3}, byText.encode("abab", false));
        // "cc" is merged but is no token: llama.cpp falls back to the single characters
        assertArrayEquals(new int[]{2, 2}, byText.encode("cc", false));
        assertArrayEquals(new int[]{2, 2}, byId.encode("cc", false));
    }
}
