package dev.hearth.runtime.dtype;

import java.lang.foreign.MemorySegment;
import java.util.List;

import static dev.hearth.runtime.dtype.ReferenceCodecs.F32;
import static dev.hearth.runtime.dtype.ReferenceCodecs.I16;
import static dev.hearth.runtime.dtype.ReferenceCodecs.I8;
import static dev.hearth.runtime.dtype.ReferenceCodecs.half;
import static dev.hearth.runtime.dtype.ReferenceCodecs.nearestInt;
import static dev.hearth.runtime.dtype.ReferenceCodecs.putHalf;
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
 * requantization against the fp16-rounded scales. Checked against hand-built super-blocks,
 * round-trip error bounds on random data, and the layouts in ggml-common.h.
 */
final class KQuants {
    static final int QK = 256;

    private KQuants() {
    }

    static List<QuantCodec> all() {
        return List.of(new Q2_K(), new Q3_K(), new Q4_K(), new Q5_K(), new Q6_K(), new Q8_K());
    }

    /** Decodes the 8 six-bit scales and mins of a Q4_K/Q5_K super-block at {@code p}. */
    static void unpackScaleMin(MemorySegment s, long p, int[] sc, int[] mn) {
        for (int j = 0; j < 8; j++) {
            if (j < 4) {
                sc[j] = u8(s, p + j) & 63;
                mn[j] = u8(s, p + j + 4) & 63;
            } else {
                sc[j] = (u8(s, p + j + 4) & 0xf) | (u8(s, p + j - 4) >>> 6) << 4;
                mn[j] = (u8(s, p + j + 4) >>> 4) | (u8(s, p + j) >>> 6) << 4;
            }
        }
    }

    /** Packs 8 six-bit scales and mins into 12 bytes at {@code p}. */
    static void packScaleMin(MemorySegment s, long p, int[] sc, int[] mn) {
        int[] b = new int[12];
        for (int j = 0; j < 8; j++) {
            if (j < 4) {
                b[j] = sc[j];
                b[j + 4] = mn[j];
            } else {
                b[j + 4] = (sc[j] & 0xf) | (mn[j] & 0xf) << 4;
                b[j - 4] |= (sc[j] >>> 4) << 6;
                b[j] |= (mn[j] >>> 4) << 6;
            }
        }
        for (int i = 0; i < 12; i++) s.set(I8, p + i, (byte) b[i]);
    }

