package dev.hearth.llama.tokenizer;

import dev.hearth.runtime.HearthException;

import java.nio.charset.StandardCharsets;
import java.util.PriorityQueue;

/**
 * SentencePiece-style BPE as llama.cpp's llm_tokenizer_spm runs it: the text (already prefixed
 * with a space where wanted and with ' ' written as '▁') starts as one symbol per character; the
 * adjacent pair whose joined text is a token with the highest score is merged (ties: leftmost),
 * over and over through a priority queue. Symbols left that are not tokens become byte tokens
 * {@code <0xXX>} of their UTF-8 bytes. Checked against llama.cpp's test vectors for the LLaMA
 * 2 vocabulary and its prompt tokens for stories260K.
 */
final class SpmEncoder {
    private final Vocabulary vocab;

    SpmEncoder(Vocabulary vocab) {
        this.vocab = vocab;
    }

    private record Bigram(int left, int right, float score, int size) {
    }

    /** Highest score first, then leftmost; scores compare as C++ floats do (-0.0 equals 0.0). */
    private static final java.util.Comparator<Bigram> ORDER = (a, b) -> {
        if (a.score > b.score) return -1;
        if (a.score < b.score) return 1;
        return Integer.compare(a.left, b.left);
    };

    void encode(String text, IntList out) {
        int n = text.codePointCount(0, text.length());
        if (n == 0) return;
        int[] start = new int[n], len = new int[n], prev = new int[n], next = new int[n];
        for (int i = 0, pos = 0; i < n; i++) {
            int cp = text.codePointAt(pos);
            start[i] = pos;
            len[i] = Character.charCount(cp);
            pos += len[i];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>(ORDER);
        for (int i = 1; i < n; i++) tryAdd(text, start, len, i - 1, i, queue);
        while (!queue.isEmpty()) {
            Bigram b = queue.poll();
            int l = b.left, r = b.right;
            // stale: one side was merged away or grew since the pair was queued
            if (len[l] == 0 || len[r] == 0 || len[l] + len[r] != b.size) continue;
            len[l] += len[r];
            len[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) prev[next[r]] = l;
            tryAdd(text, start, len, prev[l], l, queue);
            tryAdd(text, start, len, l, next[l], queue);
        }
        for (int i = 0; i != -1; i = next[i]) {
            int id = vocab.index.find(text, start[i], start[i] + len[i]);
            if (id != Vocabulary.NONE) {
                out.add(id);
                continue;
            }
            String piece = text.substring(start[i], start[i] + len[i]);
            for (byte b : piece.getBytes(StandardCharsets.UTF_8)) out.add(byteToken(b & 0xFF));
        }
    }

    private void tryAdd(String text, int[] start, int[] len, int left, int right, PriorityQueue<Bigram> queue) {
        if (left == -1 || right == -1) return;
        int size = len[left] + len[right];
        int id = vocab.index.find(text, start[left], start[left] + size);
        if (id == Vocabulary.NONE) return;
        queue.add(new Bigram(left, right, vocab.scores[id], size));
    }

    private int byteToken(int b) {
        int id = vocab.byteTokens[b];
        if (id != Vocabulary.NONE) return id;
        if (vocab.unk != Vocabulary.NONE) return vocab.unk;
        throw new HearthException(String.format("the vocabulary has no byte token <0x%02X> for a character it cannot spell", b));
    }
}
