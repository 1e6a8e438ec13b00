package dev.hearth.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static dev.hearth.backend.cpu.Mem.F;
import static dev.hearth.backend.cpu.Mem.FL;

/**
 * Row-wise and elementwise ops on float arrays (T rows of k): rms_norm, layer_norm, swiglu,
 * geglu, softcap, add and mul
 * (b's single row repeating over a's rows), scale and softmax. Vector API throughout; exp is the
 * Vector API's (vectorized libm on x86). Sums run in float. Checked against the reference ops
 * (dev.hearth.runtime.reference.ReferenceOps) in OpsTest.
 */
final class Elementwise {
    private Elementwise() {
    }

    /** Each row divided by sqrt(mean(x^2) + eps), times {@code w} where not null. */
    static void rmsNorm(float[] x, int k, int rows, float[] w, float eps, float[] out) {
        for (int r = 0; r < rows; r++) {
            int o = r * k;
            FloatVector acc = FloatVector.zero(F);
            int i = 0;
            for (; i + FL <= k; i += FL) {
                FloatVector v = FloatVector.fromArray(F, x, o + i);
                acc = v.fma(v, acc);
            }
            double ss = acc.reduceLanes(VectorOperators.ADD);
            for (; i < k; i++) ss += (double) x[o + i] * x[o + i];
            float scale = (float) (1.0 / Math.sqrt(ss / k + eps));
            i = 0;
            if (w != null) {
                for (; i + FL <= k; i += FL) {
                    FloatVector.fromArray(F, x, o + i).mul(scale).mul(FloatVector.fromArray(F, w, i)).intoArray(out, o + i);
                }
                for (; i < k; i++) out[o + i] = x[o + i] * scale * w[i];
            } else {
                for (; i + FL <= k; i += FL) FloatVector.fromArray(F, x, o + i).mul(scale).intoArray(out, o + i);
                for (; i < k; i++) out[o + i] = x[o + i] * scale;
            }
        }
    }

    /** Each row minus its mean, divided by sqrt(variance + eps), times {@code w} and plus {@code b} where not null. */
    static void layerNorm(float[] x, int k, int rows, float[] w, float[] b, float eps, float[] out) {
        for (int r = 0; r < rows; r++) {
            int o = r * k;
            FloatVector acc = FloatVector.zero(F);
            int i = 0;
            for (; i + FL <= k; i += FL) acc = acc.add(FloatVector.fromArray(F, x, o + i));
            double sum = acc.reduceLanes(VectorOperators.ADD);
            for (; i < k; i++) sum += x[o + i];
            float mean = (float) (sum / k);
            acc = FloatVector.zero(F);
            i = 0;
            for (; i + FL <= k; i += FL) {
                FloatVector d = FloatVector.fromArray(F, x, o + i).sub(mean);
                acc = d.fma(d, acc);
            }
            double ss = acc.reduceLanes(VectorOperators.ADD);
            for (; i < k; i++) ss += (double) (x[o + i] - mean) * (x[o + i] - mean);
            float scale = (float) (1.0 / Math.sqrt(ss / k + eps));
            for (i = 0; i < k; i++) {
                float y = (x[o + i] - mean) * scale;
                if (w != null) y *= w[i];
                if (b != null) y += b[i];
                out[o + i] = y;
            }
        }
    }

    /** gelu(g) * u, gelu in its tanh form: 0.5 g (1 + tanh(sqrt(2/pi) (g + 0.044715 g^3))). */
    static void geglu(float[] g, float[] u, int n, float[] out) {
        final float c = (float) Math.sqrt(2 / Math.PI);
        int i = 0;
        for (; i + FL <= n; i += FL) {
            FloatVector v = FloatVector.fromArray(F, g, i);
            FloatVector inner = v.mul(v).mul(v).mul(0.044715f).add(v).mul(c);
            FloatVector t = inner.lanewise(VectorOperators.TANH);
            v.mul(0.5f).mul(t.add(1f)).mul(FloatVector.fromArray(F, u, i)).intoArray(out, i);
        }
        for (; i < n; i++) {
            double x = g[i];
            out[i] = (float) (0.5 * x * (1 + Math.tanh(c * (x + 0.044715 * x * x * x))) * u[i]);
        }
    }

