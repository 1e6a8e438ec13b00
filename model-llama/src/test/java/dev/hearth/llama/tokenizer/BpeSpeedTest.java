package dev.hearth.llama.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tokenizes about 1 MB with the Llama 3 and the Gemma 4 vocabularies. The text repeats a paragraph (all of
 * llama.cpp's test inputs) that ends in a letter and a blank line, so the pre-tokenizer splits it
 * the same way every time: the ids must be the paragraph's ids repeated. The time is printed, not
 * asserted.
 */
class BpeSpeedTest {
    @Test
    void oneMegabyteTokenizesAsRepeatedParagraphs() {
        check(VocabVectorsTest.BPE);
    }

    @Test
    void gemma4OneMegabyteTokenizesAsRepeatedParagraphs() {
        // Gemma 4 splits only at line feeds, so its words are whole lines and its merges run over them
        check(VocabVectorsTest.GEMMA4);
    }

    @Test
    void gemma4LongLineWithoutLineFeeds() {
        Tokenizer tok = TestFiles.tokenizer(VocabVectorsTest.GEMMA4);
        String line = "The quick brown fox jumps over the lazy dog; 3.14159 & ünïcödé 🦙. ".repeat(4000);
        long t0 = System.nanoTime();
        int[] ids = tok.encode(line, false);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("Gemma 4: one line of %d chars -> %d tokens in %d ms%n", line.length(), ids.length, ms);
        assertTrue(ids.length > 4000 && ids.length < line.length(), "token count " + ids.length);
        assertTrue(tok.decode(ids).equals(line), "round trip");
    }

    private static void check(String vocab) {
        Tokenizer tok = TestFiles.tokenizer(vocab);
        List<String> inputs = new ArrayList<>();
        for (TestFiles.Vector v : TestFiles.vectors(vocab)) inputs.add(v.input());
        String unit = "Hello world! " + String.join(" ", inputs) + " end\n\n";
        int copies = (1 << 20) / unit.length() + 1;
        String big = unit.repeat(copies);

        int[] unitIds = tok.encode(unit, false);
        long t0 = System.nanoTime();
        int[] ids = tok.encode(big, false);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("%s: %d chars -> %d tokens in %d ms%n", vocab, big.length(), ids.length, ms);

        assertTrue(ids.length == (long) unitIds.length * copies, "token count " + ids.length);
        int[] expected = new int[ids.length];
        for (int i = 0; i < copies; i++) System.arraycopy(unitIds, 0, expected, i * unitIds.length, unitIds.length);
        assertArrayEquals(expected, ids);
    }
}
