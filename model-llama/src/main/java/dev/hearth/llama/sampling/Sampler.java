package dev.hearth.llama.sampling;

import dev.hearth.llama.constrain.TokenConstraint;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Picks the next token from logits in llama.cpp's order: penalties (repetition, frequency,
 * presence, over the last N tokens), top-k, top-p, min-p, temperature, then a draw from the
 * distribution. Temperature 0 (or below) takes the argmax. Buffers are sized once. With a
 * {@link TokenConstraint}, tokens it refuses are masked out first and the token drawn is handed
 * to it.
 */
public final class Sampler {
    private final SamplerParams p;
    private final SplittableRandom random;
    private final int[] history;
    private int historyLength;
    private int historyStart;
    private int[] idx = new int[0];
    private float[] val = new float[0];
    private double[] weights = new double[0];
    private final TokenConstraint constraint;

    public Sampler(SamplerParams params) {
        this(params, null);
    }

    /** A sampler that draws only tokens {@code constraint} allows (null: any token). */
    public Sampler(SamplerParams params, TokenConstraint constraint) {
        this.p = params;
        this.constraint = constraint;
        this.random = new SplittableRandom(params.seed() < 0 ? System.nanoTime() : params.seed());
        this.history = new int[Math.max(1, params.penaltyLastN())];
    }

    public SamplerParams params() {
        return p;
    }

    /** The constraint on the tokens drawn, or null. */
    public TokenConstraint constraint() {
        return constraint;
    }

    /** Records a token (prompt or generated) for the penalties. */
    public void accept(int token) {
        if (p.penaltyLastN() <= 0) return;
        int at = (historyStart + historyLength) % history.length;
        history[at] = token;
        if (historyLength < history.length) historyLength++;
        else historyStart = (historyStart + 1) % history.length;
    }

    public void reset() {
        historyLength = 0;
        historyStart = 0;
    }

    public static int argmax(float[] logits, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /** Samples from {@code logits[0..n)}; the array may be modified by the penalties. */
    public int sample(float[] logits, int n) {
        if (constraint == null) return draw(logits, n);
        constraint.mask(logits);
        int t = draw(logits, n);
        constraint.accept(t);
        return t;
    }

    private int draw(float[] logits, int n) {
        applyPenalties(logits);
        if (p.temperature() <= 0f) return argmax(logits, n);
        if (idx.length < n) {
            idx = new int[n];
            val = new float[n];
        }
        int k = p.topK() > 0 ? Math.min(p.topK(), n) : n;
        int m = topK(logits, n, k); // idx[0..m) sorted by logit, descending
        // top-p over the softmax of the kept candidates
        float max = val[0];
        double sum = 0;
        for (int i = 0; i < m; i++) sum += Math.exp(val[i] - max);
        if (p.topP() < 1f) {
            double cum = 0;
            int keep = m;
            for (int i = 0; i < m; i++) {
                cum += Math.exp(val[i] - max) / sum;
                if (cum >= p.topP() && i + 1 >= 1) {
                    keep = i + 1;
                    break;
                }
            }
            m = keep;
        }
        if (p.minP() > 0f) {
            // keep candidates whose probability is at least minP times the top one's
            double threshold = Math.log(p.minP());
            int keep = 1;
            while (keep < m && val[keep] - max >= threshold) keep++;
            m = keep;
        }
        double total = 0;
        if (weights.length < m) weights = new double[m];
        double[] w = weights;
        for (int i = 0; i < m; i++) {
            w[i] = Math.exp((val[i] - max) / p.temperature());
            total += w[i];
        }
        double r = random.nextDouble() * total;
        for (int i = 0; i < m; i++) {
            r -= w[i];
            if (r <= 0) return idx[i];
        }
        return idx[m - 1];
    }

    private int topK(float[] logits, int n, int k) {
        if (k == n) {
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) order[i] = i;
            Arrays.sort(order, (a, b) -> Float.compare(logits[b], logits[a]));
            for (int i = 0; i < n; i++) {
                idx[i] = order[i];
                val[i] = logits[order[i]];
            }
            return n;
        }
        // partial selection: keep a sorted list of the k best
        int m = 0;
        for (int i = 0; i < n; i++) {
            float v = logits[i];
            if (m == k && v <= val[m - 1]) continue;
            int j = m < k ? m++ : m - 1;
            while (j > 0 && val[j - 1] < v) {
                val[j] = val[j - 1];
                idx[j] = idx[j - 1];
                j--;
            }
            val[j] = v;
            idx[j] = i;
        }
        return m;
    }

    private void applyPenalties(float[] logits) {
        if (historyLength == 0) return;
        boolean repeat = p.repeatPenalty() != 1f;
        boolean freq = p.frequencyPenalty() != 0f || p.presencePenalty() != 0f;
        if (!repeat && !freq) return;
        Map<Integer, Integer> counts = new HashMap<>();
        for (int i = 0; i < historyLength; i++) counts.merge(history[(historyStart + i) % history.length], 1, Integer::sum);
        for (var e : counts.entrySet()) {
            int t = e.getKey();
            if (t < 0 || t >= logits.length) continue;
            if (repeat) logits[t] = logits[t] <= 0 ? logits[t] * p.repeatPenalty() : logits[t] / p.repeatPenalty();
            logits[t] -= e.getValue() * p.frequencyPenalty() + p.presencePenalty();
        }
    }
}
