package dev.hearth.llama.tokenizer;

import dev.hearth.runtime.HearthException;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The tokenizer for a GGUF vocabulary, following llama.cpp's llama_vocab::impl::tokenize and
 * detokenize: special token texts are cut out of the input first (tokenizer_st_partition), then
 * each stretch of plain text goes to the SentencePiece or byte-level BPE encoder. For
 * SentencePiece, a stretch that starts the text or follows a special token gets a space in front
 * (add_space_prefix). Tokens with the LSTRIP/RSTRIP attribute (Phi-3's) take the whitespace
 * before/after them out of the neighbouring text.
 */
final class GgufTokenizer implements Tokenizer {
    private final Vocabulary vocab;
    private final SpmEncoder spm;
    private final BpeEncoder bpe;
    /** The most characters of text one token can stand for (its stored text is at least as long). */
    private final int maxPieceChars;

    GgufTokenizer(Vocabulary vocab) {
        this.vocab = vocab;
        int longest = 1;
        for (String t : vocab.texts) longest = Math.max(longest, t.length());
        this.maxPieceChars = longest;
        this.spm = vocab.kind == Vocabulary.Kind.SPM ? new SpmEncoder(vocab) : null;
        this.bpe = vocab.kind == Vocabulary.Kind.BPE ? new BpeEncoder(vocab) : null;
    }

    /** A piece of the input: plain text [start, end) or a special token. */
    private record Fragment(int token, int start, int end) {
        boolean isText() {
            return token < 0;
        }
    }

    @Override
    public int[] encode(String text, boolean addBos, boolean parseSpecial) {
        return encodeUpTo(text, addBos, parseSpecial, Integer.MAX_VALUE - 1);
    }

    /**
     * Stops once the ids pass {@code maxTokens}. No token spells more than {@link #maxPieceChars}
     * characters of text, so a text longer than (maxTokens + 1) times that cannot fit: only that
     * much of it is looked at. Only whitespace that tokens with LSTRIP/RSTRIP take away can make a
     * long text short in tokens; where the part looked at fits, the whole text is encoded after all.
     */
    @Override
    public int[] encode(String text, boolean addBos, boolean parseSpecial, int maxTokens) {
        if (maxTokens < 0) throw new IllegalArgumentException("maxTokens < 0");
        long bound = (long) (maxTokens + 1) * maxPieceChars;
        if (text.length() > bound) {
            int[] ids = encodeUpTo(text.substring(0, cutPoint(text, 0, bound)), addBos, parseSpecial, maxTokens);
            if (ids.length > maxTokens) return ids;
        }
        return encodeUpTo(text, addBos, parseSpecial, maxTokens);
    }

    @Override
    public int maxTokenChars() {
        return maxPieceChars;
    }

    /** {@code from + length} moved back so as not to split a surrogate pair. */
    private static int cutPoint(String text, int from, long length) {
        int end = (int) Math.min(text.length(), from + length);
        if (end > from && end < text.length() && Character.isHighSurrogate(text.charAt(end - 1))) end--;
        return end;
    }

    /** The ids of {@code text}, stopping (with maxTokens + 1 of them) as soon as there are more than {@code maxTokens}. */
    private int[] encodeUpTo(String text, boolean addBos, boolean parseSpecial, int maxTokens) {
        int over = maxTokens + 1;
        IntList out = new IntList((int) Math.min(text.length() / 3 + 4, over + 1L));
        List<Fragment> fragments = partition(text, parseSpecial);
        if (addBos && vocab.addBos) out.add(vocab.bos);
        boolean afterSpecial = true;
        for (Fragment f : fragments) {
            if (out.size() >= over) break;
            if (!f.isText()) {
                out.add(f.token);
                afterSpecial = true;
                continue;
            }
            // a stretch too long for the ids left is cut: what is left of it still gives more than enough
            int end = cutPoint(text, f.start, (long) (over - out.size()) * maxPieceChars);
            String piece = text.substring(f.start, Math.min(end, f.end));
            if (spm != null) {
                if (vocab.addSpacePrefix && afterSpecial) piece = " " + piece;
                spm.encode(piece.replace(' ', '\u2581'), out);
            } else {
                bpe.encode(piece, out, over);
            }
            afterSpecial = false;
        }
        if (out.size() < over && addBos && vocab.addEos) out.add(vocab.eos);
        int[] ids = out.toArray();
        return ids.length > over ? java.util.Arrays.copyOf(ids, over) : ids;
    }

    /**
     * Cuts the texts of special tokens out of {@code text}, longest tokens first. Without
     * {@code parseSpecial} only user-defined tokens are cut out; control and unknown ones stay text.
     */
    private List<Fragment> partition(String text, boolean parseSpecial) {
        List<Fragment> fragments = new ArrayList<>();
        if (text.isEmpty()) return fragments;
        fragments.add(new Fragment(-1, 0, text.length()));
        for (int id : vocab.specialTokens) {
            if (!parseSpecial && vocab.has(id, TokenAttr.CONTROL | TokenAttr.UNKNOWN)) continue;
            String special = vocab.texts[id];
            int hit = text.indexOf(special);
            if (hit < 0) continue;
            boolean lstrip = vocab.has(id, TokenAttr.LSTRIP), rstrip = vocab.has(id, TokenAttr.RSTRIP);
            List<Fragment> next = new ArrayList<>(fragments.size() + 2);
            for (Fragment f : fragments) {
                if (!f.isText()) {
                    next.add(f);
                    continue;
                }
                int from = f.start;
                while (true) {
                    if (hit >= 0 && hit < from) hit = text.indexOf(special, from);
                    if (hit < 0 || hit + special.length() > f.end) break;
                    int leftEnd = hit;
                    if (lstrip) while (leftEnd > from && isSpace(text.charAt(leftEnd - 1))) leftEnd--;
                    if (leftEnd > from) next.add(new Fragment(-1, from, leftEnd));
                    next.add(new Fragment(id, 0, 0));
                    from = hit + special.length();
                    if (rstrip) while (from < f.end && isSpace(text.charAt(from))) from++;
                }
                if (from < f.end) next.add(new Fragment(-1, from, f.end));
            }
            fragments = next;
        }
        return fragments;
    }

    /** C's isspace: the whitespace llama.cpp strips around tokens with the LSTRIP/RSTRIP attribute. */
    private static boolean isSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }

    @Override
    public byte[] decodeBytes(int[] ids, boolean removeSpecial, boolean unparseSpecial) {
        int from = 0, to = ids.length;
        boolean removeSpace = vocab.addSpacePrefix;
        if (removeSpecial && vocab.addBos && to > 0 && ids[0] == vocab.bos) {
            removeSpace = false;
            from++;
        }
        if (removeSpecial && vocab.addEos && to > from && ids[to - 1] == vocab.eos) to--;
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(16, (to - from) * 4));
        for (int i = from; i < to; i++) {
            byte[] piece = tokenBytes(ids[i], unparseSpecial);
            int skip = removeSpace && piece.length > 0 && piece[0] == ' ' ? 1 : 0;
            out.write(piece, skip, piece.length - skip);
            removeSpace = false;
        }
        byte[] text = out.toByteArray();
        return vocab.cleanSpaces ? cleanSpaces(text) : text;
    }

    /**
     * llama.cpp's clean_up_tokenization_spaces, three passes in place: drop the space before
     * {@code ? ! . ,}; turn " ' " into "'"; drop the space before 's, 'm, 're and 've.
     */
    static byte[] cleanSpaces(byte[] text) {
        int total = text.length;

        int total1 = total;
        total = total > 0 ? 1 : 0;
        for (int i = 1; i < total1; i++) {
            byte x = text[i];
            if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) total--;
            text[total++] = x;
        }

        int total2 = total;
        total = total > 0 ? 1 : 0;
        for (int i = 1; i < total2; i++) {
            byte x = text[i];
            if (x == '\'' && i + 1 < total2 && text[i - 1] == ' ' && text[i + 1] == ' ') {
                total--;
                text[++i] = 0;
            }
            text[total++] = x;
        }

        int total3 = total;
        total = total > 0 ? 1 : 0;
        for (int i = 1; i < total3; i++) {
            byte x = text[i];
            if (text[i - 1] == ' ' && x == '\'' && i + 1 < total3) {
                byte x1 = text[i + 1];
                if (x1 == 's' || x1 == 'm') {
                    total--;
                } else if (x1 != 't' && x1 != 'd' && i + 2 < total3) {
                    byte x2 = text[i + 2];
                    if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) total--;
                }
            }
            text[total++] = x;
        }
        return java.util.Arrays.copyOf(text, total);
    }

    @Override
    public byte[] tokenBytes(int id, boolean special) {
        check(id);
        return vocab.piece(id, special).clone();
    }

    private void check(int id) {
        if (id < 0 || id >= vocab.size()) {
            throw new HearthException("token id " + id + " is outside the vocabulary (" + vocab.size() + " tokens)");
        }
    }

    @Override
    public int bos() {
        return vocab.bos;
    }

    @Override
    public int eos() {
        return vocab.eos;
    }

    @Override
    public int eot() {
        return vocab.eot;
    }

    @Override
    public boolean addsBos() {
        return vocab.addBos;
    }

    @Override
    public Set<Integer> endOfGeneration() {
        return vocab.endOfGeneration;
    }

    @Override
    public int vocabSize() {
        return vocab.size();
    }

    @Override
    public String piece(int id) {
        check(id);
        return vocab.texts[id];
    }

    @Override
    public int tokenId(String piece) {
        return vocab.id(piece);
    }

    @Override
    public boolean isControl(int id) {
        check(id);
        return vocab.has(id, TokenAttr.CONTROL);
    }

    @Override
    public String toString() {
        return (vocab.kind == Vocabulary.Kind.SPM ? "SentencePiece"
                : vocab.escapeWhitespaces ? "SentencePiece-style BPE (" + vocab.preTokenizer + ")"
                : "byte-level BPE (" + vocab.preTokenizer + ")")
                + " tokenizer, " + vocab.size() + " tokens";
    }
}
