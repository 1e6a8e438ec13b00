package dev.hearth.backend.cpu;

import dev.hearth.runtime.graph.Op;
import jdk.incubator.vector.FloatVector;

import java.util.Arrays;

import static dev.hearth.backend.cpu.Mem.F;
import static dev.hearth.backend.cpu.Mem.FL;

/**
 * Rotary position embedding: in each head of each row, pair i of the first ropeDims dimensions,
 * (2i, 2i+1) in NORMAL mode or (i, i + ropeDims/2) in NEOX mode, turns by
 * theta_i = pos * freqScale * base^(-2i/ropeDims) / freqFactors[i]; the rest pass through. The
 * cosines and sines are computed in double for the positions of a call and kept for the next
 * call with the same positions and parameters (every layer of a token shares them). NEOX pairs
 * are contiguous and rotate with vectors; NORMAL pairs are interleaved and rotate one by one.
 * Checked against ReferenceOps.rope in OpsTest.
 */
final class Rope {
    private int dims = -1;
    private float base, freqScale;
    private Op.Yarn yarn;
    private float[] factors;
    private int[] positions = new int[0];
    private int count;
    private float[] cos = new float[0], sin = new float[0];

    void apply(float[] x, int rowLength, int[] pos, int tokens, int headDim, int ropeDims, Op.RopeMode mode,
               float base, float freqScale, float[] freqFactors, float[] out) {
        apply(x, rowLength, pos, tokens, headDim, ropeDims, mode, base, freqScale, freqFactors, null, out);
    }

    /** With YaRN's angles and magnitude where {@code yarn} is not null (computed as {@link Op.Yarn} says). */
    void apply(float[] x, int rowLength, int[] pos, int tokens, int headDim, int ropeDims, Op.RopeMode mode,
               float base, float freqScale, float[] freqFactors, Op.Yarn yarn, float[] out) {
        int half = ropeDims / 2;
        tables(pos, tokens, ropeDims, base, freqScale, freqFactors, yarn);
        System.arraycopy(x, 0, out, 0, rowLength * tokens);
        for (int t = 0; t < tokens; t++) {
            int c = t * half;
            for (int o = t * rowLength; o < (t + 1) * rowLength; o += headDim) {
                if (mode == Op.RopeMode.NEOX) {
                    int i = 0;
                    for (; i + FL <= half; i += FL) {
                        FloatVector x0 = FloatVector.fromArray(F, x, o + i), x1 = FloatVector.fromArray(F, x, o + half + i);
                        FloatVector cv = FloatVector.fromArray(F, cos, c + i), sv = FloatVector.fromArray(F, sin, c + i);
                        x0.mul(cv).sub(x1.mul(sv)).intoArray(out, o + i);
                        x0.mul(sv).add(x1.mul(cv)).intoArray(out, o + half + i);
                    }
                    for (; i < half; i++) rotate(x, out, o + i, o + i + half, cos[c + i], sin[c + i]);
                } else {
                    for (int i = 0; i < half; i++) rotate(x, out, o + 2 * i, o + 2 * i + 1, cos[c + i], sin[c + i]);
                }
            }
        }
    }

    private static void rotate(float[] x, float[] out, int a, int b, float c, float s) {
        float x0 = x[a], x1 = x[b];
        out[a] = x0 * c - x1 * s;
        out[b] = x0 * s + x1 * c;
    }

    private void tables(int[] pos, int tokens, int ropeDims, float base, float freqScale, float[] freqFactors, Op.Yarn yarn) {
        int half = ropeDims / 2;
        if (ropeDims == dims && base == this.base && freqScale == this.freqScale && tokens == count && java.util.Objects.equals(yarn, this.yarn)
                && Arrays.equals(positions, 0, tokens, pos, 0, tokens)
                && (freqFactors == null ? factors == null : factors != null && Arrays.equals(factors, 0, half, freqFactors, 0, half))) {
            return;
        }
        if (cos.length < tokens * half) {
            cos = new float[tokens * half];
            sin = new float[tokens * half];
        }
        double[] corr = yarn != null ? yarn.corrDims(ropeDims, base) : null;
        double mscale = yarn != null ? yarn.mscale(freqScale) : 1;
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < half; i++) {
                double theta = yarn != null ? yarn.theta(pos[t] * Math.pow(base, -2.0 * i / ropeDims), freqScale, corr, i)
                        : pos[t] * (double) freqScale * Math.pow(base, -2.0 * i / ropeDims);
                if (freqFactors != null) theta /= freqFactors[i];
                cos[t * half + i] = (float) (Math.cos(theta) * mscale);
                sin[t * half + i] = (float) (Math.sin(theta) * mscale);
            }
        }
        this.yarn = yarn;
        dims = ropeDims;
        this.base = base;
        this.freqScale = freqScale;
        factors = freqFactors == null ? null : Arrays.copyOf(freqFactors, half);
        if (positions.length < tokens) positions = new int[tokens];
        System.arraycopy(pos, 0, positions, 0, tokens);
        count = tokens;
    }
}
