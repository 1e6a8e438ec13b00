package dev.hearth.runtime.dtype;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static dev.hearth.runtime.dtype.CodecTesting.F32;
import static dev.hearth.runtime.dtype.CodecTesting.I16;
import static dev.hearth.runtime.dtype.CodecTesting.I32;
import static dev.hearth.runtime.dtype.CodecTesting.bytes;
import static dev.hearth.runtime.dtype.CodecTesting.f16;
import static dev.hearth.runtime.dtype.CodecTesting.u8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Blocks built byte by byte from ggml's struct layouts (ggml-common.h) and packing loops, with
 * chosen scales and quants whose decoded values are exact in float, so decoding must reproduce
 * them exactly. Each test packs two blocks with different scales to check the block stride too.
 */
class HandBuiltBlocksTest {

    private static float[] decode(DType t, MemorySegment s, int n) {
        // Decode at an offset inside a larger array and segment, to check both offsets are honoured.
        MemorySegment padded = bytes((int) s.byteSize() + 3);
        MemorySegment.copy(s, 0, padded, 3, s.byteSize());
        float[] out = new float[n + 5];
        Codecs.dequantize(t, padded, 3, out, 5, n);
        float[] r = new float[n];
        System.arraycopy(out, 5, r, 0, n);
        return r;
    }

    @Test
    void q4_0LowNibblesAreTheFirstHalf() {
        MemorySegment s = bytes(18);
        f16(s, 0, 0.5f);
        for (int j = 0; j < 16; j++) u8(s, 2 + j, j | (15 - j) << 4);
        float[] expected = {
                -4, -3.5f, -3, -2.5f, -2, -1.5f, -1, -0.5f, 0, 0.5f, 1, 1.5f, 2, 2.5f, 3, 3.5f,
                3.5f, 3, 2.5f, 2, 1.5f, 1, 0.5f, 0, -0.5f, -1, -1.5f, -2, -2.5f, -3, -3.5f, -4};
        assertArrayEquals(expected, decode(DType.Q4_0, s, 32));
    }

    @Test
    void q4_0() {
        MemorySegment s = bytes(36);
        float[] exp = new float[64];
        for (int b = 0; b < 2; b++) {
            float d = b == 0 ? 0.25f : -3f;
            f16(s, 18 * b, d);
            int[] q = new int[32];
            for (int e = 0; e < 32; e++) q[e] = (e * 7 + 3 * b) % 16;
            for (int j = 0; j < 16; j++) u8(s, 18 * b + 2 + j, q[j] | q[j + 16] << 4);
            for (int e = 0; e < 32; e++) exp[32 * b + e] = (q[e] - 8) * d;
        }
        assertArrayEquals(exp, decode(DType.Q4_0, s, 64));
    }

    @Test
    void q4_1() {
        MemorySegment s = bytes(40);
        float[] exp = new float[64];
        for (int b = 0; b < 2; b++) {
            float d = b == 0 ? 0.25f : 2f, m = b == 0 ? -1.5f : 7f;
            f16(s, 20 * b, d);
            f16(s, 20 * b + 2, m);
            int[] q = new int[32];
            for (int e = 0; e < 32; e++) q[e] = (e * 7 + 3 + b) % 16;
            for (int j = 0; j < 16; j++) u8(s, 20 * b + 4 + j, q[j] | q[j + 16] << 4);
            for (int e = 0; e < 32; e++) exp[32 * b + e] = q[e] * d + m;
        }
        assertArrayEquals(exp, decode(DType.Q4_1, s, 64));
    }

    @Test
    void q5_0() {
        MemorySegment s = bytes(44);
        float[] exp = new float[64];
        for (int b = 0; b < 2; b++) {
            float d = b == 0 ? 0.125f : -1f;
            f16(s, 22 * b, d);
            int[] q = new int[32];
            for (int e = 0; e < 32; e++) q[e] = (e * 11 + 5 + b) % 32;
            int qh = 0;
            for (int e = 0; e < 32; e++) qh |= (q[e] >> 4) << e;
            s.set(I32, 22 * b + 2, qh);
            for (int j = 0; j < 16; j++) u8(s, 22 * b + 6 + j, (q[j] & 15) | (q[j + 16] & 15) << 4);
            for (int e = 0; e < 32; e++) exp[32 * b + e] = (q[e] - 16) * d;
        }
        assertArrayEquals(exp, decode(DType.Q5_0, s, 64));
    }

