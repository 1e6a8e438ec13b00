package dev.hearth.bench;

import dev.hearth.llama.Engine;

import java.util.SplittableRandom;

/**
 * The end-to-end benchmark, measured as llama-bench does: a prompt test runs {@code n} random
 * tokens as one batch from an empty cache; a generation test runs {@code n} single tokens, one
 * after another, from an empty cache. Tokenization and sampling are not timed. Each test runs
 * once to warm up, then {@code reps} times; the rate is the mean and standard deviation of the
 * per-repetition tokens per second. The JIT compiles the Vector API kernels only after they have
 * run a while, so the warm-up repeats the test until at least {@link #WARMUP_NANOS} have passed.
 */
public final class EndToEndBench {
    /** One test's result. */
    public record Result(String test, int nPrompt, int nGen, double avgTs, double stddevTs, double[] samples) {
    }

    /** Least time spent warming up before the timed repetitions. */
    static final long WARMUP_NANOS = Long.getLong("hearth.bench.warmupMillis", 3000) * 1_000_000L;

    private EndToEndBench() {
    }

    public static Result prompt(Engine engine, int n, int reps) {
        int[] tokens = randomTokens(engine, n, 1);
        long until = System.nanoTime() + WARMUP_NANOS;
        do {
            engine.eval(tokens, 0, false);
        } while (System.nanoTime() < until);
        double[] ts = new double[reps];
        for (int r = 0; r < reps; r++) {
            long t0 = System.nanoTime();
            engine.eval(tokens, 0, false);
            ts[r] = n * 1e9 / (System.nanoTime() - t0);
        }
        return result("pp" + n, n, 0, ts);
    }

    public static Result generation(Engine engine, int n, int reps) {
        int[] tokens = randomTokens(engine, n, 2);
        int[] one = new int[1];
        long until = System.nanoTime() + WARMUP_NANOS;
        for (int i = 0; System.nanoTime() < until || i < 2; i = (i + 1) % n) {
            one[0] = tokens[i];
            engine.eval(one, i, false);
        }
        double[] ts = new double[reps];
        for (int r = 0; r < reps; r++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                one[0] = tokens[i];
                engine.eval(one, i, false);
            }
            ts[r] = n * 1e9 / (System.nanoTime() - t0);
        }
        return result("tg" + n, 0, n, ts);
    }

    private static int[] randomTokens(Engine e, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(e.config().vocabSize());
        return t;
    }

    private static Result result(String test, int np, int ng, double[] ts) {
        double mean = 0;
        for (double v : ts) mean += v;
        mean /= ts.length;
        double var = 0;
        for (double v : ts) var += (v - mean) * (v - mean);
        double sd = ts.length > 1 ? Math.sqrt(var / (ts.length - 1)) : 0;
        return new Result(test, np, ng, mean, sd, ts);
    }

    /** Bytes of weights one generated token reads: every matrix once, the embedding only a row. */
    public static long bytesPerToken(Engine e) {
        return e.weights().bytesPerToken();
    }
}
