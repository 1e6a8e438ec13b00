package dev.hearth.runtime.dtype;

import java.util.List;

import static dev.hearth.runtime.dtype.ReferenceCodecs.half;
import static dev.hearth.runtime.dtype.ReferenceCodecs.i32;
import static dev.hearth.runtime.dtype.ReferenceCodecs.nearestInt;
import static dev.hearth.runtime.dtype.ReferenceCodecs.putHalf;
import static dev.hearth.runtime.dtype.ReferenceCodecs.putI16;
import static dev.hearth.runtime.dtype.ReferenceCodecs.putI32;
import static dev.hearth.runtime.dtype.ReferenceCodecs.roundToHalf;
import static dev.hearth.runtime.dtype.ReferenceCodecs.u8;

/**
 * Reference codecs of ggml's K-quants: super-blocks of 256 elements split into sub-blocks with
 * their own small integer scales, which an fp16 super-scale {@code d} (and {@code dmin} for
 * offsets) turns into floats. Byte layouts, in order, little-endian, no padding:
 * <pre>
 *   Q2_K  (84 B): scales[16] (low nibble scale, high nibble min, per 16), qs[64] 2-bit, d, dmin
 *                 x = d*sc*q - dmin*m
 *   Q3_K (110 B): hmask[32], qs[64] 2-bit, scales[12] (16 x 6-bit), d
 *                 x = d*(sc-32)*(q-4), q = low 2 bits + 4*high bit
 *   Q4_K (144 B): d, dmin, scales[12] (8 scales + 8 mins, 6-bit), qs[128] 4-bit
 *                 x = d*sc*q - dmin*m, per 32
 *   Q5_K (176 B): d, dmin, scales[12], qh[32], qs[128]
 *                 as Q4_K with q = nibble + 16*high bit
 *   Q6_K (210 B): ql[128] low 4 bits, qh[64] high 2 bits, scales[16] int8, d
 *                 x = d*sc*(q-32), per 16
 *   Q8_K (292 B): d (fp32), qs[256] int8, bsums[16] int16 (sums of 16 quants)
 *                 x = d*q; only for activations in dot products
 * </pre>
 * Where the quants sit, for element {@code e} of a super-block:
 * <ul>
 *   <li>2-bit planes (Q2_K, Q3_K): half {@code h = e/128}, {@code r = e%128}: bits
 *       {@code 2*(r/32)} of {@code qs[32h + r%32]}; scale index {@code e/16}.
 *       Q3_K's high bit: bit {@code e/32} of {@code hmask[e%32]}.</li>
 *   <li>Q3_K scales: low 4 bits of scale {@code j} in {@code scales[j%8]} (low nibble for
 *       {@code j<8}, high for {@code j≥8}), high 2 bits at bits {@code 2*(j/4)} of
 *       {@code scales[8 + j%4]}.</li>
 *   <li>Q4_K/Q5_K: chunk {@code c = e/64}: low nibble of {@code qs[32c + e%32]} for
 *       {@code e%64 < 32}, else high nibble; scale and min index {@code e/32}, 6 bits each:
 *       for {@code j<4}, {@code scales[j]} and {@code scales[j+4]} (low 6 bits); for {@code j≥4},
 *       the nibbles of {@code scales[j+4]} (scale low, min high) plus the top 2 bits of
 *       {@code scales[j-4]} (scale) and {@code scales[j]} (min). Q5_K's high bit: bit
 *       {@code e/32} of {@code qh[e%32]}.</li>
 *   <li>Q6_K: half {@code h}, {@code r = e%128}, {@code k = r/32}, {@code l = r%32}: nibble
 *       {@code k/2} of {@code ql[64h + 32*(k%2) + l]}, bits {@code 2k} of {@code qh[32h + l]};
 *       scale index {@code e/16}.</li>
 * </ul>
 * Quantizers are ggml's reference path without an importance matrix
 * ({@code quantize_row_q*_K_ref}), written afresh with the same searches (KQuantSearch) and
 * requantization against the fp16-rounded scales. Checked against hand-built super-blocks
 * packed as ggml's quantizers pack them, round-trip error bounds on random data, and the error
 * limits of ggml's own quantizer test (test-quantize-fns), which these quantizers pass
 * (HandBuiltBlocksTest, RoundTripTest).
 */
final class KQuants {
    static final int QK = 256;

    private KQuants() {
    }

    static List<QuantCodec> all() {
        return List.of(new Q2_K(), new Q3_K(), new Q4_K(), new Q5_K(), new Q6_K(), new Q8_K());
    }

    /** Six-bit scale {@code j} (0..7) of the Q4_K/Q5_K scale bytes at {@code b[p..p+12)}. */
    static int scaleK4(byte[] b, int p, int j) {
        return j < 4 ? u8(b, p + j) & 63 : (u8(b, p + j + 4) & 0xf) | (u8(b, p + j - 4) >>> 6) << 4;
    }