    @Test
    void q5_1() {
        MemorySegment s = bytes(48);
        float[] exp = new float[64];
        for (int b = 0; b < 2; b++) {
            float d = b == 0 ? 0.5f : 0.0625f, m = b == 0 ? -3f : 0.5f;
            f16(s, 24 * b, d);
            f16(s, 24 * b + 2, m);
            int[] q = new int[32];
            for (int e = 0; e < 32; e++) q[e] = (e * 13 + 7 + b) % 32;
            int qh = 0;
            for (int e = 0; e < 32; e++) qh |= (q[e] >> 4) << e;
            s.set(I32, 24 * b + 4, qh);
            for (int j = 0; j < 16; j++) u8(s, 24 * b + 8 + j, (q[j] & 15) | (q[j + 16] & 15) << 4);
            for (int e = 0; e < 32; e++) exp[32 * b + e] = q[e] * d + m;
        }
        assertArrayEquals(exp, decode(DType.Q5_1, s, 64));
    }

    @Test
    void q8_0() {
        MemorySegment s = bytes(68);
        float[] exp = new float[64];
        for (int b = 0; b < 2; b++) {
            float d = b == 0 ? 0.25f : -8f;
            f16(s, 34 * b, d);
            for (int e = 0; e < 32; e++) {
                int q = e == 0 ? -128 : e == 1 ? 127 : (e * 29 + b) % 256 - 128;
                u8(s, 34 * b + 2 + e, q);
                exp[32 * b + e] = q * d;
            }
        }
        assertArrayEquals(exp, decode(DType.Q8_0, s, 64));
    }

    @Test
    void q8_1IgnoresTheSumField() {
        MemorySegment s = bytes(72);
        float[] exp = new float[64];
        for (int b = 0; b < 2; b++) {
            float d = b == 0 ? 0.5f : 4f;
            f16(s, 36 * b, d);
            f16(s, 36 * b + 2, 99f);
            for (int e = 0; e < 32; e++) {
                int q = e == 0 ? -128 : (e * 37 - 60 + b) % 128;
                u8(s, 36 * b + 4 + e, q);
                exp[32 * b + e] = q * d;
            }
        }
        assertArrayEquals(exp, decode(DType.Q8_1, s, 64));
    }

    /** ggml's 2-bit plane packing (Q2_K, Q3_K): qs[j/4 + l] gets elements j+l, +32, +64, +96 of each 128. */
    private static void pack2Bit(MemorySegment s, long at, int[] q) {
        for (int j = 0; j < 256; j += 128) {
            for (int l = 0; l < 32; l++) {
                u8(s, at + j / 4 + l, q[j + l] | q[j + l + 32] << 2 | q[j + l + 64] << 4 | q[j + l + 96] << 6);
            }
        }
    }

    @Test
    void q2_K() {
        MemorySegment s = bytes(168);
        float[] exp = new float[512];
        for (int b = 0; b < 2; b++) {
            long o = 84L * b;
            float d = b == 0 ? 0.5f : 2f, dmin = b == 0 ? 0.125f : 1f;
            int[] sc = new int[16], mn = new int[16], q = new int[256];
            for (int j = 0; j < 16; j++) {
                sc[j] = (j * 3 + 1 + b) % 16;
                mn[j] = 15 - j;
                u8(s, o + j, sc[j] | mn[j] << 4);
            }
            for (int e = 0; e < 256; e++) q[e] = (e * 5 + e / 7 + b) % 4;
            pack2Bit(s, o + 16, q);
            f16(s, o + 80, d);
            f16(s, o + 82, dmin);
            for (int e = 0; e < 256; e++) exp[256 * b + e] = d * sc[e / 16] * q[e] - dmin * mn[e / 16];
        }
        assertArrayEquals(exp, decode(DType.Q2_K, s, 512));
    }

