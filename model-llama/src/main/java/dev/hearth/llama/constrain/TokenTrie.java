package dev.hearth.llama.constrain;

import dev.hearth.llama.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The byte strings of a vocabulary's tokens as a trie in preorder, so that a walk with a
 * {@link MatchState} skips a whole subtree where a prefix is refused. Also, per token, how many
 * plain JSON-string characters it is made of (a trailing incomplete UTF-8 character counts as
 * one), or -1 if it holds anything else: inside a string those tokens need no walk. Built once
 * per tokenizer.
 */
final class TokenTrie {
    private static final Map<Tokenizer, TokenTrie> CACHE = Collections.synchronizedMap(new WeakHashMap<>());

    final int vocab;
    /** Preorder nodes (the root excluded): the byte, the depth (1 for a first byte), the index after the subtree. */
    final byte[] nodeByte;
    final int[] nodeDepth;
    final int[] nodeSkip;
    /** Tokens ending at a node: the first, then a chain through {@link #nextSame}. */
    final int[] nodeToken;
    final int[] nextSame;
    final int maxDepth;
    final int[] plainLength;
    /** Tokens whose bytes end inside a UTF-8 character. */
    final boolean[] endsInsideCharacter;
    /** Tokens with bytes that are not all plain string characters. */
    final int[] notPlain;
    final byte[][] bytes;
    private final Map<ClassKey, ClassRuns> runs = new ConcurrentHashMap<>();
    private static final int MAX_CLASSES = 64;

    private record ClassKey(int[] ranges) {
        @Override
        public boolean equals(Object o) {
            return o instanceof ClassKey k && Arrays.equals(k.ranges, ranges);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(ranges);
        }
    }

    /**
     * For a set of code points: per token, how many whole characters it is when all of them are in
     * the set (else -1), and the tokens that are not (with bytes).
     */
    record ClassRuns(int[] length, int[] others) {
    }

    /** The runs of a set of code points, computed once per set (null when too many sets were asked for). */
    ClassRuns runs(int[] ranges) {
        ClassKey key = new ClassKey(ranges);
        ClassRuns r = runs.get(key);
        if (r != null || runs.size() >= MAX_CLASSES) return r;
        Grammar.Chars set = new Grammar.Chars(ranges);
        int[] length = new int[vocab];
        List<Integer> others = new ArrayList<>();
        for (int t = 0; t < vocab; t++) {
            length[t] = classLength(bytes[t], set);
            if (length[t] < 0 && bytes[t].length > 0) others.add(t);
        }
        r = new ClassRuns(length, others.stream().mapToInt(Integer::intValue).toArray());
        runs.putIfAbsent(key, r);
        return r;
    }

