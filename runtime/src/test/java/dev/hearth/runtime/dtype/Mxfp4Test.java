package dev.hearth.runtime.dtype;

import dev.hearth.runtime.gguf.GgufFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.hearth.runtime.dtype.CodecTesting.bytes;
import static dev.hearth.runtime.dtype.CodecTesting.nmse;
import static dev.hearth.runtime.dtype.CodecTesting.normal;
import static dev.hearth.runtime.dtype.CodecTesting.roundTrip;
import static dev.hearth.runtime.dtype.CodecTesting.u8;
import static dev.hearth.runtime.dtype.CodecTesting.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * MXFP4: blocks decoded by hand, round-trip error, and ggml's own bytes and floats from
 * {@code testdata/mxfp4/mxfp4-reference.gguf} (llama-quantize's MXFP4_MOE experts of the tiny
 * gpt-oss model, and ggml's quantizer run on edge cases; see testdata/README.md).
 */
class Mxfp4Test {
    private static GgufFile ref;

    @BeforeAll
    static void open() {
        Path p = Path.of(System.getProperty("hearth.testdata", "../testdata")).resolve("mxfp4/mxfp4-reference.gguf");
        assertTrue(Files.isRegularFile(p), p + " not found");
        ref = GgufFile.open(p);
    }

    @AfterAll
    static void close() {
        if (ref != null) ref.close();
    }

    private static float[] decode(MemorySegment s, int n) {
        return Codecs.dequantize(DType.MXFP4, s, 0, n);
    }

    /** The E8M0 scale halved, as ggml's ggml_e8m0_to_fp32_half: 2^(e-128), denormal at e 0 and 1. */
    @Test
    void halfScales() {
        assertEquals(0x1p-128f, Mxfp4.scaleHalf(0));
        assertEquals(0x1p-127f, Mxfp4.scaleHalf(1));
        assertEquals(0x1p-126f, Mxfp4.scaleHalf(2));
        assertEquals(0.5f, Mxfp4.scaleHalf(127));
        assertEquals(1f, Mxfp4.scaleHalf(128));
        assertEquals(0x1p126f, Mxfp4.scaleHalf(254));
        assertEquals(0x1p127f, Mxfp4.scaleHalf(255));
        for (int e = 0; e < 256; e++) assertEquals((float) Math.scalb(1.0, e - 128), Mxfp4.scaleHalf(e), "e " + e);
    }

    /**
     * One block, every nibble by hand: e = 128 is a scale of 2 (half scale 1), so each element is
     * its doubled E2M1 value; byte j holds nibble j in its low half and nibble 15-j in its high half.
     */
    @Test
    void everyNibbleOfOneBlock() {
        MemorySegment s = bytes(17);
        u8(s, 0, 128);
        for (int j = 0; j < 16; j++) u8(s, 1 + j, j | (15 - j) << 4);
        // E2M1 nibbles 0..7 are +0, 0.5, 1, 1.5, 2, 3, 4, 6 and 8..15 their negatives; times the scale 2:
        float[] expected = {
                0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12,
                -12, -8, -6, -4, -3, -2, -1, 0, 12, 8, 6, 4, 3, 2, 1, 0};
        float[] y = decode(s, 32);
        assertArrayEquals(expected, y);
        // Nibble 8 is -0 in E2M1, but ggml's table holds the integer 0, so it decodes to +0.
        assertEquals(Float.floatToRawIntBits(0f), Float.floatToRawIntBits(y[8]));
    }

    /** Two blocks with different exponents, decoded from an odd offset: the 17-byte stride and the scales. */
    @Test
    void twoBlocksAndTheirScales() {
        MemorySegment s = bytes(3 + 34);
        int[] es = {124, 131};              // scales 2^-3 and 2^4
        float[] exp = new float[64];
        for (int b = 0; b < 2; b++) {
            u8(s, 3 + 17 * b, es[b]);
            int[] q = new int[32];
            for (int i = 0; i < 32; i++) q[i] = (i * 5 + 3 * b) % 16;
            for (int j = 0; j < 16; j++) u8(s, 3 + 17 * b + 1 + j, q[j] | q[j + 16] << 4);
            float[] e2m1 = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
            for (int i = 0; i < 32; i++) {
                float v = e2m1[q[i] & 7] * (float) Math.scalb(1.0, es[b] - 127);
                exp[32 * b + i] = q[i] >= 8 ? -v : v;
                if (exp[32 * b + i] == 0f) exp[32 * b + i] = 0f;
            }
        }
        float[] out = new float[64];
        Codecs.dequantize(DType.MXFP4, s, 3, out, 0, 64);
        assertArrayEquals(exp, out);
        // Worked out by hand: block 0, element 1 has q = 5 (3.0) times 2^-3 = 0.375;
        // block 1, element 17 has q = (85 + 3) % 16 = 8 (zero), element 18 has q = 93 % 16 = 13 (-3) times 16 = -48.
        assertEquals(0.375f, out[1]);
        assertEquals(0f, out[32 + 17]);
        assertEquals(-48f, out[32 + 18]);
    }

    /** The denormal scales: e = 0 decodes the largest nibble to 12 * 2^-128, exact. */
    @Test
    void denormalScales() {
        MemorySegment s = bytes(34);
        u8(s, 0, 0);
        u8(s, 1, 0x57);                     // element 0: nibble 7 (12), element 16: nibble 5 (6), doubled values
        u8(s, 17, 1);
        u8(s, 18, 0xf1);                    // element 0: nibble 1 (1), element 16: nibble 15 (-12)
        float[] y = decode(s, 64);
        assertEquals(12 * 0x1p-128f, y[0]);
        assertEquals(6 * 0x1p-128f, y[16]);
        assertEquals(0x1p-127f, y[32]);
        assertEquals(-12 * 0x1p-127f, y[48]);
    }

    /** Quantizing a block by hand: amax 5 gives e = floor(log2 5) - 2 + 127 = 127 (scale 1), then nearest E2M1 values. */
    @Test
    void quantizeOneBlockByHand() {
        float[] x = new float[32];
        x[0] = 5f;      // between 4 and 6: a tie, the first (4, nibble 6) wins
        x[1] = -0.3f;   // nearer -0.5 (nibble 9) than 0
        x[2] = 0.2f;    // nearer 0 (nibble 0)
        x[16] = 1.2f;   // nearer 1 (nibble 2)
        x[17] = -2.6f;  // nearer -3 (nibble 13)
        MemorySegment q = Codecs.quantize(DType.MXFP4, x);
        assertEquals(127, q.get(ValueLayout.JAVA_BYTE, 0) & 0xff);
        assertEquals(6 | 2 << 4, q.get(ValueLayout.JAVA_BYTE, 1) & 0xff);
        assertEquals(9 | 13 << 4, q.get(ValueLayout.JAVA_BYTE, 2) & 0xff);
        assertEquals(0, q.get(ValueLayout.JAVA_BYTE, 3) & 0xff);
        float[] y = decode(q, 32);
        assertEquals(4f, y[0]);
        assertEquals(-0.5f, y[1]);
        assertEquals(1f, y[16]);
        assertEquals(-3f, y[17]);
    }

    /** floor(log2f(amax)) as ggml: log2f rounds values a few ulps below 2^k up to k. */
    @Test
    void exponentJustBelowAPowerOfTwo() {
        assertEquals(127 + 3 - 2, Mxfp4.exponent(8f));
        assertEquals(127 + 2 - 2, Mxfp4.exponent(Math.nextDown(8f) - 0.25f));
        // 8 - 1ulp: log2 is 3 - 6.9e-8, which rounds to 3.0f, so ggml's exponent is that of 8.
        assertEquals(127 + 3 - 2, Mxfp4.exponent(Math.nextDown(8f)));
        assertEquals(127 - 1 - 2, Mxfp4.exponent(Math.nextDown(1f)));
        assertEquals(0, Mxfp4.exponent(0x1p-140f));
    }

    /**
     * Round trips within the format's error: 4-bit floats step by 1/4 of their octave's top at
     * best; on N(0,1) data NMSE is near 1.3e-2 (measured 1.35e-2 normal, 1.22e-2 uniform).
     */
    @Test
    void roundTripError() {
        float[] x = normal(1, 8192, 1.0);
        double en = nmse(x, roundTrip(DType.MXFP4, x));
        float[] u = uniform(2, 8192, -3, 3);
        double eu = nmse(u, roundTrip(DType.MXFP4, u));
        System.out.printf("mxfp4 NMSE normal %.3g uniform %.3g%n", en, eu);
        assertTrue(en < 2e-2, "normal " + en);
        assertTrue(eu < 2e-2, "uniform " + eu);
        // Every decoded value is a table value times a power of two, so a second round trip changes nothing.
        float[] y = roundTrip(DType.MXFP4, x);
        assertArrayEquals(y, roundTrip(DType.MXFP4, y));
    }

    @Test
    void zerosAndOutliers() {
        float[] z = roundTrip(DType.MXFP4, new float[64]);
        for (float v : z) assertEquals(0f, v);
        float[] x = normal(5, 256, 1.0);
        x[77] = 1000f;
        float[] y = roundTrip(DType.MXFP4, x);
        // 1000 = 2^9 * 1.95: e = 127 + 7, scale 128, nearest of 4*128 and 6*128 (at 768) and 8 is out of reach: 768.
        assertEquals(768f, y[77]);
        for (float v : y) assertTrue(Float.isFinite(v));
    }

    private static float[] floats(String name) {
        MemorySegment s = ref.data(name);
        float[] f = new float[(int) (s.byteSize() / 4)];
        MemorySegment.copy(s, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0, f, 0, f.length);
        return f;
    }

    private static byte[] raw(String name) {
        return ref.data(name).toArray(ValueLayout.JAVA_BYTE);
    }

    /** llama-quantize's MXFP4_MOE experts: our quantizer writes the same bytes from the same F32 weights. */
    @Test
    void quantizesAsLlamaQuantize() {
        for (String t : new String[]{"ffn_gate_exps", "ffn_down_exps", "edge"}) {
            float[] x = floats(t + ".f32");
            byte[] ours = Codecs.quantize(DType.MXFP4, x).toArray(ValueLayout.JAVA_BYTE);
            assertArrayEquals(raw(t + ".mxfp4"), ours, t);
        }
    }

    /** ggml's to_float of the same bytes, float for float (and bit for bit: signs of zero too). */
    @Test
    void dequantizesAsGgml() {
        for (String t : new String[]{"ffn_gate_exps", "edge"}) {
            float[] expected = floats(t + ".ggml");
            float[] y = decode(ref.data(t + ".mxfp4"), expected.length);
            for (int i = 0; i < y.length; i++) {
                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(y[i]), t + " at " + i);
            }
        }
    }

    /** The experts of the tiny gpt-oss decode to within MXFP4's error of their F32 originals. */
    @Test
    void expertsAreNearTheirOriginals() {
        for (String t : new String[]{"ffn_gate_exps", "ffn_down_exps"}) {
            float[] x = floats(t + ".f32");
            float[] y = decode(ref.data(t + ".mxfp4"), x.length);
            double e = nmse(x, y);
            double worst = CodecTesting.maxErrOverRowAbsMax(x, y, 32);
            System.out.printf("mxfp4 %s NMSE %.3g, worst block error over block absmax %.3g%n", t, e, worst);
            assertTrue(e < 2e-2, t + ": " + e); // measured 1.33e-2 and 1.40e-2
            // Within a block, an error is at most half the widest step (2, between 4 and 6 in units of the
            // scale) or the clip from under 8 down to 6; the block's amax is at least 4 units: 2/4.
            assertTrue(worst <= 0.5, t + ": " + worst);
        }
    }
}
