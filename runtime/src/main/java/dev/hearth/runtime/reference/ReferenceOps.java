package dev.hearth.runtime.reference;

import dev.hearth.runtime.graph.Op;

/**
 * The numerical spec of each op, on plain float arrays in ggml order (a tensor of T rows of K is
 * {@code x[t * K + k]}). Sums run in double, so the spec is as exact as a float result can be;
 * a backend that sums in float differs from it only by rounding. Checked against hand-computed
 * values in ReferenceOpsTest; the semantics are those documented in {@link Op}.
 */
public final class ReferenceOps {
    private ReferenceOps() {
    }

    /** The dot product of {@code n} elements of {@code a} from {@code ao} and {@code b} from {@code bo}, summed in double. */
    public static double dot(float[] a, int ao, float[] b, int bo, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += (double) a[ao + i] * b[bo + i];
        return s;
    }

    /** rms_norm: each row of {@code k} divided by sqrt(mean(x^2) + eps), then times {@code weight} where not null. */
    public static float[] rmsNorm(float[] x, int k, float[] weight, float eps) {
        float[] out = new float[x.length];
        for (int r = 0; r < x.length / k; r++) {
            int o = r * k;
            double mean = dot(x, o, x, o, k) / k;
            double scale = 1.0 / Math.sqrt(mean + eps);
            for (int i = 0; i < k; i++) {
                double y = x[o + i] * scale;
                out[o + i] = (float) (weight != null ? y * weight[i] : y);
            }
        }
        return out;
    }

    /**
     * rope: each row of {@code x} holds whole heads of {@code headDim}; row t rotates by position
     * {@code pos[t]}. Pair i of the first {@code ropeDims} dimensions of a head is (2i, 2i+1) in
     * NORMAL mode and (i, i + ropeDims/2) in NEOX mode; it turns by
     * theta_i = pos * freqScale * base^(-2i/ropeDims) / freqFactors[i]. Other dimensions pass through.
     */
    public static float[] rope(float[] x, int rowLength, int[] pos, int headDim, int ropeDims, Op.RopeMode mode,
                               float base, float freqScale, float[] freqFactors) {
        return rope(x, rowLength, pos, headDim, ropeDims, mode, base, freqScale, freqFactors, null);
    }

    /** rope as above, with YaRN's angles and magnitude where {@code yarn} is not null ({@link Op.Yarn}). */
    public static float[] rope(float[] x, int rowLength, int[] pos, int headDim, int ropeDims, Op.RopeMode mode,
                               float base, float freqScale, float[] freqFactors, Op.Yarn yarn) {
        float[] out = x.clone();
        int half = ropeDims / 2;
        double[] cos = new double[half];
        double[] sin = new double[half];
        double[] corr = yarn != null ? yarn.corrDims(ropeDims, base) : null;
        double mscale = yarn != null ? yarn.mscale(freqScale) : 1;
        for (int t = 0; t < pos.length; t++) {
            for (int i = 0; i < half; i++) {
                double theta;
                if (yarn != null) {
                    theta = yarn.theta(pos[t] * Math.pow(base, -2.0 * i / ropeDims), freqScale, corr, i);
                } else {
                    theta = pos[t] * (double) freqScale * Math.pow(base, -2.0 * i / ropeDims);
                }
                if (freqFactors != null) theta /= freqFactors[i];
                cos[i] = Math.cos(theta) * mscale;
                sin[i] = Math.sin(theta) * mscale;
            }
            for (int head = 0; head < rowLength / headDim; head++) {
                int o = t * rowLength + head * headDim;
                for (int i = 0; i < half; i++) {
                    int a = mode == Op.RopeMode.NORMAL ? o + 2 * i : o + i;
                    int b = mode == Op.RopeMode.NORMAL ? o + 2 * i + 1 : o + i + half;
                    double x0 = x[a];
                    double x1 = x[b];
                    out[a] = (float) (x0 * cos[i] - x1 * sin[i]);
                    out[b] = (float) (x0 * sin[i] + x1 * cos[i]);
                }
            }
        }
        return out;
    }

