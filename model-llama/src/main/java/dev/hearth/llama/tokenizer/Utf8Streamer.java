package dev.hearth.llama.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns token bytes, given one token at a time, into text without splitting characters: a
 * multi-byte UTF-8 character whose bytes are spread over several tokens (byte-fallback tokens
 * {@code <0xE2><0x9C><0x85>}, or byte-level BPE pieces of an emoji) is held back until complete.
 * Bytes that can never become a valid character come out as U+FFFD right away; {@link #flush()}
 * ends the stream, turning an incomplete tail into U+FFFD. Not thread-safe: one per stream.
 */
public final class Utf8Streamer {
    private byte[] pending = new byte[0];

    /** Adds {@code bytes}; returns the text of all complete characters so far not yet returned. */
    public String accept(byte[] bytes) {
        byte[] all;
        if (pending.length == 0) {
            all = bytes;
        } else {
            all = Arrays.copyOf(pending, pending.length + bytes.length);
            System.arraycopy(bytes, 0, all, pending.length, bytes.length);
        }
        int keep = incompleteTail(all);
        pending = Arrays.copyOfRange(all, all.length - keep, all.length);
        return new String(all, 0, all.length - keep, StandardCharsets.UTF_8);
    }

    /** Ends the stream: any held-back bytes come out, an incomplete character as U+FFFD. */
    public String flush() {
        String s = new String(pending, StandardCharsets.UTF_8);
        pending = new byte[0];
        return s;
    }

    /** Whether bytes are held back waiting for the rest of a character. */
    public boolean hasPending() {
        return pending.length > 0;
    }

    /**
     * The length of the tail of {@code b} that is the start of a UTF-8 character still missing
     * bytes and that could still become valid; 0 if the bytes end on a character boundary.
     */
    static int incompleteTail(byte[] b) {
        int n = b.length;
        for (int back = 1; back <= Math.min(3, n); back++) {
            int lead = b[n - back] & 0xFF;
            if ((lead & 0xC0) == 0x80) continue; // a continuation byte: look further back
            int need = lead >= 0xC2 && lead <= 0xDF ? 2 : lead >= 0xE0 && lead <= 0xEF ? 3 : lead >= 0xF0 && lead <= 0xF4 ? 4 : 0;
            if (need <= back) return 0; // ASCII, complete, or an invalid lead byte
            if (back >= 2 && !validSecond(lead, b[n - back + 1] & 0xFF)) return 0;
            return back;
        }
        return 0;
    }

    /** The second byte's range, which excludes overlong forms, surrogates and code points past U+10FFFF. */
    private static boolean validSecond(int lead, int second) {
        return switch (lead) {
            case 0xE0 -> second >= 0xA0 && second <= 0xBF;
            case 0xED -> second >= 0x80 && second <= 0x9F;
            case 0xF0 -> second >= 0x90 && second <= 0xBF;
            case 0xF4 -> second >= 0x80 && second <= 0x8F;
            default -> second >= 0x80 && second <= 0xBF;
        };
    }
}
