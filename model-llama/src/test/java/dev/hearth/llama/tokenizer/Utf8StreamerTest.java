package dev.hearth.llama.tokenizer;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Utf8StreamerTest {
    private static byte[] b(int... v) {
        byte[] out = new byte[v.length];
        for (int i = 0; i < v.length; i++) out[i] = (byte) v[i];
        return out;
    }

    @Test
    void holdsBackACharacterUntilItsLastByte() {
        Utf8Streamer s = new Utf8Streamer();
        assertEquals("a", s.accept(b('a', 0xC3)));
        assertTrue(s.hasPending());
        assertEquals("é!", s.accept(b(0xA9, '!')));
        assertFalse(s.hasPending());
        assertEquals("", s.flush());
    }

    @Test
    void emojiSplitEveryWay() {
        byte[] smile = "😁".getBytes(StandardCharsets.UTF_8);
        assertEquals(4, smile.length);
        for (int cut1 = 0; cut1 <= 4; cut1++) {
            for (int cut2 = cut1; cut2 <= 4; cut2++) {
                Utf8Streamer s = new Utf8Streamer();
                StringBuilder out = new StringBuilder();
                out.append(s.accept(java.util.Arrays.copyOfRange(smile, 0, cut1)));
                if (cut1 < 4) assertEquals("", out.toString(), "nothing before the last byte");
                out.append(s.accept(java.util.Arrays.copyOfRange(smile, cut1, cut2)));
                out.append(s.accept(java.util.Arrays.copyOfRange(smile, cut2, 4)));
                assertEquals("😁", out.toString());
                assertEquals("", s.flush());
            }
        }
    }

    @Test
    void byteAtATimeThroughMixedText() {
        String text = "Ünïcödé ✅ 🦙 日本語 done";
        Utf8Streamer s = new Utf8Streamer();
        StringBuilder out = new StringBuilder();
        for (byte x : text.getBytes(StandardCharsets.UTF_8)) {
            String piece = s.accept(new byte[]{x});
            for (int i = 0; i < piece.length(); i++) assertFalse(piece.charAt(i) == '\uFFFD', "no replacement characters");
            out.append(piece);
        }
        out.append(s.flush());
        assertEquals(text, out.toString());
    }

    @Test
    void invalidBytesBecomeReplacementCharacters() {
        Utf8Streamer s = new Utf8Streamer();
        assertEquals("x\uFFFDy", s.accept(b('x', 0xFF, 'y')), "a byte that is never valid comes out at once");
        assertEquals("\uFFFD\uFFFD", s.accept(b(0xE0, 0x80)), "0xE0 0x80 can only start an overlong form: each byte is replaced");
        assertFalse(s.hasPending());
        assertEquals("", s.accept(b(0xF0, 0x9F)));
        assertEquals("\uFFFD", s.flush(), "an unfinished character at the end");
        assertEquals("", s.flush());
    }

    @Test
    void bpeTokensOfAnEmojiStreamWhole() {
        // llama.cpp's Llama 3 vectors spell " 😁" as 27623 223: the emoji's bytes span both tokens
        Tokenizer tok = TestFiles.tokenizer(VocabVectorsTest.BPE);
        assertEquals(" 😁", tok.decode(new int[]{27623, 223}));
        Utf8Streamer s = new Utf8Streamer();
        assertEquals(" ", s.accept(tok.tokenBytes(27623)));
        assertTrue(s.hasPending());
        assertEquals("😁", s.accept(tok.tokenBytes(223)));
    }

    @Test
    void spmByteFallbackTokensStreamWhole() {
        // "✅" has its own LLaMA 2 token; 🦙 is spelled with byte tokens <0xF0><0x9F><0xA6><0x99>
        Tokenizer tok = TestFiles.tokenizer(VocabVectorsTest.SPM);
        int[] ids = tok.encode("🦙", false);
        assertEquals(5, ids.length, "space, then four byte tokens");
        Utf8Streamer s = new Utf8Streamer();
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < ids.length; i++) {
            String piece = s.accept(tok.tokenBytes(ids[i]));
            if (i > 0 && i < ids.length - 1) assertEquals("", piece);
            out.append(piece);
        }
        assertEquals(" 🦙", out.toString());
    }
}