    /**
     * Causal grouped-query attention. {@code q} holds T rows of heads * headDim; {@code k} and
     * {@code v} hold cache rows 0..max(pos) of kvHeads * headDim. Token t, head h attends to cache
     * rows 0..pos[t] of KV head h / (heads / kvHeads): softmax(scale * q·k) weighting the V rows.
     * Queries stay F32 whatever the cache type (llama.cpp rounds them to F16 for an F16 cache;
     * the conformance tolerance allows for that).
     */
    public static float[] attention(float[] q, float[] k, float[] v, int[] pos, int heads, int kvHeads, int headDim, float scale) {
        return attention(q, k, v, pos, heads, kvHeads, headDim, scale, 0, 0f);
    }

    /**
     * Attention as above, where token t sees only rows j with pos[t] - j < {@code window} when
     * window > 0 (itself and the window - 1 before it), and each score s becomes
     * softcap * tanh(s / softcap) when softcap > 0.
     */
    public static float[] attention(float[] q, float[] k, float[] v, int[] pos, int heads, int kvHeads, int headDim, float scale,
                                    int window, float softcap) {
        return attention(q, k, v, pos, heads, kvHeads, headDim, scale, window, softcap, null);
    }

    /** Attention as above, where head h's softmax also counts exp(sinks[h]) in its denominator when {@code sinks} is not null. */
    public static float[] attention(float[] q, float[] k, float[] v, int[] pos, int heads, int kvHeads, int headDim, float scale,
                                    int window, float softcap, float[] sinks) {
        int qRow = heads * headDim;
        int kvRow = kvHeads * headDim;
        int group = heads / kvHeads;
        float[] out = new float[q.length];
        double[] acc = new double[headDim];
        for (int t = 0; t < pos.length; t++) {
            int n = pos[t] + 1;
            int first = window > 0 ? Math.max(0, pos[t] - window + 1) : 0;
            double[] score = new double[n];
            for (int h = 0; h < heads; h++) {
                int qo = t * qRow + h * headDim;
                int kvo = (h / group) * headDim;
                double max = Double.NEGATIVE_INFINITY;
                for (int j = first; j < n; j++) {
                    double sc = scale * dot(q, qo, k, j * kvRow + kvo, headDim);
                    if (softcap > 0) sc = softcap * Math.tanh(sc / softcap);
                    score[j] = sc;
                    max = Math.max(max, sc);
                }
                if (sinks != null) max = Math.max(max, sinks[h]);
                double sum = sinks != null ? Math.exp(sinks[h] - max) : 0;
                java.util.Arrays.fill(acc, 0);
                for (int j = first; j < n; j++) {
                    double e = Math.exp(score[j] - max);
                    sum += e;
                    for (int d = 0; d < headDim; d++) acc[d] += e * v[j * kvRow + kvo + d];
                }
                for (int d = 0; d < headDim; d++) out[qo + d] = (float) (acc[d] / sum);
            }
        }
        return out;
    }

    /** gelu in its tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
    public static double gelu(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    /** geglu: gelu(gate) * up, elementwise. */
    public static float[] geglu(float[] gate, float[] up) {
        float[] out = new float[gate.length];
        for (int i = 0; i < out.length; i++) out[i] = (float) (gelu(gate[i]) * up[i]);
        return out;
    }