    /** Packs 256 two-bit quants into Q2_K/Q3_K's 64 bytes at {@code p}. */
    private static void pack2Bit(MemorySegment s, long p, int[] L) {
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                int e = 128 * h + l;
                int v = L[e] | L[e + 32] << 2 | L[e + 64] << 4 | L[e + 96] << 6;
                s.set(I8, p + 32 * h + l, (byte) v);
            }
        }
    }

    /** Sub-block scales and mins quantized to 6 bits, as ggml's Q4_K/Q5_K reference. */
    private static void quantizeScaleMins(float[] scales, float[] mins, int[] sc, int[] mn, float maxScale, float maxMin) {
        float invScale = maxScale > 0f ? 63f / maxScale : 0f;
        float invMin = maxMin > 0f ? 63f / maxMin : 0f;
        for (int j = 0; j < 8; j++) {
            sc[j] = Math.min(63, nearestInt(invScale * scales[j]));
            mn[j] = Math.min(63, nearestInt(invMin * mins[j]));
        }
    }

    static final class Q2_K implements QuantCodec {
        public DType type() {
            return DType.Q2_K;
        }

        public void dequantizeRow(MemorySegment src, long off, float[] dst, int o, int n) {
            Codecs.checkWholeBlocks(DType.Q2_K, n);
            for (int b = 0; b < n; b += QK, off += 84, o += QK) {
                float d = half(src, off + 80), dmin = half(src, off + 82);
                for (int e = 0; e < QK; e += 16) {
                    int sc = u8(src, off + e / 16);
                    float dl = d * (sc & 0xf), ml = dmin * (sc >>> 4);
                    int r = e % 128, shift = 2 * (r / 32);
                    long q = off + 16 + 32 * (e / 128) + r % 32;
                    for (int l = 0; l < 16; l++) dst[o + e + l] = dl * ((u8(src, q + l) >>> shift) & 3) - ml;
                }
            }
        }

        public void quantizeRow(float[] x, int s, MemorySegment dst, long off, int n) {
            Codecs.checkWholeBlocks(DType.Q2_K, n);
            int[] L = new int[QK], aux = new int[16], sc = new int[16];
            float[] w = new float[16], scales = new float[16], mins = new float[16];
            for (int b = 0; b < n; b += QK, s += QK, off += 84) {
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
                } else {
                    for (int j = 0; j < 16; j++) sc[j] = 0;
                }
                if (maxMin > 0f) {
                    float iscale = 15f / maxMin;
                    for (int j = 0; j < 16; j++) sc[j] = (sc[j] | nearestInt(iscale * mins[j]) << 4) & 0xff;
                    dmin = maxMin / 15f;
                }
                for (int j = 0; j < 16; j++) dst.set(I8, off + j, (byte) sc[j]);
                putHalf(dst, off + 80, d);
                putHalf(dst, off + 82, dmin);
                float dq = roundToHalf(d), dmq = roundToHalf(dmin);
                for (int j = 0; j < 16; j++) {
                    float dl = dq * (sc[j] & 0xf);
                    if (dl == 0f) continue;
                    float ml = dmq * (sc[j] >>> 4);
                    for (int l = 0; l < 16; l++) {
                        L[16 * j + l] = Math.clamp(nearestInt((x[s + 16 * j + l] + ml) / dl), 0, 3);
                    }
                }
                pack2Bit(dst, off + 16, L);
            }
        }
    }

    static final class Q3_K implements QuantCodec {
        public DType type() {
            return DType.Q3_K;
        }

        /** The 16 signed scales (already minus 32) of the super-block at {@code off}. */
        private static void unpackScales(MemorySegment src, long off, int[] sc) {
            long p = off + 96;
            for (int j = 0; j < 16; j++) {
                int low = j < 8 ? u8(src, p + j) & 0xf : u8(src, p + j - 8) >>> 4;
                int high = (u8(src, p + 8 + j % 4) >>> (2 * (j / 4))) & 3;
                sc[j] = (low | high << 4) - 32;
            }
        }

        public void dequantizeRow(MemorySegment src, long off, float[] dst, int o, int n) {
            Codecs.checkWholeBlocks(DType.Q3_K, n);
            int[] sc = new int[16];
            for (int b = 0; b < n; b += QK, off += 110, o += QK) {
                float d = half(src, off + 108);
                unpackScales(src, off, sc);
                for (int e = 0; e < QK; e += 16) {
                    float dl = d * sc[e / 16];
                    int r = e % 128, shift = 2 * (r / 32), bit = e / 32;
                    long q = off + 32 + 32 * (e / 128) + r % 32;
                    long hm = off + r % 32;
                    for (int l = 0; l < 16; l++) {
                        int low = (u8(src, q + l) >>> shift) & 3;
                        int high = (u8(src, hm + l) >>> bit) & 1;
                        dst[o + e + l] = dl * (low - (high != 0 ? 0 : 4));
                    }
                }
            }
        }

        public void quantizeRow(float[] x, int s, MemorySegment dst, long off, int n) {
            Codecs.checkWholeBlocks(DType.Q3_K, n);
            int[] L = new int[QK], sc = new int[16];
            float[] scales = new float[16];
            for (int b = 0; b < n; b += QK, s += QK, off += 110) {
                float maxScale = 0f, amax = 0f;
                for (int j = 0; j < 16; j++) {
                    scales[j] = KQuantSearch.q3Scale(16, 4, x, s + 16 * j, L, 16 * j);
                    float a = Math.abs(scales[j]);
                    if (a > amax) {
                        amax = a;
                        maxScale = scales[j];
                    }
                }
                int[] packed = new int[12];
                float d = 0f;
                if (maxScale != 0f) {
                    float iscale = -32f / maxScale;
                    for (int j = 0; j < 16; j++) {
                        int l = Math.clamp((byte) nearestInt(iscale * scales[j]), -32, 31) + 32;
                        packed[j % 8] |= (l & 0xf) << (j < 8 ? 0 : 4);
                        packed[8 + j % 4] |= (l >>> 4) << (2 * (j / 4));
                    }
                    d = 1f / iscale;
                }
                for (int i = 0; i < 12; i++) dst.set(I8, off + 96 + i, (byte) packed[i]);
                putHalf(dst, off + 108, d);
                unpackScales(dst, off, sc);
                float dq = roundToHalf(d);
                for (int j = 0; j < 16; j++) {
                    float dl = dq * sc[j];
                    if (dl == 0f) continue;
                    for (int l = 0; l < 16; l++) {
                        L[16 * j + l] = Math.clamp(nearestInt(x[s + 16 * j + l] / dl), -4, 3) + 4;
                    }
                }
                int[] hmask = new int[32];
                for (int e = 0; e < QK; e++) {
                    if (L[e] > 3) {
                        hmask[e % 32] |= 1 << (e / 32);
                        L[e] -= 4;
                    }
                }
                for (int i = 0; i < 32; i++) dst.set(I8, off + i, (byte) hmask[i]);
                pack2Bit(dst, off + 32, L);
            }
        }
    }

    /** Q4_K and Q5_K: the same scales, mins and search; {@code bits} is 4 or 5. */
    private abstract static sealed class ScaleMinCodec implements QuantCodec permits Q4_K, Q5_K {
        private final DType type;
        private final int bits;

        ScaleMinCodec(DType type, int bits) {
            this.type = type;
            this.bits = bits;
        }

        public DType type() {
            return type;
        }

        public void dequantizeRow(MemorySegment src, long off, float[] dst, int o, int n) {
            Codecs.checkWholeBlocks(type, n);
            int[] sc = new int[8], mn = new int[8];
            long qsAt = bits == 4 ? 16 : 48;
            for (int b = 0; b < n; b += QK, off += type.typeSize, o += QK) {
                float d = half(src, off), dmin = half(src, off + 2);
                unpackScaleMin(src, off + 4, sc, mn);
                for (int j = 0; j < 8; j++) {
                    float dl = d * sc[j], ml = dmin * mn[j];
                    long q = off + qsAt + 32 * (j / 2);
                    int shift = 4 * (j % 2);
                    for (int l = 0; l < 32; l++) {
                        int v = (u8(src, q + l) >>> shift) & 0xf;
                        if (bits == 5) v |= ((u8(src, off + 16 + l) >>> j) & 1) << 4;
                        dst[o + 32 * j + l] = dl * v - ml;
                    }
                }
            }
        }

        public void quantizeRow(float[] x, int s, MemorySegment dst, long off, int n) {
            Codecs.checkWholeBlocks(type, n);
            int nmax = (1 << bits) - 1;
            float rmin = bits == 4 ? -1f : -0.5f;
            int nstep = bits == 4 ? 20 : 15;
            int[] L = new int[QK], aux = new int[32], sc = new int[8], mn = new int[8];
            float[] w = new float[32], scales = new float[8], mins = new float[8];
            for (int b = 0; b < n; b += QK, s += QK, off += type.typeSize) {
                float maxScale = 0f, maxMin = 0f;
                for (int j = 0; j < 8; j++) {
                    int xo = s + 32 * j;
                    float sumX2 = 0f;
                    for (int l = 0; l < 32; l++) sumX2 += x[xo + l] * x[xo + l];
                    float avX = (float) Math.sqrt(sumX2 / 32);
                    for (int l = 0; l < 32; l++) w[l] = avX + Math.abs(x[xo + l]);
                    scales[j] = KQuantSearch.scaleAndMin(32, nmax, x, xo, w, L, 32 * j, mins, j, aux, rmin, 0.1f, nstep, false);
                    if (scales[j] > maxScale) maxScale = scales[j];
                    if (mins[j] > maxMin) maxMin = mins[j];
                }
                quantizeScaleMins(scales, mins, sc, mn, maxScale, maxMin);
                packScaleMin(dst, off + 4, sc, mn);
                float d = maxScale / 63f, dmin = maxMin / 63f;
                putHalf(dst, off, d);
                putHalf(dst, off + 2, dmin);
                float dq = roundToHalf(d), dmq = roundToHalf(dmin);
                for (int j = 0; j < 8; j++) {
                    float dl = dq * sc[j];
                    if (dl == 0f) continue;
                    float ml = dmq * mn[j];
                    for (int l = 0; l < 32; l++) {
                        L[32 * j + l] = Math.clamp(nearestInt((x[s + 32 * j + l] + ml) / dl), 0, nmax);
                    }
                }
                long qsAt = off + (bits == 4 ? 16 : 48);
                int[] qh = new int[32];
                for (int c = 0; c < 4; c++) {
                    for (int l = 0; l < 32; l++) {
                        int lo = L[64 * c + l], hi = L[64 * c + 32 + l];
                        qh[l] |= (lo >>> 4) << (2 * c) | (hi >>> 4) << (2 * c + 1);
                        dst.set(I8, qsAt + 32 * c + l, (byte) ((lo & 0xf) | (hi & 0xf) << 4));
                    }
                }
                if (bits == 5) for (int l = 0; l < 32; l++) dst.set(I8, off + 16 + l, (byte) qh[l]);
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

    static final class Q6_K implements QuantCodec {
        public DType type() {
            return DType.Q6_K;
        }

        public void dequantizeRow(MemorySegment src, long off, float[] dst, int o, int n) {
            Codecs.checkWholeBlocks(DType.Q6_K, n);
            for (int b = 0; b < n; b += QK, off += 210, o += QK) {
                float d = half(src, off + 208);
                for (int e = 0; e < QK; e += 16) {
                    float dl = d * src.get(I8, off + 192 + e / 16);
                    int h = e / 128, r = e % 128, k = r / 32;
                    for (int l = r % 32, i = 0; i < 16; l++, i++) {
                        int low = (u8(src, off + 64 * h + 32 * (k % 2) + l) >>> (4 * (k / 2))) & 0xf;
                        int high = (u8(src, off + 128 + 32 * h + l) >>> (2 * k)) & 3;
                        dst[o + e + i] = dl * ((low | high << 4) - 32);
                    }
                }
            }
        }

        public void quantizeRow(float[] x, int s, MemorySegment dst, long off, int n) {
            Codecs.checkWholeBlocks(DType.Q6_K, n);
            int[] L = new int[QK];
            float[] scales = new float[16];
            for (int b = 0; b < n; b += QK, s += QK, off += 210) {
                float maxScale = 0f, maxAbs = 0f;
                for (int j = 0; j < 16; j++) {
                    scales[j] = KQuantSearch.symmetricScale(16, 32, x, s + 16 * j, L, 16 * j);
                    float a = Math.abs(scales[j]);
                    if (a > maxAbs) {
                        maxAbs = a;
                        maxScale = scales[j];
                    }
                }
                if (maxAbs < KQuantSearch.GROUP_MAX_EPS) {
                    dst.asSlice(off, 210).fill((byte) 0);
                    continue;
                }
                float iscale = -128f / maxScale;
                float d = 1f / iscale;
                putHalf(dst, off + 208, d);
                byte[] sc = new byte[16];
                for (int j = 0; j < 16; j++) {
                    sc[j] = (byte) Math.min(127, nearestInt(iscale * scales[j]));
                    dst.set(I8, off + 192 + j, sc[j]);
                }
                float dq = roundToHalf(d);
                for (int j = 0; j < 16; j++) {
                    float dl = dq * sc[j];
                    if (dl == 0f) continue;
                    for (int l = 0; l < 16; l++) {
                        L[16 * j + l] = Math.clamp(nearestInt(x[s + 16 * j + l] / dl), -32, 31) + 32;
                    }
                }
                int[] ql = new int[128], qh = new int[64];
                for (int e = 0; e < QK; e++) {
                    int h = e / 128, r = e % 128, k = r / 32, l = r % 32;
                    ql[64 * h + 32 * (k % 2) + l] |= (L[e] & 0xf) << (4 * (k / 2));
                    qh[32 * h + l] |= (L[e] >>> 4) << (2 * k);
                }
                for (int i = 0; i < 128; i++) dst.set(I8, off + i, (byte) ql[i]);
                for (int i = 0; i < 64; i++) dst.set(I8, off + 128 + i, (byte) qh[i]);
            }
        }
    }

    static final class Q8_K implements QuantCodec {
        public DType type() {
            return DType.Q8_K;
        }

        public void dequantizeRow(MemorySegment src, long off, float[] dst, int o, int n) {
            Codecs.checkWholeBlocks(DType.Q8_K, n);
            for (int b = 0; b < n; b += QK, off += 292, o += QK) {
                float d = src.get(F32, off);
                for (int j = 0; j < QK; j++) dst[o + j] = d * src.get(I8, off + 4 + j);
            }
        }

        public void quantizeRow(float[] x, int s, MemorySegment dst, long off, int n) {
            Codecs.checkWholeBlocks(DType.Q8_K, n);
            for (int b = 0; b < n; b += QK, s += QK, off += 292) {
                float max = 0f, amax = 0f;
                for (int j = 0; j < QK; j++) {
                    float a = Math.abs(x[s + j]);
                    if (a > amax) {
                        amax = a;
                        max = x[s + j];
                    }
                }
                if (amax == 0f) {
                    dst.asSlice(off, 292).fill((byte) 0);
                    continue;
                }
                float iscale = -127f / max;
                for (int g = 0; g < 16; g++) {
                    int sum = 0;
                    for (int j = 16 * g; j < 16 * g + 16; j++) {
                        int q = Math.min(127, nearestInt(iscale * x[s + j]));
                        dst.set(I8, off + 4 + j, (byte) q);
                        sum += q;
                    }
                    dst.set(I16, off + 260 + 2L * g, (short) sum);
                }
                dst.set(F32, off, 1f / iscale);
            }
        }
    }
}
