package dev.hearth.llama.tokenizer;

import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-level BPE as llama.cpp's llm_tokenizer_bpe runs it: the pre-tokenizer splits the text into
 * words; each word's UTF-8 bytes become GPT-2 byte characters, one symbol per byte; with
 * ignore_merges (Llama 3) a word that is itself a token is taken whole; otherwise the adjacent
 * pair with the lowest merge rank in tokenizer.ggml.merges is merged (ties: leftmost) until no
 * pair has a rank. Results are cached per word. Checked against llama.cpp's test vectors for the
 * Llama 3 vocabulary.
 */
final class BpeEncoder {
    private static final int CACHE_LIMIT = 1 << 16;

    private final Vocabulary vocab;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    BpeEncoder(Vocabulary vocab) {
        this.vocab = vocab;
    }

    void encode(String text, IntList out) {
        for (String word : vocab.preTokenizer.split(text)) out.addAll(word(word));
    }

    private int[] word(String word) {
        int[] ids = cache.get(word);
        if (ids == null) {
            ids = merge(ByteLevel.encode(word));
            if (cache.size() >= CACHE_LIMIT) cache.clear();
            cache.put(word, ids);
        }
        return ids;
    }

    private record Bigram(int left, int right, int rank, int leftLen, int rightLen) {
    }

    private static final java.util.Comparator<Bigram> ORDER = (a, b) -> {
        int c = Integer.compare(a.rank, b.rank);
        return c != 0 ? c : Integer.compare(a.left, b.left);
    };

    /** Merges the byte characters of one word into tokens. */
    private int[] merge(String word) {
        if (vocab.ignoreMerges) {
            int whole = vocab.id(word);
            if (whole != Vocabulary.NONE) return new int[]{whole};
        }
        int n = word.length();
        int[] len = new int[n], prev = new int[n], next = new int[n];
        for (int i = 0; i < n; i++) {
            len[i] = 1;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>(ORDER);
        for (int i = 1; i < n; i++) tryAdd(word, len, i - 1, i, queue);
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
            String piece = word.substring(i, i + len[i]);
            int id = vocab.id(piece);
            if (id != Vocabulary.NONE) {
                out.add(id);
                continue;
            }
            // as llama.cpp: fall back to single-byte tokens, which exist only for ASCII characters
            for (int k = 0; k < piece.length(); k++) {
                char c = piece.charAt(k);
                int single = c < 0x80 ? vocab.id(String.valueOf(c)) : Vocabulary.NONE;
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
}