    /** softcap: cap * tanh(x / cap), elementwise. */
    public static float[] softcap(float[] x, float cap) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) out[i] = (float) (cap * Math.tanh(x[i] / (double) cap));
        return out;
    }

    /** layer_norm: each row of {@code k} minus its mean, divided by sqrt(variance + eps), times weight, plus bias (each where not null). */
    public static float[] layerNorm(float[] x, int k, float[] weight, float[] bias, float eps) {
        float[] out = new float[x.length];
        for (int o = 0; o < x.length; o += k) {
            double mean = 0;
            for (int i = 0; i < k; i++) mean += x[o + i];
            mean /= k;
            double var = 0;
            for (int i = 0; i < k; i++) var += (x[o + i] - mean) * (x[o + i] - mean);
            var /= k;
            double inv = 1.0 / Math.sqrt(var + eps);
            for (int i = 0; i < k; i++) {
                double y = (x[o + i] - mean) * inv;
                if (weight != null) y *= weight[i];
                if (bias != null) y += bias[i];
                out[o + i] = (float) y;
            }
        }
        return out;
    }

    /** silu(x) = x / (1 + exp(-x)). */
    public static double silu(double x) {
        return x / (1 + Math.exp(-x));
    }

    /** swiglu: silu(gate) * up, elementwise. */
    public static float[] swiglu(float[] gate, float[] up) {
        float[] out = new float[gate.length];
        for (int i = 0; i < out.length; i++) out[i] = (float) (silu(gate[i]) * up[i]);
        return out;
    }

    /** a + b, where b of one row of {@code k} repeats over every row of a. */
    public static float[] add(float[] a, float[] b, int k) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i] + b[b.length == k ? i % k : i];
        return out;
    }

    /** a * b, where b of one row of {@code k} repeats over every row of a. */
    public static float[] mul(float[] a, float[] b, int k) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i] * b[b.length == k ? i % k : i];
        return out;
    }

    /** x * s. */
    public static float[] scale(float[] x, float s) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i] * s;
        return out;
    }

    /** Softmax of each row of {@code k}: exp(x - max) / sum. */
    public static float[] softmax(float[] x, int k) {
        float[] out = new float[x.length];
        for (int o = 0; o < x.length; o += k) {
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < k; i++) max = Math.max(max, x[o + i]);
            double sum = 0;
            for (int i = 0; i < k; i++) sum += Math.exp(x[o + i] - max);
            for (int i = 0; i < k; i++) out[o + i] = (float) (Math.exp(x[o + i] - max) / sum);
        }
        return out;
    }

    /** top_k: per row of {@code e}, the indices of the k largest values, largest first, the lower index first among equals. */
    public static int[] topK(float[] x, int e, int k) {
        int rows = x.length / e;
        int[] out = new int[rows * k];
        boolean[] taken = new boolean[e];
        for (int r = 0; r < rows; r++) {
            java.util.Arrays.fill(taken, false);
            for (int j = 0; j < k; j++) {
                int best = -1;
                for (int i = 0; i < e; i++) {
                    if (!taken[i] && (best < 0 || x[r * e + i] > x[r * e + best])) best = i;
                }
                taken[best] = true;
                out[r * k + j] = best;
            }
        }
        return out;
    }

    /** gather: out[t][j] = x[t][ids[t][j]], rows of {@code e} in x and of {@code k} in ids. */
    public static float[] gather(float[] x, int e, int[] ids, int k) {
        float[] out = new float[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = x[(i / k) * e + ids[i]];
        return out;
    }

    /** weighted_sum: out[t] = sum over j of weights[t][j] * y[t * k + j], rows of {@code n}. */
    public static float[] weightedSum(float[] y, int n, float[] weights, int k) {
        int tokens = weights.length / k;
        float[] out = new float[tokens * n];
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < n; i++) {
                double s = 0;
                for (int j = 0; j < k; j++) s += (double) weights[t * k + j] * y[(t * k + j) * n + i];
                out[t * n + i] = (float) s;
            }
        }
        return out;
    }

    /** swiglu_oai: g = min(gate, limit), u = clamp(up, -limit, limit), g * sigmoid(alpha g) * (u + 1). */
    public static float[] swigluOai(float[] gate, float[] up, float alpha, float limit) {
        float[] out = new float[gate.length];
        for (int i = 0; i < out.length; i++) {
            double g = Math.min(gate[i], limit);
            double u = Math.max(-limit, Math.min(limit, up[i]));
            out[i] = (float) (g / (1 + Math.exp(-alpha * g)) * (u + 1));
        }
        return out;
    }

    /** add_id: row r of {@code y} (rows of {@code n}) plus row ids[r] of {@code bias}. */
    public static float[] addId(float[] y, int n, float[] bias, int[] ids) {
        float[] out = y.clone();
        for (int r = 0; r < ids.length; r++) {
            for (int i = 0; i < n; i++) out[r * n + i] += bias[ids[r] * n + i];
        }
        return out;
    }
}
