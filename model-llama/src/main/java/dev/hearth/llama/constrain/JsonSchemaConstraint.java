package dev.hearth.llama.constrain;

import dev.hearth.llama.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Constrains generation to literal prefix text, then one JSON value valid for a JSON schema, then
 * literal suffix text, with any tokenizer: a token's bytes may span several JSON symbols or end
 * inside a UTF-8 character. The schema is compiled to a {@link Grammar} (see
 * {@link SchemaCompiler} for the keywords enforced); each step walks a byte trie of the
 * vocabulary with the match state, skipping refused prefixes; inside a JSON string, or wherever
 * one part of the grammar takes a wide class of characters, tokens made only of such characters
 * are allowed by their length instead of a walk. Masks of states seen before are cached.
 * Near the token limit ({@link #limit}) only tokens after which the text can still be finished in
 * time are allowed, so that the answer closes (strings cut short, optional parts left out) rather
 * than stopping halfway.
 */
public final class JsonSchemaConstraint implements TokenConstraint {
    private static final int CACHE_LIMIT = 256;
    private static final float NEG_INF = Float.NEGATIVE_INFINITY;
    /** Within this many bytes of the token limit, tokens that could not be finished in time are refused. */
    static final int CLOSING_WINDOW = 64;

    /** What copies share: the compiled grammar, the vocabulary trie and the mask cache. */
    private record Compiled(Grammar.Rule root, TokenTrie trie, boolean[] end, Map<MatchState, long[]> cache, MinLength lengths) {
    }

    private final Compiled c;
    private MatchState state;
    private boolean ended;
    private int limit = Integer.MAX_VALUE;
    private boolean cutShort;

    private JsonSchemaConstraint(Compiled c, MatchState state) {
        this.c = c;
        this.state = state;
    }

    /**
     * Accepts {@code prefix}, then one JSON value valid for {@code schema} (null or empty: any JSON
     * object), then {@code suffix}. Throws {@link UnsupportedSchemaException} naming every keyword
     * of the schema that cannot be enforced.
     */
    public static JsonSchemaConstraint of(Tokenizer tok, Map<String, Object> schema, String prefix, String suffix) {
        Grammar.Rule root = SchemaCompiler.compile(schema, prefix == null ? "" : prefix, suffix == null ? "" : suffix);
        return create(tok, root);
    }

    /** Any JSON object (the "json_object" response format). */
    public static JsonSchemaConstraint anyJsonObject(Tokenizer tok) {
        return of(tok, null, "", "");
    }

    private static JsonSchemaConstraint create(Tokenizer tok, Grammar.Rule root) {
        TokenTrie trie = TokenTrie.of(tok);
        boolean[] end = new boolean[trie.vocab];
        for (int t : tok.endOfGeneration()) if (t >= 0 && t < end.length) end[t] = true;
        return new JsonSchemaConstraint(new Compiled(root, trie, end, new ConcurrentHashMap<>(), new MinLength(root)), MatchState.start(root));
    }

    @Override
    public void limit(int tokens) {
        limit = tokens;
    }

    /** The fewest bytes that finish the constrained text from here. */
    public int distanceToEnd() {
        return state.distance(c.lengths);
    }

    @Override
    public void mask(float[] logits) {
        long[] allowed = allowed();
        if (limit <= state.distance(c.lengths) + CLOSING_WINDOW) {
            long[] all = allowed;
            allowed = inTime(all);
            if (allowed != all) {
                int best = -1;
                int n0 = Math.min(logits.length, c.trie.vocab);
                for (int w = 0; w < all.length; w++) {
                    for (long bits = all[w]; bits != 0; bits &= bits - 1) {
                        int t = (w << 6) + Long.numberOfTrailingZeros(bits);
                        if (t < n0 && (best < 0 || logits[t] > logits[best])) best = t;
                    }
                }
                if (best >= 0 && (allowed[best >>> 6] & (1L << best)) == 0) cutShort = true;
            }
        }
        boolean any = false;
        int n = Math.min(logits.length, c.trie.vocab);
        boolean complete = state.complete();
        for (int t = 0; t < n; t++) {
            boolean ok = (allowed[t >>> 6] & (1L << t)) != 0 || (complete && c.end[t]);
            if (!ok) logits[t] = NEG_INF;
            else any = true;
        }
        for (int t = n; t < logits.length; t++) logits[t] = NEG_INF;
        if (!any) {
            // no token can continue the text (a vocabulary without a needed character): let generation end
            for (int t = 0; t < n; t++) if (c.end[t]) logits[t] = 0f;
        }
    }

    /**
     * Of {@code allowed}, the tokens after which the text can still be finished within the limit
     * (a byte per token at worst); all of them if none can.
     */
    private long[] inTime(long[] allowed) {
        long[] out = new long[allowed.length];
        boolean any = false;
        int distance = state.distance(c.lengths);
        // inside a string, plain text of whole characters leaves the distance as it is or shortens it (toward minLength)
        boolean plainOk = state.plainRoom() >= 0 && distance <= limit - 1;
        int[] plain = c.trie.plainLength;
        for (int w = 0; w < allowed.length; w++) {
            for (long bits = allowed[w]; bits != 0; bits &= bits - 1) {
                int t = (w << 6) + Long.numberOfTrailingZeros(bits);
                boolean ok;
                if (plainOk && plain[t] >= 0 && !c.trie.endsInsideCharacter[t]) {
                    ok = true;
                } else {
                    MatchState next = state.steps(c.trie.bytes[t]);
                    ok = next != null && next.distance(c.lengths) <= limit - 1;
                }
                if (ok) {
                    out[w] |= 1L << t;
                    any = true;
                }
            }
        }
        return any ? out : allowed;
    }

    /** Whether {@code token} may come next. */
    public boolean allows(int token) {
        if (token < 0 || token >= c.trie.vocab) return false;
        if (c.end[token]) return state.complete();
        return (allowed()[token >>> 6] & (1L << token)) != 0;
    }

    @Override
    public void accept(int token) {
        if (token >= 0 && token < c.end.length && c.end[token]) {
            ended = true;
            return;
        }
        MatchState next = token < 0 || token >= c.trie.vocab ? null : state.steps(c.trie.bytes[token]);
        if (next == null) throw new IllegalArgumentException("token " + token + " does not continue the constrained text");
        state = next;
    }

    /** Advances past the UTF-8 bytes of {@code text}; false (and no change) if they do not continue the constrained text. */
    public boolean acceptText(String text) {
        MatchState next = state.steps(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        if (next == null) return false;
        state = next;
        return true;
    }

    @Override
    public boolean cutShort() {
        return cutShort;
    }

    @Override
    public boolean complete() {
        return state.complete();
    }

    @Override
    public boolean finished() {
        return ended || state.finished();
    }

    @Override
    public JsonSchemaConstraint copy() {
        JsonSchemaConstraint j = new JsonSchemaConstraint(c, state);
        j.ended = ended;
        j.limit = limit;
        j.cutShort = cutShort;
        return j;
    }

    /**
     * The mask where every code point of {@code wide} leads from a state to one next state: a token
     * of k such characters goes to the k-th state of a chain, as long as each state of the chain
     * still treats all of {@code wide} alike; other tokens are stepped one by one.
     */
    private long[] byClass(MatchState s, int[] wide, TokenTrie.ClassRuns runs, long[] bits) {
        TokenTrie trie = c.trie;
        int rep = wide[0];
        List<MatchState> chain = new ArrayList<>();
        chain.add(s);
        int uniform = 0; // chain.get(k) is right for tokens of k characters, k <= uniform
        for (MatchState at = s; uniform < trie.maxDepth; ) {
            int[] cls = at.wideClass();
            if (cls == null || RegexCompiler.subtract(wide, cls).length != 0) break;
            at = at.stepCodePoint(rep);
            chain.add(at);
            uniform++;
            if (at == null) break;
        }
        int[] length = runs.length();
        for (int t = 0; t < trie.vocab; t++) {
            int k = length[t];
            if (k < 0) continue;
            boolean ok = k <= uniform ? chain.get(k) != null : s.steps(trie.bytes[t]) != null;
            if (ok) bits[t >>> 6] |= 1L << t;
        }
        for (int t : runs.others()) if (s.steps(trie.bytes[t]) != null) bits[t >>> 6] |= 1L << t;
        return bits;
    }

    /** The match state (for tests). */
    MatchState state() {
        return state;
    }

    /** The allowed tokens as bits, computed afresh without the cache (for tests and measurements). */
    long[] computeMask() {
        return compute(state);
    }

    private long[] allowed() {
        long[] bits = c.cache.get(state);
        if (bits != null) return bits;
        bits = compute(state);
        if (c.cache.size() >= CACHE_LIMIT) c.cache.clear();
        c.cache.put(state, bits);
        return bits;
    }

    private long[] compute(MatchState s) {
        TokenTrie trie = c.trie;
        long[] bits = new long[(trie.vocab + 63) >>> 6];
        int room = s.plainRoom();
        if (room >= 0) {
            int[] plain = trie.plainLength;
            for (int t = 0; t < trie.vocab; t++) if (plain[t] >= 0 && plain[t] <= room) bits[t >>> 6] |= 1L << t;
            for (int t : trie.notPlain) if (s.steps(trie.bytes[t]) != null) bits[t >>> 6] |= 1L << t;
            return bits;
        }
        int[] wide = s.wideClass();
        TokenTrie.ClassRuns runs = wide == null ? null : trie.runs(wide);
        if (runs != null) return byClass(s, wide, runs, bits);
        MatchState[] at = new MatchState[trie.maxDepth + 1];
        at[0] = s;
        byte[] nb = trie.nodeByte;
        int[] depth = trie.nodeDepth, skip = trie.nodeSkip, first = trie.nodeToken, same = trie.nextSame;
        for (int i = 0, n = nb.length; i < n; ) {
            int d = depth[i];
            MatchState next = at[d - 1].step(nb[i]);
            if (next == null) {
                i = skip[i];
                continue;
            }
            at[d] = next;
            for (int t = first[i]; t >= 0; t = same[t]) bits[t >>> 6] |= 1L << t;
            i++;
        }
        return bits;
    }
}
