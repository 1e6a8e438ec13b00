package dev.hearth.llama.tokenizer;

/**
 * BPE merge ranks keyed by the token ids of the two sides: pair (left, right) gives the rank of
 * the merge line "left right" in tokenizer.ggml.merges and the id of the merged token. Used when
 * both sides and the result of every merge line are tokens, as in real vocabularies; otherwise
 * the encoder falls back to looking pairs up by text. Open addressing over longs, no boxing.
 */
final class MergeTable {
    private static final long EMPTY = -1L;

    private final long[] keys;
    private final long[] values;
    private final int mask;

    private MergeTable(int entries) {
        int size = Integer.highestOneBit(Math.max(4, entries) * 2) * 2;
        keys = new long[size];
        values = new long[size];
        java.util.Arrays.fill(keys, EMPTY);
        mask = size - 1;
    }

    /** The table for these merge lines, or null if some line's sides or result are not tokens. */
    static MergeTable build(Iterable<String> lines, int count, TokenIndex index) {
        MergeTable t = new MergeTable(count);
        int rank = 0;
        for (String line : lines) {
            int sp = line.indexOf(' ', 1);
            if (sp > 0) {
                int left = index.find(line, 0, sp);
                int right = index.find(line, sp + 1, line.length());
                int merged = index.find(line.substring(0, sp) + line.substring(sp + 1));
                if (left < 0 || right < 0 || merged < 0) return null;
                t.putIfAbsent(key(left, right), ((long) rank << 32) | merged);
            }
            rank++;
        }
        return t;
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private static int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29));
    }

    private void putIfAbsent(long key, long value) {
        int i = slot(key) & mask;
        while (keys[i] != EMPTY) {
            if (keys[i] == key) return;
            i = (i + 1) & mask;
        }
        keys[i] = key;
        values[i] = value;
    }

    /** (rank << 32 | merged id) for the pair, or -1 if the pair does not merge. */
    long get(int left, int right) {
        long key = key(left, right);
        for (int i = slot(key) & mask; keys[i] != EMPTY; i = (i + 1) & mask) {
            if (keys[i] == key) return values[i];
        }
        return -1;
    }
}
