package dev.hearth.llama.tokenizer;

import dev.hearth.runtime.HearthException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** BOS/EOS, end-of-generation tokens, parse_special and token bytes on the LLaMA 2 and Llama 3 vocabularies. */
class SpecialTokensTest {
    private static int[] concat(int[]... parts) {
        return Arrays.stream(parts).flatMapToInt(IntStream::of).toArray();
    }

    private static String str(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    @Test
    void llama3SpecialIds() {
        Tokenizer tok = TestFiles.tokenizer(VocabVectorsTest.BPE);
        assertEquals(128256, tok.vocabSize());
        assertEquals(128000, tok.bos());
        assertEquals(128001, tok.eos());
        assertEquals(128009, tok.eot(), "<|eot_id|> found by its text");
        assertTrue(tok.addsBos(), "llama-bpe adds BOS");
        assertEquals(Set.of(128001, 128009), tok.endOfGeneration());
        assertTrue(tok.isControl(128009));
        assertFalse(tok.isControl(9906));
    }

    @Test
    void llama3BosAndPieces() {
        Tokenizer tok = TestFiles.tokenizer(VocabVectorsTest.BPE);
        assertArrayEquals(new int[]{128000, 9906}, tok.encode("Hello", true));
        assertEquals("Hello", tok.piece(9906));
        assertEquals("ĠHello", tok.piece(22691));
        assertEquals(22691, tok.tokenId("ĠHello"));
        assertEquals(-1, tok.tokenId("no such token here"));
        assertEquals(" Hello", str(tok.tokenBytes(22691)));
        assertEquals("\n\n", str(tok.tokenBytes(271)));
        assertEquals(0, tok.tokenBytes(128009).length, "control tokens are not text");
        assertEquals("<|eot_id|>", str(tok.tokenBytes(128009, true)));
        assertEquals("Hello", tok.decode(new int[]{128000, 9906}));
        assertEquals("<|begin_of_text|>Hello", str(tok.decodeBytes(new int[]{128000, 9906}, false, true)));
    }

    @Test
    void llama3ChatTemplateWithParseSpecial() {
        Tokenizer tok = TestFiles.tokenizer(VocabVectorsTest.BPE);
        String chat = "<|start_header_id|>user<|end_header_id|>\n\nHello world<|eot_id|>";
        int[] expected = concat(new int[]{128006}, tok.encode("user", false), new int[]{128007},
                tok.encode("\n\nHello world", false), new int[]{128009});
        assertArrayEquals(expected, tok.encode(chat, false, true));
        assertArrayEquals(concat(new int[]{128000}, expected), tok.encode(chat, true, true));

        int[] plain = tok.encode(chat, false, false);
        assertTrue(IntStream.of(plain).allMatch(id -> id < 128000), "without parse_special, special texts are plain text");
        assertEquals(chat, tok.decode(plain));

        assertArrayEquals(concat(tok.encode("a", false), new int[]{128009}, tok.encode("b", false)),
                tok.encode("a<|eot_id|>b", false, true), "a special token inside a word");
        assertArrayEquals(new int[]{128009, 128009}, tok.encode("<|eot_id|><|eot_id|>", false, true));
    }

    @Test
    void llamaSpmSpecialIds() {
        Tokenizer tok = TestFiles.tokenizer(VocabVectorsTest.SPM);
        assertEquals(32000, tok.vocabSize());
        assertEquals(1, tok.bos());
        assertEquals(2, tok.eos());
        assertEquals(-1, tok.eot());
        assertEquals(Set.of(2), tok.endOfGeneration());
        assertTrue(tok.isControl(1) && tok.isControl(2));
        assertFalse(tok.isControl(0), "<unk> is an unknown token, not a control token");
    }

    @Test
    void llamaSpmBosAndParseSpecial() {
        Tokenizer tok = TestFiles.tokenizer(VocabVectorsTest.SPM);
        // from llama.cpp's vectors: "Hello world" -> 15043 3186
        assertArrayEquals(new int[]{1, 15043, 3186}, tok.encode("Hello world", true));
        // a text stretch after a special token gets the space prefix again
        assertArrayEquals(new int[]{1, 15043, 3186, 2}, tok.encode("<s>Hello world</s>", false, true));
        assertArrayEquals(new int[]{15043, 1, 3186}, tok.encode("Hello<s>world", false, true));
        int[] plain = tok.encode("<s>Hello world</s>", false, false);
        assertTrue(IntStream.of(plain).noneMatch(id -> id == 1 || id == 2));
        assertEquals("<s>Hello world</s>", tok.decode(plain));
        assertArrayEquals(new int[]{1}, tok.encode("", true));
        assertArrayEquals(new int[0], tok.encode("", false));
    }

    @Test
    void llamaSpmPiecesAndDecode() {
        Tokenizer tok = TestFiles.tokenizer(VocabVectorsTest.SPM);
        assertEquals("<0x0A>", tok.piece(13));
        assertArrayEquals(new byte[]{'\n'}, tok.tokenBytes(13));
        assertArrayEquals(new byte[]{(byte) 0xF0}, tok.tokenBytes(243));
        assertEquals("▁Hello", tok.piece(15043));
        assertEquals(" Hello", str(tok.tokenBytes(15043)));
        assertEquals(0, tok.tokenBytes(1).length);
        assertEquals(0, tok.tokenBytes(0).length);
        assertEquals("<s>", str(tok.tokenBytes(1, true)));
        assertThrows(HearthException.class, () -> tok.tokenBytes(32000));
        assertThrows(HearthException.class, () -> tok.decode(new int[]{15043, -1}));
        // llama.cpp strips the added space from the first token only; a leading BOS is that first token
        assertEquals("Hello world", tok.decode(new int[]{15043, 3186}));
        assertEquals(" Hello world", tok.decode(new int[]{1, 15043, 3186}));
        assertEquals(" Hello world", str(tok.decodeBytes(new int[]{1, 15043, 3186}, true, false)));
        assertEquals("<s> Hello world", str(tok.decodeBytes(new int[]{1, 15043, 3186}, false, true)));
    }

    @Test
    void qwen2ChatTokens() {
        Tokenizer tok = TestFiles.tokenizer(VocabVectorsTest.QWEN2);
        assertEquals(151936, tok.vocabSize());
        assertEquals(151645, tok.eot(), "<|im_end|> found by its text");
        assertTrue(tok.isEndOfGeneration(151643) && tok.isEndOfGeneration(151645));
        assertFalse(tok.addsBos());
        String chat = "<|im_start|>user\nHello world<|im_end|>\n";
        int[] expected = concat(new int[]{151644}, tok.encode("user\nHello world", false), new int[]{151645},
                tok.encode("\n", false));
        assertArrayEquals(expected, tok.encode(chat, false, true));
        assertArrayEquals(expected, tok.encode(chat, true, true), "qwen2 adds no BOS");
        int[] plain = tok.encode(chat, false, false);
        assertTrue(IntStream.of(plain).allMatch(id -> id < 151643), "without parse_special, special texts are plain text");
        assertEquals(chat, tok.decode(plain));
        assertEquals("<|im_start|>user", str(tok.decodeBytes(concat(new int[]{151644}, tok.encode("user", false)), false, true)));
    }

    @Test
    void phi3SpecialTokensTakeTheWhitespaceAfterThem() {
        // llama.cpp gives Phi-3's special tokens the RSTRIP attribute (not <unk>, <s>, <|endoftext|>)
        Tokenizer tok = TestFiles.tokenizer(VocabVectorsTest.PHI3);
        assertEquals(32064, tok.vocabSize());
        assertEquals(32007, tok.eot(), "<|end|> found by its text");
        assertEquals(32000, tok.eos());
        int[] hello = tok.encode("Hello", false);
        assertArrayEquals(concat(new int[]{1, 32010}, hello, new int[]{32007, 32001}),
                tok.encode("<|user|>\nHello<|end|>\n<|assistant|>", true, true));
        assertArrayEquals(concat(new int[]{32000}, tok.encode(" x", false)), tok.encode("<|endoftext|> x", false, true),
                "<|endoftext|> keeps the space after it");
        // </s> (user-defined in the file, made a control token as an end of generation) strips too
        assertArrayEquals(concat(hello, new int[]{2}, tok.encode("x", false)), tok.encode("Hello</s>  x", false, true));
        assertTrue(IntStream.of(tok.encode("Hello</s>  x", false, false)).noneMatch(id -> id == 2));
        assertEquals("Hello world", tok.decode(tok.encode("Hello world", false)));
    }

    @Test
    void commandRTurnTokens() {
        Tokenizer tok = TestFiles.tokenizer(VocabVectorsTest.COMMAND_R);
        assertEquals(256000, tok.vocabSize());
        assertEquals(5, tok.bos());
        assertEquals(255001, tok.eos());
        assertTrue(tok.addsBos());
        String chat = "<|START_OF_TURN_TOKEN|><|USER_TOKEN|>Hello 2024<|END_OF_TURN_TOKEN|>";
        int[] expected = concat(new int[]{5, 255000, 255006}, tok.encode("Hello 2024", false), new int[]{255001});
        assertArrayEquals(expected, tok.encode(chat, true, true));
        // user-defined tokens (<|START_OF_TURN_TOKEN|>, <|USER_TOKEN|>) are matched even without parse_special
        assertArrayEquals(concat(new int[]{255000, 255006}, tok.encode("Hi", false)), tok.encode("<|START_OF_TURN_TOKEN|><|USER_TOKEN|>Hi", false, false));
        assertEquals("Hello 2024 , ok", tok.decode(tok.encode("Hello 2024 , ok", false)), "command-r does not clean up spaces");
    }

    @Test
    void gemma4TurnTokensAndBytes() {
        Tokenizer tok = TestFiles.tokenizer(VocabVectorsTest.GEMMA4);
        assertEquals(262144, tok.vocabSize());
        assertEquals(2, tok.bos());
        assertEquals(1, tok.eos());
        assertTrue(tok.addsBos());
        assertTrue(tok.isEndOfGeneration(1) && tok.isEndOfGeneration(106), "<eos> and <turn|> end generation");
        String chat = "<|turn>user\nHello world<turn|>\n";
        int[] expected = concat(new int[]{2, 105}, tok.encode("user\nHello world", false), new int[]{106}, tok.encode("\n", false));
        assertArrayEquals(expected, tok.encode(chat, true, true));
        int[] plain = tok.encode(chat, false, false);
        assertTrue(IntStream.of(plain).noneMatch(id -> id == 105 || id == 106));
        assertEquals(chat, tok.decode(plain));
        int[] hello = tok.encode(" Hello world", false);
        assertEquals(" Hello world", tok.decode(hello));
        assertTrue(tok.piece(hello[0]).startsWith("\u2581"), "spaces are stored as '\u2581'");
        assertEquals(" ", str(tok.tokenBytes(tok.tokenId("\u2581"))));
        assertArrayEquals(new byte[]{(byte) 0xF0}, tok.tokenBytes(tok.tokenId("<0xF0>")));
    }
}
