package dev.hearth.server.tools;

import dev.hearth.llama.tokenizer.Tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * A tokenizer whose control tokens for call markers ({@code [TOOL_CALLS]}, {@code <|python_tag|>})
 * are text: generation hands on their text, so that the calls they announce can be read, and a
 * constrained call may open with the marker token the model was trained to write. Every other
 * token is as the model's tokenizer has it. One instance per tokenizer and marker list, so that
 * what is built per vocabulary (a constraint's token trie) is built once.
 */
public final class MarkerTokens implements Tokenizer {
    private static final Map<Tokenizer, Map<List<String>, Tokenizer>> CACHE = new WeakHashMap<>();

    private final Tokenizer tok;
    private final Set<Integer> shown = new HashSet<>();

    private MarkerTokens(Tokenizer tok, List<String> markers) {
        this.tok = tok;
        for (String m : markers) {
            int id = tok.tokenId(m);
            if (id >= 0 && tok.isControl(id)) shown.add(id);
        }
    }

    /** {@code tok} itself where none of the markers is a control token of its vocabulary. */
    public static Tokenizer of(Tokenizer tok, ToolFormat format) {
        return of(tok, format.tokenTexts());
    }

    /** {@code tok} with the control tokens whose texts are {@code markers} shown as text. */
    public static Tokenizer of(Tokenizer tok, List<String> markers) {
        synchronized (CACHE) {
            return CACHE.computeIfAbsent(tok, k -> new HashMap<>()).computeIfAbsent(List.copyOf(markers), k -> {
                MarkerTokens m = new MarkerTokens(tok, k);
                return m.shown.isEmpty() ? tok : m;
            });
        }
    }

    @Override
    public int[] encode(String text, boolean addBos, boolean parseSpecial) {
        return tok.encode(text, addBos, parseSpecial);
    }

    @Override
    public byte[] decodeBytes(int[] ids, boolean removeSpecial, boolean unparseSpecial) {
        return tok.decodeBytes(ids, removeSpecial, unparseSpecial);
    }

    @Override
    public byte[] tokenBytes(int id) {
        return tokenBytes(id, false);
    }

    @Override
    public byte[] tokenBytes(int id, boolean special) {
        return shown.contains(id) ? tok.piece(id).getBytes(StandardCharsets.UTF_8) : tok.tokenBytes(id, special);
    }

    @Override
    public int bos() {
        return tok.bos();
    }

    @Override
    public int eos() {
        return tok.eos();
    }

    @Override
    public int eot() {
        return tok.eot();
    }

    @Override
    public boolean addsBos() {
        return tok.addsBos();
    }

    @Override
    public Set<Integer> endOfGeneration() {
        return tok.endOfGeneration();
    }

    @Override
    public boolean isEndOfGeneration(int id) {
        return tok.isEndOfGeneration(id);
    }

    @Override
    public int vocabSize() {
        return tok.vocabSize();
    }

    @Override
    public String piece(int id) {
        return tok.piece(id);
    }

    @Override
    public int tokenId(String piece) {
        return tok.tokenId(piece);
    }

    @Override
    public boolean isControl(int id) {
        return !shown.contains(id) && tok.isControl(id);
    }
}
