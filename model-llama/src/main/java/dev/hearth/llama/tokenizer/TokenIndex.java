package dev.hearth.llama.tokenizer;

/**
 * Token text to id, looked up by a region of a string without making a substring (the
 * tokenizers' inner loops ask for every adjacent pair of symbols). Open addressing with linear
 * probing over a power-of-two table at most half full.
 */
final class TokenIndex {
    private final String[] texts;
    private final int[] slots; // token id + 1; 0 is empty
    private final int mask;
    /** The ids of the first text found twice, or null. */
    final int[] duplicate;

    TokenIndex(String[] texts) {
        this.texts = texts;
        int size = Integer.highestOneBit(Math.max(4, texts.length) * 2) * 2;
        slots = new int[size];
        mask = size - 1;
        int[] dup = null;
        for (int id = 0; id < texts.length; id++) {
            String t = texts[id];
            int i = hash(t, 0, t.length()) & mask;
            while (slots[i] != 0) {
                if (texts[slots[i] - 1].equals(t)) break;
                i = (i + 1) & mask;
            }
            if (slots[i] == 0) slots[i] = id + 1;
            else if (dup == null) dup = new int[]{slots[i] - 1, id};
        }
        duplicate = dup;
    }

    /** The id of the token whose text is {@code s[from, to)}, or -1. */
    int find(String s, int from, int to) {
        int len = to - from;
        for (int i = hash(s, from, to) & mask; slots[i] != 0; i = (i + 1) & mask) {
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
        return h ^ (h >>> 15) ^ (h >>> 7);
    }
}
