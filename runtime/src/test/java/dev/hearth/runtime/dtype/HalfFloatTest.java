package dev.hearth.runtime.dtype;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fp16 and bf16 scalar helpers: exact decoding, round-to-nearest-even encoding, specials. */
class HalfFloatTest {

    @Test
    void fp16KnownValues() {
        assertEquals((short) 0x3C00, Codecs.floatToFp16(1f));
        assertEquals((short) 0xC000, Codecs.floatToFp16(-2f));
        assertEquals((short) 0x7BFF, Codecs.floatToFp16(65504f));
        assertEquals((short) 0x7C00, Codecs.floatToFp16(65520f), "halfway past the largest rounds to infinity");
        assertEquals((short) 0x0001, Codecs.floatToFp16(0x1p-24f));
        assertEquals((short) 0x0000, Codecs.floatToFp16(0x1p-26f));
        assertEquals(0x1p-14f, Codecs.fp16ToFloat((short) 0x0400));
        assertEquals(-0.5f, Codecs.fp16ToFloat((short) 0xB800));
    }

    @Test
    void fp16RoundsToNearestEven() {
        // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties go to the even mantissa (1).
        assertEquals((short) 0x3C00, Codecs.floatToFp16(1f + 0x1p-11f));
        // 1 + 3*2^-11 lies halfway between 1 + 2^-10 (odd) and 1 + 2^-9 (even).
        assertEquals((short) 0x3C02, Codecs.floatToFp16(1f + 3 * 0x1p-11f));
        assertEquals((short) 0x3C01, Codecs.floatToFp16(1f + 0x1p-11f + 0x1p-20f));
    }

    @Test
    void bf16KnownValuesAndRounding() {
        assertEquals(1f, Codecs.bf16ToFloat((short) 0x3F80));
        assertEquals(-3f, Codecs.bf16ToFloat((short) 0xC040));
        assertEquals((short) 0x3F80, Codecs.floatToBf16(1f));
        assertEquals((short) 0x4049, Codecs.floatToBf16((float) Math.PI));   // 3.14159274 -> 3.140625
        // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: to even (1). 1 + 3*2^-8: up to 1 + 2^-6.
        assertEquals((short) 0x3F80, Codecs.floatToBf16(1f + 0x1p-8f));
        assertEquals((short) 0x3F82, Codecs.floatToBf16(1f + 3 * 0x1p-8f));
        assertEquals((short) 0x3F81, Codecs.floatToBf16(1f + 0x1p-8f + 0x1p-20f));
        assertEquals((short) 0xBF80, Codecs.floatToBf16(-1f - 0x1p-8f));
        assertEquals((short) 0x7F80, Codecs.floatToBf16(Float.POSITIVE_INFINITY));
        assertEquals((short) 0x7F80, Codecs.floatToBf16(Float.MAX_VALUE), "rounds past the largest bf16");
        assertEquals((short) 0x8000, Codecs.floatToBf16(-0f));
    }

    @Test
    void bf16KeepsNaNs() {
        // A NaN whose payload sits only in the low half must not become infinity.
        float nan = Float.intBitsToFloat(0x7F800001);
        short b = Codecs.floatToBf16(nan);
        assertTrue(Float.isNaN(Codecs.bf16ToFloat(b)));
        assertEquals((short) 0x7FC0, Codecs.floatToBf16(Float.NaN));
    }

    @Test
    void everyHalfPatternRoundTrips() {
        for (int h = 0; h < 1 << 16; h++) {
            float f = Codecs.fp16ToFloat((short) h);
            if (Float.isNaN(f)) continue;
            assertEquals((short) h, Codecs.floatToFp16(f), "fp16 0x" + Integer.toHexString(h));
        }
        for (int b = 0; b < 1 << 16; b++) {
            float f = Codecs.bf16ToFloat((short) b);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(Codecs.bf16ToFloat(Codecs.floatToBf16(f))));
                continue;
            }
            assertEquals((short) b, Codecs.floatToBf16(f), "bf16 0x" + Integer.toHexString(b));
        }
    }

    @Test
    void bf16ErrorIsWithinHalfAnUlp() {
        float[] x = CodecTesting.uniform(3, 10000, -1e4, 1e4);
        for (float v : x) {
            float r = Codecs.bf16ToFloat(Codecs.floatToBf16(v));
            float ulp = Math.ulp(r) * (1 << 16);  // bf16 keeps 8 of float's 24 significand bits
            assertTrue(Math.abs(v - r) <= ulp / 2, v + " -> " + r);
        }
    }
}
