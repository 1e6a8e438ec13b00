package dev.hearth.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import static dev.hearth.backend.cpu.Mem.F256;
import static dev.hearth.backend.cpu.Mem.I256;
import static dev.hearth.backend.cpu.Mem.S128;
import static dev.hearth.backend.cpu.Mem.S256;

/**
 * Activations quantized to int8 blocks of 32 (ggml's Q8_0: d = max|x| / 127, q = round(x / d),
 * halves away from zero), once per mul_mat, so that the weight kernels multiply integers. One
 * layout per kernel family:
 * <ul>
 *   <li>pairs (Q4_0, Q4_1, Q5_0, Q5_1; {@link #PAIR_INTS} ints per block): lane i of the first 8
 *       ints holds elements 2i and 2i+1 as {@code (q[2i] << 16) + q[2i+1]}, the next 8 ints the
 *       same for elements 16..31. A weight lane {@code w[2i] + (w[2i+1] << 16)} (non-negative
 *       nibbles) times it has {@code w[2i]q[2i] + w[2i+1]q[2i+1]} in its top half, so one 32-bit
 *       multiply does two products and their sum. Then a per-lane bias, 8 times over: 0x8000
 *       (rounds the low cross term away) minus {@code offset/8 * sum(q)} shifted to the top half
 *       (the weights' zero point, -8 for Q4_0, -16 for Q5_0); then d as float bits and sum(q).</li>
 *   <li>lanes (Q4_0 repacked eight rows, {@link DotQ4x8}): {@link #lanes}.</li>
 *   <li>K (Q4_K, Q5_K, Q6_K): {@link #pairsK}.</li>
 *   <li>shorts (Q8_0): the 32 quants as int16 and d in a float array.</li>
 * </ul>
 * Checked through the kernels against float dot products (MulMatTest).
 */
final class ActQuant {
    /** Ints per block of the pairs layout, and where its parts start. */
    static final int PAIR_INTS = 32, BIAS = 16, D = 24, SUM = 25;

    private ActQuant() {
    }

    /** The scale d = max|x| / 127 of the block of 32 at {@code x[xo]}. */
    static float scale(float[] x, int xo) {
        FloatVector v0 = FloatVector.fromArray(F256, x, xo), v1 = FloatVector.fromArray(F256, x, xo + 8);
        FloatVector v2 = FloatVector.fromArray(F256, x, xo + 16), v3 = FloatVector.fromArray(F256, x, xo + 24);
        return v0.abs().max(v1.abs()).max(v2.abs().max(v3.abs())).reduceLanes(VectorOperators.MAX) / 127f;
    }

    /**
     * Quantizes the block of 32 at {@code x[xo]} with its scale {@code d} ({@link #scale}) into
     * int16 {@code q[qo..qo+32)}, rounding halves away from zero (|x / d| + 0.5 truncated, with
     * x's sign); returns sum(q).
     */
    static int block(float[] x, int xo, float d, short[] q, int qo) {
        FloatVector v0 = FloatVector.fromArray(F256, x, xo), v1 = FloatVector.fromArray(F256, x, xo + 8);
        FloatVector v2 = FloatVector.fromArray(F256, x, xo + 16), v3 = FloatVector.fromArray(F256, x, xo + 24);
        float id = d != 0f ? 1f / d : 0f;
        FloatVector rq0 = v0.mul(id);
        IntVector q0 = (IntVector) rq0.abs().add(0.5f).convert(VectorOperators.F2I, 0);
        q0 = q0.blend(q0.neg(), rq0.compare(VectorOperators.LT, 0f).cast(I256));
        FloatVector rq1 = v1.mul(id);
        IntVector q1 = (IntVector) rq1.abs().add(0.5f).convert(VectorOperators.F2I, 0);
        q1 = q1.blend(q1.neg(), rq1.compare(VectorOperators.LT, 0f).cast(I256));
        FloatVector rq2 = v2.mul(id);
        IntVector q2 = (IntVector) rq2.abs().add(0.5f).convert(VectorOperators.F2I, 0);
        q2 = q2.blend(q2.neg(), rq2.compare(VectorOperators.LT, 0f).cast(I256));
        FloatVector rq3 = v3.mul(id);
        IntVector q3 = (IntVector) rq3.abs().add(0.5f).convert(VectorOperators.F2I, 0);
        q3 = q3.blend(q3.neg(), rq3.compare(VectorOperators.LT, 0f).cast(I256));
        ((ShortVector) q0.convertShape(VectorOperators.I2S, S128, 0)).intoArray(q, qo);
        ((ShortVector) q1.convertShape(VectorOperators.I2S, S128, 0)).intoArray(q, qo + 8);
        ((ShortVector) q2.convertShape(VectorOperators.I2S, S128, 0)).intoArray(q, qo + 16);
        ((ShortVector) q3.convertShape(VectorOperators.I2S, S128, 0)).intoArray(q, qo + 24);
        return q0.add(q1).add(q2.add(q3)).reduceLanes(VectorOperators.ADD);
    }

