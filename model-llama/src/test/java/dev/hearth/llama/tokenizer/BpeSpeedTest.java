package dev.hearth.llama.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tokenizes about 1 MB with the Llama 3 vocabulary. The text repeats a paragraph (all of
 * llama.cpp's test inputs) that ends in a letter and a blank line, so the pre-tokenizer splits it
 * the same way every time: the ids must be the paragraph's ids repeated. The time is printed, not
 * asserted.
 */
class BpeSpeedTest {
    @Test
    void oneMegabyteTokenizesAsRepeatedParagraphs() {
        Tokenizer tok = TestFiles.tokenizer(VocabVectorsTest.BPE);
        List<String> inputs = new ArrayList<>();
        for (TestFiles.Vector v : TestFiles.vectors(VocabVectorsTest.BPE)) inputs.add(v.input());
        String unit = "Hello world! " + String.join(" ", inputs) + " end\n\n";
        int copies = (1 << 20) / unit.length() + 1;
        String big = unit.repeat(copies);

        int[] unitIds = tok.encode(unit, false);
        long t0 = System.nanoTime();
        int[] ids = tok.encode(big, false);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("BPE: %d chars -> %d tokens in %d ms%n", big.length(), ids.length, ms);

        assertTrue(ids.length == (long) unitIds.length * copies, "token count " + ids.length);
        int[] expected = new int[ids.length];
        for (int i = 0; i < copies; i++) System.arraycopy(unitIds, 0, expected, i * unitIds.length, unitIds.length);
        assertArrayEquals(expected, ids);
    }
}
