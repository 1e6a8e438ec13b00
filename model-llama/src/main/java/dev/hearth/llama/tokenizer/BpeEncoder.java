package dev.hearth.llama.tokenizer;

import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-level BPE as llama.cpp's llm_tokenizer_bpe runs it: the pre-tokenizer splits the text into
 * words; each word's UTF-8 bytes become GPT-2 byte characters, one symbol per byte; with
 * ignore_merges (Llama 3) a word that is itself a token is taken whole; otherwise the adjacent
 * pair with the lowest merge rank in tokenizer.ggml.merges is merged (ties: leftmost) until no
 * pair has a rank. Symbols are tracked by token id where the merge table allows (every merge line
 * made of tokens), by text otherwise; both give the same result. Results are cached per word.
 * With {@link Vocabulary#escapeWhitespaces} (Gemma 4) the same loop runs SentencePiece-style: on
 * the raw text with ' ' written as '▁', one symbol per code point, byte tokens {@code <0xXX>} for
 * what no token spells. Checked against llama.cpp's test vectors for the Llama 3, Qwen2, Command R
 * and Gemma 4 vocabularies.
 */
final class BpeEncoder {
    private static final int CACHE_LIMIT = 1 << 16;
    /** Longer words are not cached (Gemma 4's words are whole lines). */
    private static final int CACHED_WORD_LIMIT = 256;

    private final Vocabulary vocab;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();
    /** Token id of each byte's single-character token, -1 where there is none. */
    private final int[] byteIds = new int[256];
    /** Token id of each byte's token {@code <0xXX>}, -1 where there is none (for {@link Vocabulary#escapeWhitespaces}). */
    private final int[] rawByteIds = new int[256];

    BpeEncoder(Vocabulary vocab) {
        this.vocab = vocab;
        for (int b = 0; b < 256; b++) {
            byteIds[b] = vocab.id(String.valueOf(ByteLevel.charOf(b)));
            rawByteIds[b] = vocab.id(String.format("<0x%02X>", b));
        }
    }

    void encode(String text, IntList out) {
        encode(text, out, Integer.MAX_VALUE);
    }

    /** As {@link #encode(String, IntList)}, stopping after the word that brings {@code out} to {@code stopAt} ids or more. */
    void encode(String text, IntList out, int stopAt) {
        if (vocab.escapeWhitespaces) text = text.replace(' ', '\u2581');
        int[] cps = PreTokenizer.codepoints(text);
        IntList lengths = vocab.preTokenizer.wordLengths(cps);
        int start = 0;
        for (int i = 0; i < lengths.size() && out.size() < stopAt; i++) {
            int n = lengths.get(i);
            out.addAll(word(new String(cps, start, n)));
            start += n;
        }
    }

    private int[] word(String word) {
        int[] ids = cache.get(word);
        if (ids == null) {
            ids = vocab.escapeWhitespaces ? mergeRaw(word) : merge(ByteLevel.encode(word));
            if (word.length() <= CACHED_WORD_LIMIT) {
                if (cache.size() >= CACHE_LIMIT) cache.clear();
                cache.put(word, ids);
            }
        }
        return ids;
    }

    /**
     * SentencePiece-style BPE (Gemma 4): one symbol per code point of the raw text, merged by
     * rank as for byte-level BPE; a symbol left that is not a token becomes the byte tokens
     * {@code <0xXX>} of its UTF-8 bytes. A run of line feeds that is itself a token is taken whole.
     */
    private int[] mergeRaw(String word) {
        if (vocab.ignoreMerges || isLineFeeds(word)) {
            int whole = vocab.id(word);
            if (whole != Vocabulary.NONE) return new int[]{whole};
        }
        return vocab.merges != null ? mergeCodepointsByIds(word) : mergeByText(word, true);
    }

    private static boolean isLineFeeds(String word) {
        for (int i = 0; i < word.length(); i++) if (word.charAt(i) != '\n') return false;
        return true;
    }

    /**
     * Symbols start at each code point: {@code len} its length in chars (0 inside a code point and
     * for symbols merged away), {@code prev}/{@code next} the neighbouring symbols' starts.
     */
    private static void initSymbols(String word, boolean codepoints, int[] len, int[] prev, int[] next) {
        int n = word.length(), last = -1;
        for (int i = 0; i < n; ) {
            int c = codepoints ? Character.charCount(word.codePointAt(i)) : 1;
            if (i + c > n) c = n - i;
            len[i] = c;
            prev[i] = last;
            if (last >= 0) next[last] = i;
            last = i;
            i += c;
        }
        if (last >= 0) next[last] = -1;
    }

    /** {@link #mergeByIds} over code points; a code point that is not a token takes part in no merge. */
    private int[] mergeCodepointsByIds(String word) {
        int n = word.length();
        int[] id = new int[n], len = new int[n], next = new int[n], prev = new int[n];
        initSymbols(word, true, len, prev, next);
        LongHeap queue = new LongHeap(n);
        for (int i = 0; i < n; i += len[i]) id[i] = vocab.index.find(word, i, i + len[i]);
        for (int i = 0; next[i] >= 0; i = next[i]) pushIfTokens(queue, id, i, next[i]);
        while (!queue.isEmpty()) {
            long top = queue.pop();
            int l = (int) top;
            int rank = (int) (top >>> 32);
            int r = next[l];
            if (len[l] == 0 || r < 0 || id[l] < 0 || id[r] < 0) continue;
            long m = vocab.merges.get(id[l], id[r]);
            if (m < 0 || (int) (m >>> 32) != rank) continue;
            id[l] = (int) m;
            len[l] += len[r];
            len[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) prev[next[r]] = l;
            if (prev[l] >= 0) pushIfTokens(queue, id, prev[l], l);
            if (next[l] >= 0) pushIfTokens(queue, id, l, next[l]);
        }
        IntList out = new IntList(4);
        for (int i = 0; i >= 0; i = next[i]) {
            if (id[i] >= 0) out.add(id[i]);
            else addRawBytes(word, i, i + len[i], out);
        }
        return out.toArray();
    }

    private void pushIfTokens(LongHeap queue, int[] id, int left, int right) {
        if (id[left] >= 0 && id[right] >= 0) push(queue, id, left, right);
    }

    /** The byte tokens {@code <0xXX>} of the UTF-8 bytes of {@code word[from, to)}; bytes without one are left out, as llama.cpp does. */
    private void addRawBytes(String word, int from, int to, IntList out) {
        for (byte b : Vocabulary.utf8(word.substring(from, to))) {
            int t = rawByteIds[b & 0xFF];
            if (t != Vocabulary.NONE) out.add(t);
        }
    }

    /** Merges the byte characters of one word into tokens. */
    private int[] merge(String word) {
        if (vocab.ignoreMerges) {
            int whole = vocab.id(word);
            if (whole != Vocabulary.NONE) return new int[]{whole};
        }
        if (vocab.merges != null) {
            int[] ids = mergeByIds(word);
            if (ids != null) return ids;
        }
        return mergeByText(word, false);
    }

    /**
     * The merge loop on token ids. The queue holds (rank << 32 | left symbol); merge ranks are
     * unique per pair, so an entry is current exactly when the pair now at its left symbol still
     * has its rank. Null if some byte has no single-character token.
     */
    private int[] mergeByIds(String word) {
        int n = word.length();
        int[] id = new int[n], next = new int[n], prev = new int[n];
        for (int i = 0; i < n; i++) {
            int b = ByteLevel.byteOf(word.charAt(i));
            if (b < 0 || byteIds[b] < 0) return null;
            id[i] = byteIds[b];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        LongHeap queue = new LongHeap(n);
        for (int i = 0; i + 1 < n; i++) push(queue, id, i, i + 1);
        while (!queue.isEmpty()) {
            long top = queue.pop();
            int l = (int) top;
            int rank = (int) (top >>> 32);
            int r = next[l];
            if (id[l] < 0 || r < 0) continue;
            long m = vocab.merges.get(id[l], id[r]);
            if (m < 0 || (int) (m >>> 32) != rank) continue;
            id[l] = (int) m;
            id[r] = -1;
            next[l] = next[r];
            if (next[r] >= 0) prev[next[r]] = l;
            if (prev[l] >= 0) push(queue, id, prev[l], l);
            if (next[l] >= 0) push(queue, id, l, next[l]);
        }
        IntList out = new IntList(4);
        for (int i = 0; i >= 0; i = next[i]) out.add(id[i]);
        return out.toArray();
    }

    private void push(LongHeap queue, int[] id, int left, int right) {
        long m = vocab.merges.get(id[left], id[right]);
        if (m >= 0) queue.push((m & 0xFFFFFFFF00000000L) | left);
    }

    private record Bigram(int left, int right, int rank, int leftLen, int rightLen) {
    }

    private static final java.util.Comparator<Bigram> ORDER = (a, b) -> {
        int c = Integer.compare(a.rank, b.rank);
        return c != 0 ? c : Integer.compare(a.left, b.left);
    };

    /**
     * The merge loop on symbol texts, for vocabularies whose merge lines are not all made of
     * tokens; the first symbols are the word's characters, or with {@code raw} its code points.
     */
    private int[] mergeByText(String word, boolean raw) {
        int n = word.length();
        int[] len = new int[n], prev = new int[n], next = new int[n];
        initSymbols(word, raw, len, prev, next);
        PriorityQueue<Bigram> queue = new PriorityQueue<>(ORDER);
        for (int i = 0; next[i] >= 0; i = next[i]) tryAdd(word, len, i, next[i], queue);
        while (!queue.isEmpty()) {
            Bigram b = queue.poll();
            int l = b.left, r = b.right;
            // stale: the pair's texts changed since it was queued (symbols only grow, so lengths tell)
            if (len[l] == 0 || len[r] == 0 || len[l] != b.leftLen || len[r] != b.rightLen) continue;
            len[l] += len[r];
            len[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) prev[next[r]] = l;
            tryAdd(word, len, prev[l], l, queue);
            tryAdd(word, len, l, next[l], queue);
        }
        IntList out = new IntList(4);
        for (int i = 0; i < n; i++) {
            if (len[i] == 0) continue;
            int id = vocab.index.find(word, i, i + len[i]);
            if (id != Vocabulary.NONE) {
                out.add(id);
                continue;
            }
            if (raw) {
                addRawBytes(word, i, i + len[i], out);
                continue;
            }
            // as llama.cpp: fall back to single-byte tokens, which exist only for ASCII characters
            for (int k = i; k < i + len[i]; k++) {
                char c = word.charAt(k);
                int single = c < 0x80 ? vocab.index.find(word, k, k + 1) : Vocabulary.NONE;
                if (single != Vocabulary.NONE) out.add(single);
            }
        }
        return out.toArray();
    }

    private void tryAdd(String word, int[] len, int left, int right, PriorityQueue<Bigram> queue) {
        if (left == -1 || right == -1) return;
        // symbol i starts at character i of the word: it only ever absorbs the symbols to its right
        String key = word.substring(left, left + len[left]) + ' ' + word.substring(right, right + len[right]);
        Integer rank = vocab.mergeRanks.get(key);
        if (rank == null) return;
        queue.add(new Bigram(left, right, rank, len[left], len[right]));
    }

    /** A binary min-heap of longs. */
    private static final class LongHeap {
        private long[] a;
        private int n;

        LongHeap(int capacity) {
            a = new long[Math.max(4, capacity)];
        }

        boolean isEmpty() {
            return n == 0;
        }

        void push(long v) {
            if (n == a.length) a = java.util.Arrays.copyOf(a, n * 2);
            int i = n++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (a[parent] <= v) break;
                a[i] = a[parent];
                i = parent;
            }
            a[i] = v;
        }

        long pop() {
            long top = a[0];
            long last = a[--n];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= n) break;
                if (c + 1 < n && a[c + 1] < a[c]) c++;
                if (a[c] >= last) break;
                a[i] = a[c];
                i = c;
            }
            a[i] = last;
            return top;
        }
    }
}