    /**
     * The pairs layout of {@code k} elements of {@code x} from {@code xo}; {@code offset} is the
     * weights' zero point; {@code tmp} holds 32 shorts.
     */
    static void pairs(float[] x, int xo, int k, int offset, int[] dst, short[] tmp) {
        for (int b = 0, p = 0; b < k / 32; b++, p += PAIR_INTS) {
            float d = scale(x, xo + 32 * b);
            int sum = block(x, xo + 32 * b, d, tmp, 0);
            // int lane i of a short vector is q[2i] (low half, as bits) and q[2i+1] (high half)
            IntVector lo = ShortVector.fromArray(S256, tmp, 0).reinterpretAsInts();
            IntVector hi = ShortVector.fromArray(S256, tmp, 16).reinterpretAsInts();
            lo.lanewise(VectorOperators.LSHL, 16).add(lo.lanewise(VectorOperators.ASHR, 16)).intoArray(dst, p);
            hi.lanewise(VectorOperators.LSHL, 16).add(hi.lanewise(VectorOperators.ASHR, 16)).intoArray(dst, p + 8);
            java.util.Arrays.fill(dst, p + BIAS, p + BIAS + 8, 0x8000 - ((offset / 8 * sum) << 16));
            dst[p + D] = Float.floatToRawIntBits(d);
            dst[p + SUM] = sum;
        }
    }

    /** Shorts per block of the lanes layout. */
    static final int LANE_SHORTS = 256;

    /**
     * The lanes layout (Q4_0 repacked eight rows, {@link DotQ4x8}): per block of 32, sixteen
     * vectors of sixteen 16-bit lanes, {@code xl[256b + 16j + 2r + e]}: for j < 8 the quant
     * {@code q[2j+e]}, for j >= 8 {@code q[16+2(j-8)+e] - 16 q[2(j-8)+e]}, the same for every r;
     * and in {@code xb[2b]} the zero point's term -8 sum(q), in {@code xb[2b+1]} d's float bits.
     */
    static void lanes(float[] x, int xo, int k, short[] xl, int[] xb, short[] tmp) {
        for (int b = 0; b < k / 32; b++) {
            float d = scale(x, xo + 32 * b);
            int sum = block(x, xo + 32 * b, d, tmp, 0);
            int base = LANE_SHORTS * b;
            for (int j = 0; j < 8; j++) { // (q[2j], q[2j+1]) as one int, broadcast to the 8 rows
                int l0 = tmp[2 * j], l1 = tmp[2 * j + 1];
                int h0 = tmp[16 + 2 * j] - 16 * l0, h1 = tmp[17 + 2 * j] - 16 * l1;
                IntVector.broadcast(I256, (l0 & 0xffff) | (l1 << 16)).reinterpretAsShorts().intoArray(xl, base + 16 * j);
                IntVector.broadcast(I256, (h0 & 0xffff) | (h1 << 16)).reinterpretAsShorts().intoArray(xl, base + 128 + 16 * j);
            }
            xb[2 * b] = -8 * sum;
            xb[2 * b + 1] = Float.floatToRawIntBits(d);
        }
    }

    /**
     * The lanes layout for Q8_0 repacked eight rows ({@link DotQ8#q8_0x8}): per block of 32,
     * sixteen vectors of sixteen 16-bit lanes, {@code xl[256b + 16j + 2r + e] = q[2j + e]} for
     * every r, and d in {@code xd[b]}.
     */
    static void lanes8(float[] x, int xo, int k, short[] xl, float[] xd, short[] tmp) {
        for (int b = 0; b < k / 32; b++) {
            xd[b] = scale(x, xo + 32 * b);
            block(x, xo + 32 * b, xd[b], tmp, 0);
            int base = LANE_SHORTS * b;
            for (int j = 0; j < 16; j++) {
                IntVector.broadcast(I256, (tmp[2 * j] & 0xffff) | (tmp[2 * j + 1] << 16)).reinterpretAsShorts().intoArray(xl, base + 16 * j);
            }
        }
    }

    /** max|x| / 127 over the 256 elements at {@code base}: a super-block's scale (ggml's Q8_K). */
    private static float superScale(float[] x, int base) {
        FloatVector m = FloatVector.fromArray(F256, x, base).abs();
        for (int i = 8; i < 256; i += 8) m = m.max(FloatVector.fromArray(F256, x, base + i).abs());
        return m.reduceLanes(VectorOperators.MAX) / 127f;
    }

