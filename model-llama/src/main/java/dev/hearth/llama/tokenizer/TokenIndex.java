package dev.hearth.llama.tokenizer;

/**
 * Token text to id, looked up by a region of a string without making a substring (the
 * tokenizers' inner loops ask for every adjacent pair of symbols). Open addressing with linear
 * probing over a power-of-two table at most half full; each slot keeps its text's hash so that
 * most probes end without comparing text.
 */
final class TokenIndex {
    private final String[] texts;
    private final int[] slots; // token id + 1; 0 is empty
    private final int[] hashes;
    private final int shift;
    private final int mask;
    /** The ids of the first text found twice, or null. */
    final int[] duplicate;

    TokenIndex(String[] texts) {
        this.texts = texts;
        int bits = 32 - Integer.numberOfLeadingZeros(Math.max(4, texts.length) * 2 - 1);
        int size = 1 << bits;
        slots = new int[size];
        hashes = new int[size];
        shift = 32 - bits;
        mask = size - 1;
        int[] dup = null;
        for (int id = 0; id < texts.length; id++) {
            String t = texts[id];
            int h = hash(t, 0, t.length());
            int i = h >>> shift;
            while (slots[i] != 0) {
                if (hashes[i] == h && texts[slots[i] - 1].equals(t)) break;
                i = (i + 1) & mask;
            }
            if (slots[i] == 0) {
                slots[i] = id + 1;
                hashes[i] = h;
            } else if (dup == null) {
                dup = new int[]{slots[i] - 1, id};
            }
        }
        duplicate = dup;
    }

    /** The id of the token whose text is {@code s[from, to)}, or -1. */
    int find(String s, int from, int to) {
        int h = hash(s, from, to);
        int len = to - from;
        for (int i = h >>> shift; slots[i] != 0; i = (i + 1) & mask) {
            if (hashes[i] != h) continue;
            String t = texts[slots[i] - 1];
            if (t.length() == len && t.regionMatches(0, s, from, len)) return slots[i] - 1;
        }
        return -1;
    }

    int find(String s) {
        return find(s, 0, s.length());
    }

    private static int hash(String s, int from, int to) {
        int h = 0;
        for (int i = from; i < to; i++) h = 31 * h + s.charAt(i);
        return (h ^ (h >>> 16)) * 0x9E3779B9;
    }
}
