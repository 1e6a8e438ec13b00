package dev.hearth.llama.constrain;

import dev.hearth.llama.tokenizer.Tokenizer;
import dev.hearth.runtime.json.Json;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Token masks on real vocabularies (Qwen2's byte-level BPE of 151,936 tokens, LLaMA 2's
 * SentencePiece with byte tokens, stories260K): masks agree with stepping every token through the
 * grammar, tokens that span several JSON symbols or end inside a UTF-8 character are handled, and
 * random walks over allowed tokens end in valid JSON.
 */
class TokenMaskTest {
    static final String PERSON = "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":12},"
            + "\"age\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":130},\"tags\":{\"type\":\"array\",\"items\":{\"enum\":[\"a\",\"bb\",\"ccc\"]},\"maxItems\":3},"
            + "\"score\":{\"type\":\"number\"},\"id\":{\"type\":\"string\",\"format\":\"uuid\"}},\"required\":[\"name\",\"age\"],\"additionalProperties\":false}";

    /** Strings of wide classes, where masks take the class path. */
    static final String WIDE = "{\"type\":\"object\",\"properties\":{\"p\":{\"type\":\"string\",\"pattern\":\"^[^@]{1,30}@?.{0,5}$\"},"
            + "\"q\":{\"anyOf\":[{\"type\":\"string\",\"maxLength\":4},{\"type\":\"string\",\"minLength\":6,\"maxLength\":9}]}},\"required\":[\"p\",\"q\"]}";

    private static boolean bit(long[] bits, int t) {
        return (bits[t >>> 6] & (1L << t)) != 0;
    }

    /** The tokens a constraint allows, by stepping each token's bytes through its state. */
    private static long[] bruteForce(Tokenizer tok, JsonSchemaConstraint c) {
        TokenTrie trie = TokenTrie.of(tok);
        long[] bits = new long[(trie.vocab + 63) >>> 6];
        for (int t = 0; t < trie.vocab; t++) {
            if (trie.bytes[t].length > 0 && c.state().steps(trie.bytes[t]) != null) bits[t >>> 6] |= 1L << t;
        }
        return bits;
    }

    private static List<Integer> allowedTokens(Tokenizer tok, JsonSchemaConstraint c) {
        float[] logits = new float[tok.vocabSize()];
        c.mask(logits);
        List<Integer> out = new ArrayList<>();
        for (int t = 0; t < logits.length; t++) if (logits[t] == 0f) out.add(t);
        return out;
    }

    /** Picks random allowed tokens until the constraint is finished; returns the text. */
    private static String randomWalk(Tokenizer tok, JsonSchemaConstraint c, SplittableRandom r, int maxSteps, boolean checkMasks) {
        return randomWalk(tok, c, r, maxSteps, checkMasks, false);
    }

    private static String randomWalk(Tokenizer tok, JsonSchemaConstraint c, SplittableRandom r, int maxSteps, boolean checkMasks, boolean limited) {
        StringBuilder bytes = new StringBuilder();
        List<byte[]> pieces = new ArrayList<>();
        for (int step = 0; step < maxSteps && !c.finished(); step++) {
            if (limited) c.limit(maxSteps - step);
            if (checkMasks) assertArrayEquals(bruteForce(tok, c), c.computeMask(), "mask at step " + step + " after " + bytes);
            List<Integer> allowed = allowedTokens(tok, c);
            assertFalse(allowed.isEmpty(), "no token allowed after " + bytes);
            int t = allowed.get(r.nextInt(allowed.size()));
            if (tok.isEndOfGeneration(t)) break;
            c.accept(t);
            pieces.add(tok.tokenBytes(t));
            bytes.append(new String(tok.tokenBytes(t), StandardCharsets.ISO_8859_1));
        }
        byte[] all = bytes.toString().getBytes(StandardCharsets.ISO_8859_1);
        try {
            // strict: a walk must never produce invalid UTF-8
            return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(all)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            if (!c.complete()) return new String(all, StandardCharsets.UTF_8); // may stop inside a character
            throw new AssertionError("invalid UTF-8: " + Arrays.toString(all));
        }
    }

    @Test
    void masksAgreeWithSteppingEveryToken() {
        SplittableRandom r = new SplittableRandom(7);
        for (String vocab : List.of(Vocabularies.STORIES, Vocabularies.LLAMA_SPM, Vocabularies.QWEN2)) {
            Tokenizer tok = Vocabularies.get(vocab);
            int walks = vocab.equals(Vocabularies.QWEN2) ? 1 : 4;
            for (int w = 0; w < walks * 3; w++) {
                String schema = List.of(PERSON, WIDE, "{\"type\":\"array\",\"items\":{}}").get(w % 3);
                JsonSchemaConstraint c = JsonSchemaConstraint.of(tok, Vocabularies.schema(schema), "", "");
                String text = randomWalk(tok, c, r, vocab.equals(Vocabularies.QWEN2) ? 15 : 200, true);
                assertNotNull(text);
            }
        }
    }

    @Test
    void randomWalksEndInValidJson() {
        SplittableRandom r = new SplittableRandom(11);
        String[] schemas = {PERSON,
                "{\"type\":\"array\",\"items\":{\"type\":\"string\",\"maxLength\":5},\"minItems\":2,\"maxItems\":4}",
                "{\"anyOf\":[{\"type\":\"integer\",\"minimum\":-50,\"maximum\":50},{\"type\":\"boolean\"},{\"type\":\"string\",\"pattern\":\"^[a-c]{2,4}!$\"}]}",
                "{\"type\":\"object\",\"properties\":{\"when\":{\"type\":\"string\",\"format\":\"date-time\"},\"note\":{\"type\":\"string\",\"maxLength\":8}},\"required\":[\"when\",\"note\"]}"};
        for (String vocab : List.of(Vocabularies.STORIES, Vocabularies.LLAMA_SPM, Vocabularies.QWEN2)) {
            Tokenizer tok = Vocabularies.get(vocab);
            for (String schema : schemas) {
                for (int w = 0; w < 5; w++) {
                    JsonSchemaConstraint c = JsonSchemaConstraint.of(tok, Vocabularies.schema(schema), "", "");
                    String text = randomWalk(tok, c, r, 400, false);
                    assertTrue(c.complete(), vocab + ": incomplete after 400 tokens: " + text);
                    Json.parse(text);
                    JsonSchemaConstraint again = JsonSchemaConstraint.of(tok, Vocabularies.schema(schema), "", "");
                    assertTrue(again.acceptText(text) && again.complete(), text);
                }
            }
        }
    }

    @Test
    void closesInTimeNearTheTokenLimit() {
        SplittableRandom r = new SplittableRandom(5);
        String[] schemas = {null, "{\"type\":\"object\",\"properties\":{\"story\":{\"type\":\"string\"},\"more\":{\"type\":\"array\",\"items\":"
                + "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"minLength\":3},\"b\":{\"type\":\"integer\"}},\"required\":[\"a\",\"b\"]}}},\"required\":[\"story\",\"more\"]}"};
        for (String vocab : List.of(Vocabularies.STORIES, Vocabularies.QWEN2)) {
            Tokenizer tok = Vocabularies.get(vocab);
            for (String schema : schemas) {
                for (int budget : new int[]{30, 80}) {
                    JsonSchemaConstraint c = schema == null ? JsonSchemaConstraint.anyJsonObject(tok) : JsonSchemaConstraint.of(tok, Vocabularies.schema(schema), "", "");
                    int distance = c.distanceToEnd();
                    assertTrue(distance > 0 && distance < 30, "distance " + distance);
                    String text = randomWalk(tok, c, r, budget, false, true);
                    assertTrue(c.complete(), vocab + ": not closed within " + budget + " tokens: " + text);
                    Json.parse(text);
                }
            }
        }
    }

    @Test
    void cutShortWhenTheLimitRefusesTheModelsChoice() {
        Tokenizer tok = Vocabularies.get(Vocabularies.STORIES);
        int letter = tok.encode("a", false)[tok.encode("a", false).length - 1];
        for (int limit : new int[]{50, 2}) {
            JsonSchemaConstraint c = JsonSchemaConstraint.anyJsonObject(tok);
            assertTrue(c.acceptText("{\"k\": \"v"));
            assertEquals(2, c.distanceToEnd());
            float[] logits = new float[tok.vocabSize()];
            logits[letter] = 10f;
            c.limit(limit);
            c.mask(logits);
            assertEquals(limit == 50, logits[letter] == 10f, "the letter is allowed only with room to spare");
            assertEquals(limit == 2, c.cutShort());
            assertTrue(logits[tok.encode("\"", false)[tok.encode("\"", false).length - 1]] > Float.NEGATIVE_INFINITY);
        }
    }

    @Test
    void tokensSpanningSeveralSymbols() {
        Tokenizer tok = Vocabularies.get(Vocabularies.QWEN2);
        String text = "{\"name\":\"Ann\",\"age\":41,\"tags\":[\"a\",\"bb\"],\"score\":-0.25}";
        int[] ids = tok.encode(text, false);
        JsonSchemaConstraint c = JsonSchemaConstraint.of(tok, Vocabularies.schema(PERSON), "", "");
        boolean multi = false;
        for (int id : ids) {
            String piece = new String(tok.tokenBytes(id), StandardCharsets.UTF_8);
            multi |= piece.length() > 1 && piece.chars().anyMatch(ch -> "{}[],:\"".indexOf(ch) >= 0) && piece.chars().anyMatch(ch -> "{}[],:\"".indexOf(ch) < 0);
            assertTrue(c.allows(id), "token '" + piece + "' refused");
            c.accept(id);
        }
        assertTrue(multi, "some token mixes JSON punctuation with other text: " + Arrays.toString(ids));
        assertTrue(c.finished());
        assertTrue(c.allows(tok.endOfGeneration().iterator().next()));
        // a token that closes the object too early is refused: "age" is required
        JsonSchemaConstraint early = JsonSchemaConstraint.of(tok, Vocabularies.schema(PERSON), "", "");
        assertTrue(early.acceptText("{\"name\":\"Ann\""));
        int closeQuoteBrace = tok.encode("\"}", false)[0];
        assertEquals("\"}", new String(tok.tokenBytes(closeQuoteBrace), StandardCharsets.UTF_8));
        assertFalse(early.allows(tok.tokenId("}")));
        assertFalse(tok.isEndOfGeneration(closeQuoteBrace) || early.allows(tok.endOfGeneration().iterator().next()));
    }

    @Test
    void tokensEndingInsideUtf8Characters() {
        for (String vocab : List.of(Vocabularies.QWEN2, Vocabularies.LLAMA_SPM)) {
            Tokenizer tok = Vocabularies.get(vocab);
            TokenTrie trie = TokenTrie.of(tok);
            // a token that is the first byte(s) of a 4-byte character
            int partial = -1;
            for (int t = 0; t < trie.vocab && partial < 0; t++) {
                byte[] b = trie.bytes[t];
                if (b.length >= 1 && b.length <= 2 && (b[0] & 0xFF) == 0xF0) partial = t;
            }
            assertTrue(partial >= 0, vocab + " has a token with a lone 4-byte lead");
            JsonSchemaConstraint str = JsonSchemaConstraint.of(tok, Vocabularies.schema("{\"type\":\"string\",\"maxLength\":3}"), "", "");
            assertTrue(str.acceptText("\"ab"));
            assertTrue(str.allows(partial));
            str.accept(partial);
            for (int t : allowedTokens(tok, str)) {
                assertEquals(0x80, trie.bytes[t][0] & 0xC0, vocab + ": after a lead byte only continuation bytes may come, not token " + t);
            }
            // finishing the character uses the last of the three characters allowed: only the quote may follow
            byte[] llama = "🦙".getBytes(StandardCharsets.UTF_8);
            byte[] rest = Arrays.copyOfRange(llama, trie.bytes[partial].length, llama.length);
            JsonSchemaConstraint done = str.copy();
            MatchState s = done.state().steps(rest);
            assertNotNull(s, vocab);
            assertTrue(!s.complete() && s.step('c') == null && s.step('"') != null, vocab + ": the character used the last place; only the quote may follow");
            JsonSchemaConstraint n = JsonSchemaConstraint.of(tok, Vocabularies.schema("{\"type\":\"string\",\"maxLength\":3}"), "", "");
            assertTrue(n.acceptText("\"ab🦙"));
            assertFalse(n.allows(tok.encode("a", false)[tok.encode("a", false).length - 1]));
            assertFalse(n.copy().acceptText("c"));
            assertTrue(n.acceptText("\""));
            // outside strings, a partial character is refused
            JsonSchemaConstraint num = JsonSchemaConstraint.of(tok, Vocabularies.schema("{\"type\":\"integer\"}"), "", "");
            assertFalse(num.allows(partial));
        }
    }

    /** Prints the time of one uncached mask on the Qwen2 vocabulary in typical states. */
    @Test
    void maskSpeedOnQwen2() {
        Tokenizer tok = Vocabularies.get(Vocabularies.QWEN2);
        String[][] cases = {
                {PERSON, "", "start of an object"},
                {PERSON, "{\"name\":\"Al", "inside a string"},
                {PERSON, "{\"name\":\"Al\",\"age\":", "before an integer in 0..130"},
                {PERSON, "{\"name\":\"Al\",\"age\":4,\"score\":1.", "inside a number's fraction"},
                {null, "{\"a\":", "any JSON value (json_object)"},
                {null, "{\"a\":[\"xy", "string inside any JSON"},
                {"{\"type\":\"string\",\"pattern\":\"^[^@]{1,40}$\"}", "\"ab", "pattern [^@]{1,40}"},
        };
        for (String[] c : cases) {
            JsonSchemaConstraint con = c[0] == null ? JsonSchemaConstraint.anyJsonObject(tok) : JsonSchemaConstraint.of(tok, Vocabularies.schema(c[0]), "", "");
            assertTrue(con.acceptText(c[1]), c[1]);
            con.computeMask();
            int reps = 5;
            long t0 = System.nanoTime();
            long[] bits = null;
            for (int i = 0; i < reps; i++) bits = con.computeMask();
            double ms = (System.nanoTime() - t0) / 1e6 / reps;
            int allowed = 0;
            for (long b : bits) allowed += Long.bitCount(b);
            System.out.printf("Qwen2 mask, %s: %.2f ms (%d tokens allowed)%n", c[2], ms, allowed);
            assertTrue(allowed > 0);
        }
        // as a generation sees it: mask() and accept() per token along random walks, the state cache in use
        SplittableRandom r = new SplittableRandom(3);
        long nanos = 0;
        int tokens = 0;
        float[] logits = new float[tok.vocabSize()];
        for (int w = 0; w < 10; w++) {
            JsonSchemaConstraint con = JsonSchemaConstraint.of(tok, Vocabularies.schema(PERSON), "", "");
            for (int step = 0; step < 200 && !con.finished(); step++) {
                java.util.Arrays.fill(logits, 0f);
                long t0 = System.nanoTime();
                con.limit(200 - step);
                con.mask(logits);
                nanos += System.nanoTime() - t0;
                tokens++;
                List<Integer> allowed = new ArrayList<>();
                for (int t = 0; t < logits.length; t++) if (logits[t] == 0f) allowed.add(t);
                int t = allowed.get(r.nextInt(allowed.size()));
                if (tok.isEndOfGeneration(t)) break;
                t0 = System.nanoTime();
                con.accept(t);
                nanos += System.nanoTime() - t0;
            }
            assertTrue(con.complete());
        }
        System.out.printf("Qwen2 mask + accept per token along 10 random answers: %.2f ms (%d tokens)%n", nanos / 1e6 / tokens, tokens);
    }
}