    @Test
    void q3_K() {
        MemorySegment s = bytes(220);
        float[] exp = new float[512];
        for (int b = 0; b < 2; b++) {
            long o = 110L * b;
            float d = b == 0 ? 0.25f : -0.5f;
            int[] s6 = new int[16], q = new int[256];
            for (int j = 0; j < 16; j++) s6[j] = (j * 11 + 3 + 7 * b) % 64;
            for (int e = 0; e < 256; e++) q[e] = (e * 3 + e / 5 + b) % 8;
            // hmask: bit e/32 of hmask[e%32] holds the high bit of element e.
            int[] hmask = new int[32];
            int[] low = new int[256];
            for (int e = 0; e < 256; e++) {
                if (q[e] > 3) hmask[e % 32] |= 1 << (e / 32);
                low[e] = q[e] & 3;
            }
            for (int i = 0; i < 32; i++) u8(s, o + i, hmask[i]);
            pack2Bit(s, o + 32, low);
            // scales: low nibbles of 0..7 in bytes 0..7, of 8..15 in their high nibbles; top 2 bits in bytes 8..11.
            int[] sb = new int[12];
            for (int j = 0; j < 16; j++) {
                if (j < 8) sb[j] |= s6[j] & 15;
                else sb[j - 8] |= (s6[j] & 15) << 4;
                sb[8 + j % 4] |= (s6[j] >> 4) << (2 * (j / 4));
            }
            for (int i = 0; i < 12; i++) u8(s, o + 96 + i, sb[i]);
            f16(s, o + 108, d);
            for (int e = 0; e < 256; e++) exp[256 * b + e] = d * (s6[e / 16] - 32) * (q[e] - 4);
        }
        assertArrayEquals(exp, decode(DType.Q3_K, s, 512));
    }

    /** The 12-byte scale/min packing of Q4_K and Q5_K. */
    private static void packScaleMin(MemorySegment s, long at, int[] sc, int[] mn) {
        int[] b = new int[12];
        for (int j = 0; j < 4; j++) {
            b[j] = sc[j] | (sc[j + 4] >> 4) << 6;
            b[j + 4] = mn[j] | (mn[j + 4] >> 4) << 6;
            b[j + 8] = (sc[j + 4] & 15) | (mn[j + 4] & 15) << 4;
        }
        for (int i = 0; i < 12; i++) u8(s, at + i, b[i]);
    }

    @Test
    void q4_K() {
        MemorySegment s = bytes(288);
        float[] exp = new float[512];
        for (int b = 0; b < 2; b++) {
            long o = 144L * b;
            float d = b == 0 ? 0.5f : 0.125f, dmin = b == 0 ? 0.25f : 2f;
            int[] sc = new int[8], mn = new int[8], q = new int[256];
            for (int j = 0; j < 8; j++) {
                sc[j] = j * 7 + 5 + b;
                mn[j] = 60 - j * 3 - b;
            }
            for (int e = 0; e < 256; e++) q[e] = (e * 7 + e / 32 + b) % 16;
            f16(s, o, d);
            f16(s, o + 2, dmin);
            packScaleMin(s, o + 4, sc, mn);
            for (int c = 0; c < 4; c++) {
                for (int l = 0; l < 32; l++) u8(s, o + 16 + 32 * c + l, q[64 * c + l] | q[64 * c + 32 + l] << 4);
            }
            for (int e = 0; e < 256; e++) exp[256 * b + e] = d * sc[e / 32] * q[e] - dmin * mn[e / 32];
        }
        assertArrayEquals(exp, decode(DType.Q4_K, s, 512));
    }

    @Test
    void q5_K() {
        MemorySegment s = bytes(352);
        float[] exp = new float[512];
        for (int b = 0; b < 2; b++) {
            long o = 176L * b;
            float d = b == 0 ? 0.25f : 1f, dmin = b == 0 ? 0.5f : 0.0625f;
            int[] sc = new int[8], mn = new int[8], q = new int[256];
            for (int j = 0; j < 8; j++) {
                sc[j] = 63 - j * 5 - b;
                mn[j] = j * 8 + 1 + b;
            }
            for (int e = 0; e < 256; e++) q[e] = (e * 11 + e / 9 + b) % 32;
            f16(s, o, d);
            f16(s, o + 2, dmin);
            packScaleMin(s, o + 4, sc, mn);
            int[] qh = new int[32];
            for (int c = 0; c < 4; c++) {
                for (int l = 0; l < 32; l++) {
                    int lo = q[64 * c + l], hi = q[64 * c + 32 + l];
                    u8(s, o + 48 + 32 * c + l, (lo & 15) | (hi & 15) << 4);
                    if (lo > 15) qh[l] |= 1 << (2 * c);
                    if (hi > 15) qh[l] |= 2 << (2 * c);
                }
            }
            for (int l = 0; l < 32; l++) u8(s, o + 16 + l, qh[l]);
            for (int e = 0; e < 256; e++) exp[256 * b + e] = d * sc[e / 32] * q[e] - dmin * mn[e / 32];
        }
        assertArrayEquals(exp, decode(DType.Q5_K, s, 512));
    }