    /**
     * The lanes layout of {@link #lanes8} with one scale per super-block of 256 (as ggml's Q8_K),
     * for Q6_K repacked as int8 ({@link DotK#q6_kx8}): {@code xl[2048sb + 16j + 2r + e] = q[2j + e]}
     * for every r, and d in {@code xd[sb]}.
     */
    static void lanes8K(float[] x, int xo, int k, short[] xl, float[] xd, short[] tmp) {
        for (int sb = 0; sb < k / 256; sb++) {
            float d = superScale(x, xo + 256 * sb);
            xd[sb] = d;
            for (int b = 0; b < 8; b++) {
                block(x, xo + 256 * sb + 32 * b, d, tmp, 0);
                int base = LANE_SHORTS_K * sb + LANE_SHORTS * b;
                for (int j = 0; j < 16; j++) {
                    IntVector.broadcast(I256, (tmp[2 * j] & 0xffff) | (tmp[2 * j + 1] << 16)).reinterpretAsShorts().intoArray(xl, base + 16 * j);
                }
            }
        }
    }

    /** Shorts and ints per super-block of the K lanes layout. */
    static final int LANE_SHORTS_K = 2048, K_LANE_INTS = 16;

    /**
     * The K lanes layout (Q4_K repacked eight rows, {@link DotK#q4_kx8}): per super-block of 256
     * one scale d = max|x| / 127 (as ggml's Q8_K); for each chunk c (sub-blocks 2c and 2c+1) 32
     * vectors of sixteen 16-bit lanes, {@code xl[2048sb + 512c + 16m + 2r + e] = q[64c + 2m + e]}
     * and {@code xl[2048sb + 512c + 256 + 16m + 2r + e] = q[64c + 32 + 2m + e]} for every r; the
     * sums of q over each sub-block in {@code xs[16sb..16sb+8)} and d's float bits in
     * {@code xs[16sb+8]}.
     */
    static void lanesK(float[] x, int xo, int k, short[] xl, int[] xs, short[] tmp) {
        for (int sb = 0; sb < k / 256; sb++) {
            int base = xo + 256 * sb;
            float d = superScale(x, base);
            for (int j = 0; j < 8; j++) {
                xs[K_LANE_INTS * sb + j] = block(x, base + 32 * j, d, tmp, 0);
                int c = j >> 1, at = LANE_SHORTS_K * sb + 512 * c + 256 * (j & 1);
                for (int p = 0; p < 16; p++) {
                    IntVector.broadcast(I256, (tmp[2 * p] & 0xffff) | (tmp[2 * p + 1] << 16)).reinterpretAsShorts().intoArray(xl, at + 16 * p);
                }
            }
            xs[K_LANE_INTS * sb + 8] = Float.floatToRawIntBits(d);
        }
    }

    /** The shorts layout: quants in {@code q[0..k)}, scales in {@code d[0..k/32)}. */
    static void shorts(float[] x, int xo, int k, short[] q, float[] d) {
        for (int b = 0; b < k / 32; b++) {
            d[b] = scale(x, xo + 32 * b);
            block(x, xo + 32 * b, d[b], q, 32 * b);
        }
    }

    /** Ints per super-block of 256 of the K layout, and where its parts start. */
    static final int K_INTS = 160, K_SUMS = 128, K_D = 144;

    /**
     * The K layout (for Q4_K, Q5_K, Q6_K): per super-block of 256 one scale d = max|x| / 127 (as
     * ggml's Q8_K), then for each sub-block of 32 its 16 ints of pairs (as {@link #pairs}), the
     * sums of q over each 16 at {@link #K_SUMS}, and d at {@link #K_D}.
     */
    static void pairsK(float[] x, int xo, int k, int[] dst, short[] tmp) {
        for (int sb = 0, p = 0; sb < k / 256; sb++, p += K_INTS) {
            int base = xo + 256 * sb;
            float d = superScale(x, base);
            for (int j = 0; j < 8; j++) {
                int sum = block(x, base + 32 * j, d, tmp, 0), first = 0;
                for (int i = 0; i < 16; i++) first += tmp[i];
                dst[p + K_SUMS + 2 * j] = first;
                dst[p + K_SUMS + 2 * j + 1] = sum - first;
                IntVector lo = ShortVector.fromArray(S256, tmp, 0).reinterpretAsInts();
                IntVector hi = ShortVector.fromArray(S256, tmp, 16).reinterpretAsInts();
                lo.lanewise(VectorOperators.LSHL, 16).add(lo.lanewise(VectorOperators.ASHR, 16)).intoArray(dst, p + 16 * j);
                hi.lanewise(VectorOperators.LSHL, 16).add(hi.lanewise(VectorOperators.ASHR, 16)).intoArray(dst, p + 16 * j + 8);
            }
            dst[p + K_D] = Float.floatToRawIntBits(d);
        }
    }
}