    /** Six-bit min {@code j} (0..7) of the Q4_K/Q5_K scale bytes at {@code b[p..p+12)}. */
    static int minK4(byte[] b, int p, int j) {
        return j < 4 ? u8(b, p + j + 4) & 63 : (u8(b, p + j + 4) >>> 4) | (u8(b, p + j) >>> 6) << 4;
    }

    /** Packs 8 six-bit scales and mins into {@code b[p..p+12)}, which arrives zeroed. */
    static void packScaleMin(byte[] b, int p, int[] sc, int[] mn) {
        for (int j = 0; j < 8; j++) {
            if (j < 4) {
                b[p + j] |= (byte) sc[j];
                b[p + j + 4] |= (byte) mn[j];
            } else {
                b[p + j + 4] = (byte) ((sc[j] & 0xf) | (mn[j] & 0xf) << 4);
                b[p + j - 4] |= (byte) ((sc[j] >>> 4) << 6);
                b[p + j] |= (byte) ((mn[j] >>> 4) << 6);
            }
        }
    }

    /** Packs 256 two-bit quants into Q2_K/Q3_K's 64 bytes at {@code b[p]}. */
    private static void pack2Bit(byte[] b, int p, int[] L) {
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                int e = 128 * h + l;
                b[p + 32 * h + l] = (byte) (L[e] | L[e + 32] << 2 | L[e + 64] << 4 | L[e + 96] << 6);
            }
        }
    }

    static final class Q2_K extends BlockCodec {
        Q2_K() {
            super(DType.Q2_K);
        }

        void decode(byte[] b, int p, float[] y, int o) {
            float d = half(b, p + 80), dmin = half(b, p + 82);
            for (int e = 0; e < QK; e += 16) {
                int sc = u8(b, p + e / 16);
                float dl = d * (sc & 0xf), ml = dmin * (sc >>> 4);
                int r = e % 128, shift = 2 * (r / 32);
                int q = p + 16 + 32 * (e / 128) + r % 32;
                for (int l = 0; l < 16; l++) y[o + e + l] = dl * ((u8(b, q + l) >>> shift) & 3) - ml;
            }
        }

        void encode(float[] x, int s, byte[] b, int p) {
            int[] L = new int[QK], aux = new int[16], sc = new int[16];
            float[] w = new float[16], scales = new float[16], mins = new float[16];
            float maxScale = 0f, maxMin = 0f;
            for (int j = 0; j < 16; j++) {
                for (int l = 0; l < 16; l++) w[l] = Math.abs(x[s + 16 * j + l]);
                scales[j] = KQuantSearch.scaleAndMin(16, 3, x, s + 16 * j, w, L, 16 * j, mins, j, aux, -0.5f, 0.1f, 15, true);
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }
            float d = 0f, dmin = 0f;
            if (maxScale > 0f) {
                float iscale = 15f / maxScale;
                for (int j = 0; j < 16; j++) sc[j] = nearestInt(iscale * scales[j]) & 0xff;
                d = maxScale / 15f;
            }
            if (maxMin > 0f) {
                float iscale = 15f / maxMin;
                for (int j = 0; j < 16; j++) sc[j] = (sc[j] | nearestInt(iscale * mins[j]) << 4) & 0xff;
                dmin = maxMin / 15f;
            }
            for (int j = 0; j < 16; j++) b[p + j] = (byte) sc[j];
            putHalf(b, p + 80, d);
            putHalf(b, p + 82, dmin);
            float dq = roundToHalf(d), dmq = roundToHalf(dmin);
            for (int j = 0; j < 16; j++) {
                float dl = dq * (sc[j] & 0xf);
                if (dl == 0f) continue;
                float ml = dmq * (sc[j] >>> 4);
                for (int l = 0; l < 16; l++) {
                    L[16 * j + l] = Math.clamp(nearestInt((x[s + 16 * j + l] + ml) / dl), 0, 3);
                }
            }
            pack2Bit(b, p + 16, L);
        }
    }

    static final class Q3_K extends BlockCodec {
        Q3_K() {
            super(DType.Q3_K);
        }

        /** Signed scale {@code j} (0..15, already minus 32) of the super-block at {@code b[p]}. */
        private static int scale(byte[] b, int p, int j) {
            int s = p + 96;
            int low = j < 8 ? u8(b, s + j) & 0xf : u8(b, s + j - 8) >>> 4;
            int high = (u8(b, s + 8 + j % 4) >>> (2 * (j / 4))) & 3;
            return (low | high << 4) - 32;
        }

        void decode(byte[] b, int p, float[] y, int o) {
            float d = half(b, p + 108);
            for (int e = 0; e < QK; e += 16) {
                float dl = d * scale(b, p, e / 16);
                int r = e % 128, shift = 2 * (r / 32), bit = e / 32;
                int q = p + 32 + 32 * (e / 128) + r % 32;
                int hm = p + r % 32;
                for (int l = 0; l < 16; l++) {
                    int low = (u8(b, q + l) >>> shift) & 3;
                    int high = (u8(b, hm + l) >>> bit) & 1;
                    y[o + e + l] = dl * (low - (high != 0 ? 0 : 4));
                }
            }
        }

        void encode(float[] x, int s, byte[] b, int p) {
            int[] L = new int[QK];
            float[] scales = new float[16];
            float maxScale = 0f, amax = 0f;
            for (int j = 0; j < 16; j++) {
                scales[j] = KQuantSearch.q3Scale(16, 4, x, s + 16 * j, L, 16 * j);
                float a = Math.abs(scales[j]);
                if (a > amax) {
                    amax = a;
                    maxScale = scales[j];
                }
            }
            float d = 0f;
            if (maxScale != 0f) {
                float iscale = -32f / maxScale;
                for (int j = 0; j < 16; j++) {
                    int l = Math.clamp((byte) nearestInt(iscale * scales[j]), -32, 31) + 32;
                    b[p + 96 + j % 8] |= (byte) ((l & 0xf) << (j < 8 ? 0 : 4));
                    b[p + 96 + 8 + j % 4] |= (byte) ((l >>> 4) << (2 * (j / 4)));
                }
                d = 1f / iscale;
            }
            putHalf(b, p + 108, d);
            float dq = roundToHalf(d);
            for (int j = 0; j < 16; j++) {
                float dl = dq * scale(b, p, j);
                if (dl == 0f) continue;
                for (int l = 0; l < 16; l++) {
                    L[16 * j + l] = Math.clamp(nearestInt(x[s + 16 * j + l] / dl), -4, 3) + 4;
                }
            }
            for (int e = 0; e < QK; e++) {
                if (L[e] > 3) {
                    b[p + e % 32] |= (byte) (1 << (e / 32));
                    L[e] -= 4;
                }
            }
            pack2Bit(b, p + 32, L);
        }
    }

    /** Q4_K and Q5_K: the same scales, mins and search; {@code bits} is 4 or 5. */
    private abstract static sealed class ScaleMinCodec extends BlockCodec permits Q4_K, Q5_K {
        private final int bits;
        private final int qsAt;

        ScaleMinCodec(DType type, int bits) {
            super(type);
            this.bits = bits;
            this.qsAt = bits == 4 ? 16 : 48;
        }

        void decode(byte[] b, int p, float[] y, int o) {
            float d = half(b, p), dmin = half(b, p + 2);
            for (int j = 0; j < 8; j++) {
                float dl = d * scaleK4(b, p + 4, j), ml = dmin * minK4(b, p + 4, j);
                int q = p + qsAt + 32 * (j / 2);
                int shift = 4 * (j % 2);
                for (int l = 0; l < 32; l++) {
                    int v = (u8(b, q + l) >>> shift) & 0xf;
                    if (bits == 5) v |= ((u8(b, p + 16 + l) >>> j) & 1) << 4;
                    y[o + 32 * j + l] = dl * v - ml;
                }
            }
        }

        void encode(float[] x, int s, byte[] b, int p) {
            int nmax = (1 << bits) - 1;
            int[] L = new int[QK], aux = new int[32], sc = new int[8], mn = new int[8];
            float[] w = new float[32], scales = new float[8], mins = new float[8];
            float maxScale = 0f, maxMin = 0f;
            for (int j = 0; j < 8; j++) {
                int xo = s + 32 * j;
                float sumX2 = 0f;
                for (int l = 0; l < 32; l++) sumX2 += x[xo + l] * x[xo + l];
                float avX = (float) Math.sqrt(sumX2 / 32);
                for (int l = 0; l < 32; l++) w[l] = avX + Math.abs(x[xo + l]);
                scales[j] = bits == 4
                        ? KQuantSearch.scaleAndMin(32, nmax, x, xo, w, L, 32 * j, mins, j, aux, -1f, 0.1f, 20, false)
                        : KQuantSearch.scaleAndMin(32, nmax, x, xo, w, L, 32 * j, mins, j, aux, -0.5f, 0.1f, 15, false);
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }
            float invScale = maxScale > 0f ? 63f / maxScale : 0f;
            float invMin = maxMin > 0f ? 63f / maxMin : 0f;
            for (int j = 0; j < 8; j++) {
                sc[j] = Math.min(63, nearestInt(invScale * scales[j]));
                mn[j] = Math.min(63, nearestInt(invMin * mins[j]));
            }
            packScaleMin(b, p + 4, sc, mn);
            float d = maxScale / 63f, dmin = maxMin / 63f;
            putHalf(b, p, d);
            putHalf(b, p + 2, dmin);
            float dq = roundToHalf(d), dmq = roundToHalf(dmin);
            for (int j = 0; j < 8; j++) {
                float dl = dq * sc[j];
                if (dl == 0f) continue;
                float ml = dmq * mn[j];
                for (int l = 0; l < 32; l++) {
                    L[32 * j + l] = Math.clamp(nearestInt((x[s + 32 * j + l] + ml) / dl), 0, nmax);
                }
            }
            for (int c = 0; c < 4; c++) {
                for (int l = 0; l < 32; l++) {
                    int lo = L[64 * c + l], hi = L[64 * c + 32 + l];
                    b[p + qsAt + 32 * c + l] = (byte) ((lo & 0xf) | (hi & 0xf) << 4);
                    if (bits == 5) b[p + 16 + l] |= (byte) ((lo >>> 4) << (2 * c) | (hi >>> 4) << (2 * c + 1));
                }
            }
        }
    }

    static final class Q4_K extends ScaleMinCodec {
        Q4_K() {
            super(DType.Q4_K, 4);
        }
    }

    static final class Q5_K extends ScaleMinCodec {
        Q5_K() {
            super(DType.Q5_K, 5);
        }
    }

    static final class Q6_K extends BlockCodec {
        Q6_K() {
            super(DType.Q6_K);
        }

        void decode(byte[] b, int p, float[] y, int o) {
            float d = half(b, p + 208);
            for (int e = 0; e < QK; e += 16) {
                float dl = d * b[p + 192 + e / 16];
                int h = e / 128, r = e % 128, k = r / 32;
                int ql = p + 64 * h + 32 * (k % 2), qh = p + 128 + 32 * h;
                int lowShift = 4 * (k / 2), highShift = 2 * k;
                for (int l = r % 32, i = 0; i < 16; l++, i++) {
                    int low = (u8(b, ql + l) >>> lowShift) & 0xf;
                    int high = (u8(b, qh + l) >>> highShift) & 3;
                    y[o + e + i] = dl * ((low | high << 4) - 32);
                }
            }
        }

        void encode(float[] x, int s, byte[] b, int p) {
            int[] L = new int[QK];
            float[] scales = new float[16];
            float maxScale = 0f, maxAbs = 0f;
            for (int j = 0; j < 16; j++) {
                scales[j] = KQuantSearch.symmetricScale(16, 32, x, s + 16 * j, L, 16 * j);
                float a = Math.abs(scales[j]);
                if (a > maxAbs) {
                    maxAbs = a;
                    maxScale = scales[j];
                }
            }
            if (maxAbs < KQuantSearch.GROUP_MAX_EPS) return;   // all zeros, as the block arrives
            float iscale = -128f / maxScale;
            float d = 1f / iscale;
            putHalf(b, p + 208, d);
            float dq = roundToHalf(d);
            for (int j = 0; j < 16; j++) {
                byte sc = (byte) Math.min(127, nearestInt(iscale * scales[j]));
                b[p + 192 + j] = sc;
                float dl = dq * sc;
                if (dl == 0f) continue;
                for (int l = 0; l < 16; l++) {
                    L[16 * j + l] = Math.clamp(nearestInt(x[s + 16 * j + l] / dl), -32, 31) + 32;
                }
            }
            for (int e = 0; e < QK; e++) {
                int h = e / 128, r = e % 128, k = r / 32, l = r % 32;
                b[p + 64 * h + 32 * (k % 2) + l] |= (byte) ((L[e] & 0xf) << (4 * (k / 2)));
                b[p + 128 + 32 * h + l] |= (byte) ((L[e] >>> 4) << (2 * k));
            }
        }
    }

    static final class Q8_K extends BlockCodec {
        Q8_K() {
            super(DType.Q8_K);
        }

        void decode(byte[] b, int p, float[] y, int o) {
            float d = Float.intBitsToFloat(i32(b, p));
            for (int j = 0; j < QK; j++) y[o + j] = d * b[p + 4 + j];
        }

        void encode(float[] x, int s, byte[] b, int p) {
            float max = 0f, amax = 0f;
            for (int j = 0; j < QK; j++) {
                float a = Math.abs(x[s + j]);
                if (a > amax) {
                    amax = a;
                    max = x[s + j];
                }
            }
            if (amax == 0f) return;   // all zeros, as the block arrives
            float iscale = -127f / max;
            for (int g = 0; g < 16; g++) {
                int sum = 0;
                for (int j = 16 * g; j < 16 * g + 16; j++) {
                    int q = Math.min(127, nearestInt(iscale * x[s + j]));
                    b[p + 4 + j] = (byte) q;
                    sum += q;
                }
                putI16(b, p + 260 + 2 * g, sum);
            }
            putI32(b, p, Float.floatToRawIntBits(1f / iscale));
        }
    }
}
