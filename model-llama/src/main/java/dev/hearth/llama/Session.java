package dev.hearth.llama;

import dev.hearth.llama.sampling.Sampler;
import dev.hearth.runtime.HearthException;

import java.util.Arrays;
import java.util.function.IntPredicate;

/**
 * A conversation with a model: the tokens in its KV cache and the generation loop. Feeding a
 * sequence that starts with what the cache already holds reuses that prefix (as llama.cpp's
 * server does), so a chat only runs each new turn.
 */
public final class Session {
    private final Engine engine;
    private int[] cached = new int[0];
    private int cachedLength;
    private int lastEvaluated;
    private final int[] one = new int[1];

    /** Timings of one {@link #generate} call, as llama-bench counts them. */
    public record Stats(int promptTokens, long promptNanos, int generatedTokens, long generationNanos, String stopReason) {
        public double promptTokensPerSecond() {
            return promptNanos == 0 ? 0 : promptTokens * 1e9 / promptNanos;
        }

        public double generationTokensPerSecond() {
            return generationNanos == 0 ? 0 : generatedTokens * 1e9 / generationNanos;
        }
    }

    public Session(Engine engine) {
        this.engine = engine;
    }

    public Engine engine() {
        return engine;
    }

    public int position() {
        return cachedLength;
    }

    public int[] tokens() {
        return Arrays.copyOf(cached, cachedLength);
    }

    /** Tokens the last {@link #prefill} ran through the model (the rest came from the cache). */
    public int lastEvaluated() {
        return lastEvaluated;
    }

    public void reset() {
        cachedLength = 0;
    }

    /** Makes the cache hold exactly {@code tokens} and returns the last token's logits. */
    public float[] prefill(int[] tokens) {
        if (tokens.length == 0) throw new HearthException("the prompt is empty");
        if (tokens.length > engine.contextLength()) {
            throw new HearthException("the prompt is " + tokens.length + " tokens, longer than the context of " + engine.contextLength() + " (try --ctx " + Math.min(roundUp(tokens.length + 256), 1 << 20) + ")");
        }
        int common = 0;
        while (common < cachedLength && common < tokens.length && cached[common] == tokens[common]) common++;
        if (common == tokens.length) common--; // recompute the last token to get its logits
        // A sliding-window layer's ring cache holds only the last rows written: going back further
        // than its slack finds the window before the reuse point overwritten; recompute from the start.
        if (common < cachedLength && cachedLength - common > engine.ringSlack()) common = 0;
        int[] rest = Arrays.copyOfRange(tokens, common, tokens.length);
        float[] logits = engine.eval(rest, common, false);
        lastEvaluated = rest.length;
        remember(tokens);
        return logits;
    }

    private static int roundUp(int n) {
        return (n + 255) / 256 * 256;
    }

    private void remember(int[] tokens) {
        if (cached.length < tokens.length) cached = Arrays.copyOf(tokens, Math.max(tokens.length, cached.length * 2));
        else System.arraycopy(tokens, 0, cached, 0, tokens.length);
        cachedLength = tokens.length;
    }

    private void append(int token) {
        if (cachedLength == cached.length) cached = Arrays.copyOf(cached, Math.max(16, cached.length * 2));
        cached[cachedLength++] = token;
    }

    /**
     * Feeds {@code prompt} (the whole sequence; a cached prefix is reused), then samples up to
     * {@code maxTokens} tokens, handing each to {@code onToken}, which returns false to stop.
     * Stops at an end-of-generation token (not handed on) or when the context is full, and, where
     * the sampler has a constraint, as soon as it is finished (stop reason "stop").
     */
    public Stats generate(int[] prompt, int maxTokens, Sampler sampler, IntPredicate isEnd, IntPredicate onToken) {
        long t0 = System.nanoTime();
        float[] logits = prefill(prompt);
        long t1 = System.nanoTime();
        for (int t : prompt) sampler.accept(t);
        int vocab = engine.config().vocabSize();
        int generated = 0;
        String reason = "length";
        long genStart = System.nanoTime();
        while (generated < maxTokens || maxTokens < 0) {
            if (sampler.constraint() != null) {
                int left = engine.contextLength() - cachedLength;
                sampler.constraint().limit(maxTokens < 0 ? left : Math.min(left, maxTokens - generated));
            }
            int next = sampler.sample(logits, vocab);
            sampler.accept(next);
            if (isEnd.test(next)) {
                reason = "stop";
                break;
            }
            generated++;
            if (!onToken.test(next) || (sampler.constraint() != null && sampler.constraint().finished())) {
                reason = "stop";
                break;
            }
            if (cachedLength >= engine.contextLength()) {
                reason = "context";
                break;
            }
            if (generated == maxTokens) break;
            one[0] = next;
            logits = engine.eval(one, cachedLength, false);
            append(next);
        }
        // the last sampled token was not run through the model; the cache ends before it
        long t2 = System.nanoTime();
        return new Stats(lastEvaluated, t1 - t0, generated, t2 - genStart, reason);
    }
}
