package dev.hearth.llama.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every one of llama.cpp's tokenizer test vectors for the LLaMA 2 (SPM), Llama 3 (BPE), Qwen2
 * (BPE, qwen2 pre-tokenizer), Phi-3 (SPM), Command R (BPE, command-r pre-tokenizer) and Gemma 4
 * (SentencePiece-style BPE on raw UTF-8 with byte fallback) vocabularies.
 */
class VocabVectorsTest {
    static final String SPM = "ggml-vocab-llama-spm.gguf";
    static final String BPE = "ggml-vocab-llama-bpe.gguf";
    static final String QWEN2 = "ggml-vocab-qwen2.gguf";
    static final String PHI3 = "ggml-vocab-phi-3.gguf";
    static final String COMMAND_R = "ggml-vocab-command-r.gguf";
    static final String GEMMA4 = "ggml-vocab-gemma-4.gguf";

    @Test
    void spmEncodesEveryVectorLikeLlamaCpp() {
        checkAll(SPM);
    }

    @Test
    void bpeEncodesEveryVectorLikeLlamaCpp() {
        checkAll(BPE);
    }

    @Test
    void qwen2EncodesEveryVectorLikeLlamaCpp() {
        checkAll(QWEN2);
    }

    @Test
    void phi3EncodesEveryVectorLikeLlamaCpp() {
        checkAll(PHI3);
    }

    @Test
    void commandREncodesEveryVectorLikeLlamaCpp() {
        checkAll(COMMAND_R);
    }

    @Test
    void gemma4EncodesEveryVectorLikeLlamaCpp() {
        checkAll(GEMMA4);
    }

    private static void checkAll(String vocab) {
        Tokenizer tok = TestFiles.tokenizer(vocab);
        List<TestFiles.Vector> vectors = TestFiles.vectors(vocab);
        assertEquals(46, vectors.size(), "number of test vectors");
        List<String> wrong = new ArrayList<>();
        for (TestFiles.Vector v : vectors) {
            int[] got = tok.encode(v.input(), false);
            if (!Arrays.equals(v.expected(), got)) wrong.add(v + " but got " + Arrays.toString(got));
        }
        assertTrue(wrong.isEmpty(), wrong.size() + " of " + vectors.size() + " vectors differ:\n" + String.join("\n", wrong));
    }

    @Test
    void spmDecodeRoundTripsEveryVector() {
        // llama.cpp's detokenize drops the leading space the tokenizer added, so SPM gives the input back
        Tokenizer tok = TestFiles.tokenizer(SPM);
        for (TestFiles.Vector v : TestFiles.vectors(SPM)) {
            assertEquals(v.input(), tok.decode(v.expected()), () -> "decode of " + v);
        }
    }

    @Test
    void decodeRoundTripsEveryVectorWithoutSpaceCleanUp() {
        // Qwen2 and Command R do not clean up spaces; Phi-3 is SentencePiece like LLaMA 2
        for (String vocab : new String[]{QWEN2, COMMAND_R, PHI3}) {
            Tokenizer tok = TestFiles.tokenizer(vocab);
            for (TestFiles.Vector v : TestFiles.vectors(vocab)) {
                assertEquals(v.input(), tok.decode(v.expected()), () -> vocab + ": decode of " + v);
            }
        }
    }

    @Test
    void bpeDecodeRoundTripsWhereNoSpacesAreCleanedUp() {
        for (String vocab : new String[]{BPE, GEMMA4}) roundTripUncleaned(vocab);
    }

    private static void roundTripUncleaned(String vocab) {
        Tokenizer tok = TestFiles.tokenizer(vocab);
        int checked = 0;
        for (TestFiles.Vector v : TestFiles.vectors(vocab)) {
            String x = v.input();
            boolean cleaned = x.contains(" ?") || x.contains(" !") || x.contains(" .") || x.contains(" ,") || x.contains(" '");
            if (cleaned) continue;
            assertEquals(x, tok.decode(v.expected()), () -> vocab + ": decode of " + v);
            checked++;
        }
        assertTrue(checked >= 40, vocab + ": round-tripped only " + checked + " vectors");
    }

    @Test
    void bpeDecodeCleansSpacesAsLlamaCpp() {
        // Llama 3 sets clean_up_tokenization_spaces: " ?" " !" " ." " ," lose the space,
        // " ' " becomes "'", and the space before 's 'm 're 've goes; before 't 'd 'll it stays.
        Tokenizer tok = TestFiles.tokenizer(BPE);
        assertEquals("you 😁?", tok.decode(tok.encode("you 😁 ?", false)));
        assertEquals("a, b. c! d?", tok.decode(tok.encode("a , b . c ! d ?", false)));
        assertEquals("it's he'm we're they've I 't you 'd we 'll", tok.decode(tok.encode("it 's he 'm we 're they 've I 't you 'd we 'll", false)));
        assertEquals("rock'n roll", tok.decode(tok.encode("rock ' n roll", false)));
    }
}
