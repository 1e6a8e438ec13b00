package dev.hearth.cli;

import dev.hearth.runtime.json.Json;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * {@code hearth tokenize} parses special tokens in the text by default, as llama-tokenize does:
 * Qwen2's "&lt;|im_start|&gt;" becomes token 151644; --no-parse-special leaves it plain text.
 */
class TokenizeCommandTest {
    private static final int IM_START = 151644, IM_END = 151645;

    private static String qwen2() {
        Path p = StoriesTest.models().resolve("ggml-vocab-qwen2.gguf");
        if (!Files.isRegularFile(p)) throw new AssertionError("test data file " + p.toAbsolutePath() + " is missing");
        return p.toString();
    }

    private static List<Object> tokenize(String... argv) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream old = System.out;
        int rc;
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            rc = TokenizeCommand.run(argv);
        } finally {
            System.setOut(old);
        }
        assertEquals(0, rc);
        @SuppressWarnings("unchecked")
        List<Object> ids = (List<Object>) Json.parse(buf.toString(StandardCharsets.UTF_8));
        return ids;
    }

    private static int id(Object o) {
        return ((Number) o).intValue();
    }

    @Test
    void specialTokensAreParsedByDefault() {
        List<Object> ids = tokenize("-m", qwen2(), "<|im_start|>user\nHi<|im_end|>");
        assertEquals(IM_START, id(ids.getFirst()));
        assertEquals(IM_END, id(ids.getLast()));
        assertEquals(List.of(IM_START), tokenize("-m", qwen2(), "<|im_start|>").stream().map(TokenizeCommandTest::id).toList());
    }

    @Test
    void noParseSpecialKeepsThemAsText() {
        List<Object> ids = tokenize("-m", qwen2(), "--no-parse-special", "<|im_start|>user");
        assertFalse(ids.stream().anyMatch(o -> id(o) >= 151643), ids.toString());
    }
}