    /** gpt-oss's clamped SwiGLU: g = min(gate, limit), u = clamp(up, -limit, limit), g * sigmoid(alpha g) * (u + 1). */
    static void swigluOai(float[] gate, float[] up, float alpha, float limit, int n, float[] out) {
        int i = 0;
        for (; i + FL <= n; i += FL) {
            FloatVector g = FloatVector.fromArray(F, gate, i).min(limit);
            FloatVector u = FloatVector.fromArray(F, up, i).max(-limit).min(limit);
            FloatVector e = g.mul(-alpha).lanewise(VectorOperators.EXP).add(1f);
            g.div(e).mul(u.add(1f)).intoArray(out, i);
        }
        for (; i < n; i++) {
            float g = Math.min(gate[i], limit), u = Math.max(-limit, Math.min(limit, up[i]));
            out[i] = (float) (g / (1 + Math.exp(-alpha * g)) * (u + 1));
        }
    }

    /** cap * tanh(x / cap). */
    static void softcap(float[] x, float cap, int n, float[] out) {
        float inv = 1f / cap;
        int i = 0;
        for (; i + FL <= n; i += FL) FloatVector.fromArray(F, x, i).mul(inv).lanewise(VectorOperators.TANH).mul(cap).intoArray(out, i);
        for (; i < n; i++) out[i] = cap * (float) Math.tanh(x[i] * inv);
    }

    /** silu(g) * u = g / (1 + exp(-g)) * u. */
    static void swiglu(float[] g, float[] u, int n, float[] out) {
        int i = 0;
        for (; i + FL <= n; i += FL) {
            FloatVector v = FloatVector.fromArray(F, g, i);
            FloatVector e = v.neg().lanewise(VectorOperators.EXP).add(1f);
            v.div(e).mul(FloatVector.fromArray(F, u, i)).intoArray(out, i);
        }
        for (; i < n; i++) out[i] = (float) (g[i] / (1 + Math.exp(-g[i])) * u[i]);
    }

    /** a + b (add) or a * b (mul); b has one row of k or as many elements as a. */
    static void addMul(boolean mul, float[] a, float[] b, int k, int n, int bn, float[] out) {
        int stride = bn == k ? 0 : k;
        for (int r = 0, o = 0; o < n; r++, o += k) {
            int bo = r * stride;
            int i = 0;
            for (; i + FL <= k; i += FL) {
                FloatVector x = FloatVector.fromArray(F, a, o + i), y = FloatVector.fromArray(F, b, bo + i);
                (mul ? x.mul(y) : x.add(y)).intoArray(out, o + i);
            }
            for (; i < k; i++) out[o + i] = mul ? a[o + i] * b[bo + i] : a[o + i] + b[bo + i];
        }
    }

    static void scale(float[] x, float s, int n, float[] out) {
        int i = 0;
        for (; i + FL <= n; i += FL) FloatVector.fromArray(F, x, i).mul(s).intoArray(out, i);
        for (; i < n; i++) out[i] = x[i] * s;
    }

    /** Softmax of each row of k: exp(x - max) / sum. */
    static void softmax(float[] x, int k, int rows, float[] out) {
        for (int r = 0; r < rows; r++) {
            int o = r * k;
            float max = max(x, o, k);
            float sum = expShift(x, o, k, max, out, o);
            scale(out, o, k, 1f / sum);
        }
    }

    static float max(float[] x, int o, int n) {
        int i = 0;
        float m = Float.NEGATIVE_INFINITY;
        if (n >= FL) {
            FloatVector v = FloatVector.fromArray(F, x, o);
            for (i = FL; i + FL <= n; i += FL) v = v.max(FloatVector.fromArray(F, x, o + i));
            m = v.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) m = Math.max(m, x[o + i]);
        return m;
    }

    /** out[i] = exp(x[i] - max) for n elements; returns their sum. */
    static float expShift(float[] x, int o, int n, float max, float[] out, int oo) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i + FL <= n; i += FL) {
            FloatVector e = FloatVector.fromArray(F, x, o + i).sub(max).lanewise(VectorOperators.EXP);
            e.intoArray(out, oo + i);
            acc = acc.add(e);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float e = (float) Math.exp(x[o + i] - max);
            out[oo + i] = e;
            sum += e;
        }
        return sum;
    }

    /** x[o..o+n) *= s. */
    static void scale(float[] x, int o, int n, float s) {
        int i = 0;
        for (; i + FL <= n; i += FL) FloatVector.fromArray(F, x, o + i).mul(s).intoArray(x, o + i);
        for (; i < n; i++) x[o + i] *= s;
    }
}