    @Test
    void q6_K() {
        MemorySegment s = bytes(420);
        float[] exp = new float[512];
        for (int b = 0; b < 2; b++) {
            long o = 210L * b;
            float d = b == 0 ? 0.0625f : -0.5f;
            int[] sc = new int[16], q = new int[256];
            for (int j = 0; j < 16; j++) sc[j] = j == 15 ? 127 : (j * 41 + b) % 256 - 128;
            for (int e = 0; e < 256; e++) q[e] = (e * 9 + e / 11 + b) % 64;
            for (int j = 0; j < 256; j += 128) {
                long ql = o + j / 2, qh = o + 128 + j / 4;
                for (int l = 0; l < 32; l++) {
                    u8(s, ql + l, (q[j + l] & 15) | (q[j + l + 64] & 15) << 4);
                    u8(s, ql + l + 32, (q[j + l + 32] & 15) | (q[j + l + 96] & 15) << 4);
                    u8(s, qh + l, q[j + l] >> 4 | (q[j + l + 32] >> 4) << 2 | (q[j + l + 64] >> 4) << 4
                            | (q[j + l + 96] >> 4) << 6);
                }
            }
            for (int j = 0; j < 16; j++) u8(s, o + 192 + j, sc[j]);
            f16(s, o + 208, d);
            for (int e = 0; e < 256; e++) exp[256 * b + e] = d * sc[e / 16] * (q[e] - 32);
        }
        assertArrayEquals(exp, decode(DType.Q6_K, s, 512));
    }

    @Test
    void q8_K() {
        MemorySegment s = bytes(584);
        float[] exp = new float[512];
        for (int b = 0; b < 2; b++) {
            long o = 292L * b;
            float d = b == 0 ? 0.125f : 3f;
            s.set(F32, o, d);
            for (int e = 0; e < 256; e++) {
                int q = (byte) (e * 77 + b);
                u8(s, o + 4 + e, q);
                exp[256 * b + e] = d * q;
            }
            for (int g = 0; g < 16; g++) s.set(I16, o + 260 + 2 * g, (short) 12345);
        }
        assertArrayEquals(exp, decode(DType.Q8_K, s, 512));
    }

    @Test
    void floats() {
        MemorySegment f32 = bytes(8);
        f32.set(CodecTesting.I32, 0, 0x3FC00000);
        f32.set(CodecTesting.I32, 4, 0xC1200000);
        assertArrayEquals(new float[] {1.5f, -10f}, decode(DType.F32, f32, 2));

        short[] halves = {0x3C00, (short) 0xC000, 0x7BFF, 0x0001, 0x7C00, (short) 0x8000, 0x3555};
        MemorySegment f16 = bytes(2 * halves.length);
        for (int i = 0; i < halves.length; i++) f16.set(I16, 2L * i, halves[i]);
        float[] got = decode(DType.F16, f16, halves.length);
        assertArrayEquals(new float[] {1f, -2f, 65504f, 0x1p-24f, Float.POSITIVE_INFINITY, -0f, 0.33325195f}, got);
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(got[5]));

        short[] bf = {0x3F80, (short) 0xC040, 0x7F80, 0x0001, 0x4049};
        MemorySegment b16 = bytes(2 * bf.length);
        for (int i = 0; i < bf.length; i++) b16.set(I16, 2L * i, bf[i]);
        assertArrayEquals(new float[] {1f, -3f, Float.POSITIVE_INFINITY, Float.intBitsToFloat(0x00010000), 3.140625f},
                decode(DType.BF16, b16, bf.length));
    }
}
