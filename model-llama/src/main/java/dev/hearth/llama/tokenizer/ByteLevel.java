package dev.hearth.llama.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * GPT-2's byte-to-unicode mapping for byte-level BPE: every byte gets a printable character.
 * The bytes '!'..'~', 0xA1..0xAC and 0xAE..0xFF stand for themselves; the other 68 bytes (0x00..0x20,
 * 0x7F..0xA0, 0xAD), in increasing order, get U+0100, U+0101, ... (so ' ' is 'Ġ' U+0120 and '\n'
 * is 'Ċ' U+010A). Vocabulary and merge strings are written in these characters.
 */
final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[0x144];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 0x100;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) next++;
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {
    }

    /** The mapped character of each UTF-8 byte of {@code word}. */
    static String encode(String word) {
        byte[] bytes = word.getBytes(StandardCharsets.UTF_8);
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        return new String(out);
    }

    /** The byte a mapped character stands for, or -1. */
    static int byteOf(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    static char charOf(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /**
     * The bytes a byte-level token text stands for (llama.cpp's llama_decode_text): each code point
     * maps back to its byte; a code point outside the mapping is written as
     * {@code [UNK_BYTE_0x<its UTF-8 in hex><the whole text>]}, as llama.cpp does.
     */
    static byte[] decode(String text) {
        byte[] fast = new byte[text.length()];
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= CHAR_TO_BYTE.length || CHAR_TO_BYTE[c] < 0) return decodeSlow(text);
            fast[i] = (byte) CHAR_TO_BYTE[c];
        }
        return fast;
    }

    private static byte[] decodeSlow(String text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(text.length());
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (cp < CHAR_TO_BYTE.length && CHAR_TO_BYTE[cp] >= 0) {
                out.write(CHAR_TO_BYTE[cp]);
            } else {
                StringBuilder sb = new StringBuilder("[UNK_BYTE_0x");
                for (byte b : Vocabulary.utf8(new String(Character.toChars(cp)))) sb.append(String.format("%02x", b & 0xFF));
                sb.append(text).append(']');
                out.writeBytes(sb.toString().getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toByteArray();
    }
}
