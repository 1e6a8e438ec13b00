package dev.hearth.runtime.dtype;

import static dev.hearth.runtime.dtype.ReferenceCodecs.nearestInt;

/**
 * The scale searches behind the K-quant quantizers: for a small group of values, pick the scale
 * (and for the asymmetric types, the offset) whose rounded quants fit the group best. These are
 * the searches of ggml's reference path without an importance matrix ({@code make_qx_quants}
 * with weights x^2, {@code make_q3_quants}, {@code make_qkx2_quants}), written as the same float
 * operations in the same order so that the quants agree with llama-quantize's wherever the C
 * compiler did not fuse multiply-adds.
 *
 * <p>Quants come back in {@code L[lo..lo+n)} already offset to be non-negative.
 */
final class KQuantSearch {
    /** Below this the group counts as all zeros (ggml's GROUP_MAX_EPS). */
    static final float GROUP_MAX_EPS = 1e-15f;

    private KQuantSearch() {
    }

    private static int clamp(int v, int lo, int hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    /**
     * Symmetric scale for quants in {@code -nmax..nmax-1}, minimizing the error weighted by x^2:
     * starts from the scale that maps the largest magnitude to -nmax, then tries 18 nearby
     * scales and keeps the least-squares best. Returns the scale; {@code L} gets {@code q + nmax}.
     */
    static float symmetricScale(int n, int nmax, float[] x, int xo, int[] L, int lo) {
        float max = 0f, amax = 0f;
        for (int i = 0; i < n; i++) {
            float ax = Math.abs(x[xo + i]);
            if (ax > amax) {
                amax = ax;
                max = x[xo + i];
            }
        }
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; i++) L[lo + i] = 0;
            return 0f;
        }
        float iscale = -nmax / max;
        float sumlx = 0f, suml2 = 0f;
        for (int i = 0; i < n; i++) {
            float v = x[xo + i];
            int l = clamp(nearestInt(iscale * v), -nmax, nmax - 1);
            L[lo + i] = l + nmax;
            float w = v * v;
            sumlx += w * v * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0f ? sumlx / suml2 : 0f;
        float best = scale * sumlx;
        for (int is = -9; is <= 9; is++) {
            if (is == 0) continue;
            iscale = -(nmax + 0.1f * is) / max;
            sumlx = 0f;
            suml2 = 0f;
            for (int i = 0; i < n; i++) {
                float v = x[xo + i];
                int l = clamp(nearestInt(iscale * v), -nmax, nmax - 1);
                float w = v * v;
                sumlx += w * v * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0f && sumlx * sumlx > best * suml2) {
                for (int i = 0; i < n; i++) {
                    L[lo + i] = nmax + clamp(nearestInt(iscale * x[xo + i]), -nmax, nmax - 1);
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /**
     * Symmetric scale for Q3_K's quants in {@code -nmax..nmax-1}: starts like
     * {@link #symmetricScale} at the largest magnitude, then moves single quants while that lowers
     * the x^2-weighted error (up to 5 passes). Returns the scale; {@code L} gets {@code q + nmax}.
     */
    static float q3Scale(int n, int nmax, float[] x, int xo, int[] L, int lo) {
        float max = 0f, amax = 0f;
        for (int i = 0; i < n; i++) {
            float ax = Math.abs(x[xo + i]);
            if (ax > amax) {
                amax = ax;
                max = x[xo + i];
            }
        }
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; i++) L[lo + i] = 0;
            return 0f;
        }
        float iscale = -nmax / max;
        float sumlx = 0f, suml2 = 0f;
        for (int i = 0; i < n; i++) {
            float v = x[xo + i];
            int l = clamp(nearestInt(iscale * v), -nmax, nmax - 1);
            L[lo + i] = l;
            float w = v * v;
            sumlx += w * v * l;
            suml2 += w * l * l;
        }
        for (int pass = 0; pass < 5; pass++) {
            int changed = 0;
            for (int i = 0; i < n; i++) {
                float v = x[xo + i];
                float w = v * v;
                int old = L[lo + i];
                float slx = sumlx - w * v * old;
                if (slx > 0f) {
                    float sl2 = suml2 - w * old * old;
                    int l = clamp(nearestInt(v * sl2 / slx), -nmax, nmax - 1);
                    if (l != old) {
                        slx += w * v * l;
                        sl2 += w * l * l;
                        if (sl2 > 0f && slx * slx * suml2 > sumlx * sumlx * sl2) {
                            L[lo + i] = l;
                            sumlx = slx;
                            suml2 = sl2;
                            changed++;
                        }
                    }
                }
            }
            if (changed == 0) break;
        }
        for (int i = 0; i < n; i++) L[lo + i] += nmax;
        return sumlx / suml2;
    }

    /**
     * Scale and offset for quants in {@code 0..nmax} with x ≈ scale*q - min (min ≥ 0): starts
     * from the group's range, then tries {@code nstep+1} scales from
     * {@code (nmax + rmin + rdelta*k) / range}, fitting scale and offset by weighted least squares
     * to each rounding and keeping the one of least weighted error (absolute if {@code useMad},
     * else squared). Returns the scale; writes the offset (as a positive number to subtract) to
     * {@code mins[mi]} and the quants to {@code L}; {@code aux} is scratch of {@code n}.
     */
    static float scaleAndMin(int n, int nmax, float[] x, int xo, float[] w, int[] L, int lo, float[] mins, int mi,
                             int[] aux, float rmin, float rdelta, int nstep, boolean useMad) {
        float min = x[xo], max = x[xo];
        float sumW = w[0];
        float sumX = sumW * x[xo];
        for (int i = 1; i < n; i++) {
            float v = x[xo + i];
            if (v < min) min = v;
            if (v > max) max = v;
            sumW += w[i];
            sumX += w[i] * v;
        }
        if (min > 0f) min = 0f;
        if (max == min) {
            for (int i = 0; i < n; i++) L[lo + i] = 0;
            mins[mi] = -min;
            return 0f;
        }
        float iscale = nmax / (max - min);
        float scale = 1f / iscale;
        float best = 0f;
        for (int i = 0; i < n; i++) {
            float v = x[xo + i];
            int l = clamp(nearestInt(iscale * (v - min)), 0, nmax);
            L[lo + i] = l;
            float diff = scale * l + min - v;
            best += w[i] * (useMad ? Math.abs(diff) : diff * diff);
        }
        if (nstep < 1) {
            mins[mi] = -min;
            return scale;
        }
        for (int is = 0; is <= nstep; is++) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0f, sumL2 = 0f, sumXL = 0f;
            for (int i = 0; i < n; i++) {
                float v = x[xo + i];
                int l = clamp(nearestInt(iscale * (v - min)), 0, nmax);
                aux[i] = l;
                sumL += w[i] * l;
                sumL2 += w[i] * l * l;
                sumXL += w[i] * l * v;
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0f) {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0f) {
                    thisMin = 0f;
                    thisScale = sumXL / sumL2;
                }
                float err = 0f;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * aux[i] + thisMin - x[xo + i];
                    err += w[i] * (useMad ? Math.abs(diff) : diff * diff);
                }
                if (err < best) {
                    System.arraycopy(aux, 0, L, lo, n);
                    best = err;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        mins[mi] = -min;
        return scale;
    }
}
