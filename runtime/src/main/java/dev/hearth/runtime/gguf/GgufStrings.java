package dev.hearth.runtime.gguf;

import java.nio.charset.StandardCharsets;

/**
 * GGUF strings are UTF-8 bytes, but vocabularies may hold tokens that are not valid UTF-8 on
 * their own (a lone byte of a multi-byte character). Such bytes are decoded losslessly as "escape"
 * characters U+DC80..U+DCFF, one per byte, as Python's surrogateescape does; valid UTF-8 never
 * decodes to those (they are lone surrogates), so writing the string back yields the same bytes.
 */
final class GgufStrings {
    private static final char ESCAPE_BASE = 0xDC00;

    private GgufStrings() {
    }

    static String decode(byte[] b) {
        int i = 0;
        boolean ascii = true;
        while (i < b.length) {
            if (b[i] >= 0) {
                i++;
                continue;
            }
            ascii = false;
            int n = validSequenceLength(b, i);
            if (n == 0) return decodeEscaping(b);
            i += n;
        }
        return new String(b, ascii ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8);
    }

    /** Decodes valid UTF-8 sequences one by one and escapes every byte that is not part of one. */
    private static String decodeEscaping(byte[] b) {
        StringBuilder sb = new StringBuilder(b.length);
        int i = 0;
        while (i < b.length) {
            int n = validSequenceLength(b, i);
            if (n == 0) {
                sb.append((char) (ESCAPE_BASE + (b[i] & 0xff)));
                i++;
            } else {
                sb.append(new String(b, i, n, StandardCharsets.UTF_8));
                i += n;
            }
        }
        return sb.toString();
    }

    /** Length of the well-formed UTF-8 sequence starting at {@code i}, or 0 if there is none. */
    private static int validSequenceLength(byte[] b, int i) {
        int c = b[i] & 0xff;
        if (c < 0x80) return 1;
        int n;
        int lo = 0x80, hi = 0xBF; // allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) n = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F; // no surrogates
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else return 0;
        if (i + n > b.length) return 0;
        int c1 = b[i + 1] & 0xff;
        if (c1 < lo || c1 > hi) return 0;
        for (int k = 2; k < n; k++) {
            int ck = b[i + k] & 0xff;
            if (ck < 0x80 || ck > 0xBF) return 0;
        }
        return n;
    }

    /** Throws IllegalArgumentException where {@code s} has a lone surrogate outside the escape range. */
    static void check(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isSurrogate(s.charAt(i))) {
                encode(s);
                return;
            }
        }
    }

    /**
     * UTF-8 bytes of {@code s}, turning escape characters back into their bytes. A lone surrogate
     * outside the escape range has no UTF-8 form and is refused.
     */
    static byte[] encode(String s) {
        boolean plain = true;
        for (int i = 0; i < s.length(); i++) {
            if (Character.isSurrogate(s.charAt(i))) {
                plain = false;
                break;
            }
        }
        if (plain) return s.getBytes(StandardCharsets.UTF_8);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(s.length() + 16);
        int i = 0;
        while (i < s.length()) {
            char ch = s.charAt(i);
            if (Character.isHighSurrogate(ch) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                byte[] pair = s.substring(i, i + 2).getBytes(StandardCharsets.UTF_8);
                out.write(pair, 0, pair.length);
                i += 2;
            } else if (ch >= ESCAPE_BASE + 0x80 && ch <= ESCAPE_BASE + 0xFF) {
                out.write(ch - ESCAPE_BASE);
                i++;
            } else if (Character.isSurrogate(ch)) {
                throw new IllegalArgumentException("string has a lone surrogate U+" + Integer.toHexString(ch).toUpperCase()
                        + " at index " + i + ", which has no UTF-8 form");
            } else {
                int j = i;
                while (j < s.length() && !Character.isSurrogate(s.charAt(j))) j++;
                byte[] run = s.substring(i, j).getBytes(StandardCharsets.UTF_8);
                out.write(run, 0, run.length);
                i = j;
            }
        }
        return out.toByteArray();
    }
}
