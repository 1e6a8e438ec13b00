package dev.hearth.llama.tokenizer;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Encoding with a token limit: the whole encoding where it fits, limit + 1 ids where it does not,
 * and for a text of megabytes, time and memory that follow the limit rather than the text.
 */
class BoundedEncodeTest {
    static final List<String> VOCABS = List.of(VocabVectorsTest.SPM, VocabVectorsTest.BPE, VocabVectorsTest.QWEN2, VocabVectorsTest.PHI3,
            VocabVectorsTest.COMMAND_R, VocabVectorsTest.GEMMA4);

    static void check(Tokenizer tok, String text, boolean addBos, boolean special) {
        int[] full = tok.encode(text, addBos, special);
        for (int limit : new int[] {0, 1, full.length / 2, full.length - 1, full.length, full.length + 3}) {
            if (limit < 0) continue;
            int[] got = tok.encode(text, addBos, special, limit);
            if (full.length > limit) assertEquals(limit + 1, got.length, () -> "limit " + limit + " of " + full.length + " for " + text);
            else assertArrayEquals(full, got, () -> "limit " + limit + " for " + text);
        }
    }

    @Test
    void agreesWithTheWholeEncodingOnEveryVector() {
        for (String vocab : VOCABS) {
            Tokenizer tok = TestFiles.tokenizer(vocab);
            StringBuilder all = new StringBuilder();
            for (TestFiles.Vector v : TestFiles.vectors(vocab)) {
                check(tok, v.input(), false, false);
                check(tok, v.input(), true, true);
                all.append(v.input()).append('\n');
            }
            String specials = "<s>" + all + "</s><|end|><|im_start|>" + all.toString().repeat(3);
            check(tok, specials, true, true);
            check(tok, specials, false, false);
        }
    }

    @Test
    void whitespaceTakenByStrippingTokensIsCountedRight() {
        Tokenizer tok = TestFiles.tokenizer(VocabVectorsTest.PHI3);
        String text = "<|end|>" + " ".repeat(20_000) + "<|end|>" + "\n".repeat(5_000) + "<|user|> hi";
        check(tok, text, true, true);
    }

    @Test
    void aTextOfMegabytesCostsWhatTheLimitCosts() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        String text = "Once upon a time, there was a little dog who liked to run in the park. ".repeat(100_000); // 7.2 MB
        for (String vocab : VOCABS) {
            Tokenizer tok = TestFiles.tokenizer(vocab);
            tok.encode("warm up " + text.substring(0, 10_000), true, true, 100);
            long bytes0 = threads.getCurrentThreadAllocatedBytes();
            long t0 = System.nanoTime();
            int[] ids = tok.encode(text, true, true, 4096);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            long allocated = threads.getCurrentThreadAllocatedBytes() - bytes0;
            assertEquals(4097, ids.length, vocab);
            assertTrue(allocated < 20L << 20, vocab + ": " + (allocated >> 20) + " MiB allocated for a 7 MB text with a limit of 4096 tokens");
            assertTrue(ms < 2000, vocab + ": " + ms + " ms");
            int[] prefix = tok.encode(text.substring(0, 2000), true, true);
            assertArrayEquals(Arrays.copyOf(prefix, 100), Arrays.copyOf(ids, 100), vocab + ": the ids begin as the text's do");
        }
    }
}