    /** Whole characters in {@code b} when they are all valid UTF-8 and in {@code set}, else -1. */
    private static int classLength(byte[] b, Grammar.Chars set) {
        if (b.length == 0) return -1;
        int chars = 0;
        for (int i = 0; i < b.length; ) {
            int c = b[i] & 0xFF, n, cp;
            if (c < 0x80) { n = 0; cp = c; }
            else if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; }
            else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; }
            else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; }
            else return -1;
            if (i + n >= b.length) return -1; // incomplete
            for (int j = 1; j <= n; j++) {
                int cc = b[i + j] & 0xFF;
                if ((cc & 0xC0) != 0x80) return -1;
                cp = cp << 6 | (cc & 0x3F);
            }
            int smallest = n == 0 ? 0 : n == 1 ? 0x80 : n == 2 ? 0x800 : 0x10000;
            if (cp < smallest || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || !set.contains(cp)) return -1;
            i += n + 1;
            chars++;
        }
        return chars;
    }

    static TokenTrie of(Tokenizer tok) {
        synchronized (CACHE) {
            return CACHE.computeIfAbsent(tok, TokenTrie::new);
        }
    }

    private TokenTrie(Tokenizer tok) {
        vocab = tok.vocabSize();
        bytes = new byte[vocab][];
        List<Integer> ids = new ArrayList<>();
        for (int t = 0; t < vocab; t++) {
            bytes[t] = tok.isControl(t) ? new byte[0] : tok.tokenBytes(t);
            if (bytes[t].length > 0) ids.add(t);
        }
        ids.sort((a, b) -> Arrays.compareUnsigned(bytes[a], bytes[b]));
        int capacity = 0;
        for (int t : ids) capacity += bytes[t].length;
        byte[] nb = new byte[capacity];
        int[] nd = new int[capacity];
        int[] nt = new int[capacity];
        Arrays.fill(nt, -1);
        nextSame = new int[vocab];
        Arrays.fill(nextSame, -1);
        int n = 0, depthMax = 0;
        byte[] prev = new byte[0];
        int[] pathNode = new int[1];
        for (int t : ids) {
            byte[] b = bytes[t];
            int common = Arrays.mismatch(prev, b);
            if (common < 0) common = b.length;
            if (pathNode.length < b.length + 1) pathNode = Arrays.copyOf(pathNode, b.length * 2 + 1);
            for (int d = common; d < b.length; d++) {
                nb[n] = b[d];
                nd[n] = d + 1;
                pathNode[d + 1] = n++;
            }
            int at = pathNode[b.length];
            nextSame[t] = nt[at];
            nt[at] = t;
            depthMax = Math.max(depthMax, b.length);
            prev = b;
        }
        nodeByte = Arrays.copyOf(nb, n);
        nodeDepth = Arrays.copyOf(nd, n);
        nodeToken = Arrays.copyOf(nt, n);
        nodeSkip = new int[n];
        // a node's subtree ends at the next node no deeper than it
        int[] open = new int[depthMax + 2];
        int top = 0;
        for (int i = 0; i < n; i++) {
            while (top > 0 && nodeDepth[open[top - 1]] >= nodeDepth[i]) nodeSkip[open[--top]] = i;
            open[top++] = i;
        }
        while (top > 0) nodeSkip[open[--top]] = n;
        maxDepth = depthMax;
        plainLength = new int[vocab];
        endsInsideCharacter = new boolean[vocab];
        List<Integer> other = new ArrayList<>();
        for (int t = 0; t < vocab; t++) {
            plainLength[t] = plainLength(bytes[t]);
            endsInsideCharacter[t] = endsInsideCharacter(bytes[t]);
            if (plainLength[t] < 0 && bytes[t].length > 0) other.add(t);
        }
        notPlain = other.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Whether the last character of {@code b} is incomplete (its lead byte asks for more bytes than follow). */
    static boolean endsInsideCharacter(byte[] b) {
        for (int i = b.length - 1, back = 0; i >= 0 && back < 4; i--, back++) {
            int c = b[i] & 0xFF;
            if ((c & 0xC0) == 0x80) continue;
            int n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
            return b.length - i < n;
        }
        return false;
    }

    /** Plain string characters in {@code b} (an incomplete last one counts), or -1. */
    static int plainLength(byte[] b) {
        if (b.length == 0) return -1;
        int chars = 0;
        for (int i = 0; i < b.length; ) {
            int c = b[i] & 0xFF, n, cp;
            if (c < 0x80) {
                if (!Grammar.StringBody.plain(c)) return -1;
                i++;
                chars++;
                continue;
            }
            if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; }
            else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; }
            else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; }
            else return -1;
            int j = 1;
            for (; j <= n && i + j < b.length; j++) {
                int cc = b[i + j] & 0xFF;
                if ((cc & 0xC0) != 0x80) return -1;
                cp = cp << 6 | (cc & 0x3F);
            }
            if (j <= n) {
                // an incomplete last character: accept when some completion is a plain character
                int r = n + 1 - j;
                int lo = cp << (6 * r), hi = lo | ((1 << (6 * r)) - 1);
                lo = Math.max(lo, n == 1 ? 0x80 : n == 2 ? 0x800 : 0x10000);
                hi = Math.min(hi, 0x10FFFF);
                if (lo > hi || (lo >= 0xD800 && hi <= 0xDFFF)) return -1;
                chars++;
                break;
            }
            if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || !Grammar.StringBody.plain(cp)) return -1;
            i += n + 1;
            chars++;
        }
        return chars;
    }
}
