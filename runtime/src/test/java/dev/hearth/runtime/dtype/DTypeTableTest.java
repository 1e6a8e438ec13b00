package dev.hearth.runtime.dtype;

import dev.hearth.runtime.HearthException;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static dev.hearth.runtime.dtype.CodecTesting.IMPLEMENTED;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The DType table against ggml's structs, and each codec against the table. */
class DTypeTableTest {

    @Test
    void idsAreUniqueAndLookUp() {
        Set<Integer> ids = new HashSet<>();
        for (DType t : DType.values()) {
            assertTrue(ids.add(t.id), "id " + t.id + " used twice");
            assertSame(t, DType.byId(t.id));
        }
        assertNull(DType.byId(-1));
        assertNull(DType.byId(64));
        assertNull(DType.byId(Long.MAX_VALUE));
    }

    /** Elements per block and bytes per block, as the sizes of ggml-common.h's block structs. */
    @Test
    void blockSizesFollowGgmlStructs() {
        int half = 2, qk = 32, qkK = 256, kScaleSize = 12;
        Map<DType, int[]> ggml = Map.ofEntries(
                Map.entry(DType.F32, new int[] {1, 4}),
                Map.entry(DType.F16, new int[] {1, 2}),
                Map.entry(DType.BF16, new int[] {1, 2}),
                Map.entry(DType.Q4_0, new int[] {qk, half + qk / 2}),
                Map.entry(DType.Q4_1, new int[] {qk, 2 * half + qk / 2}),
                Map.entry(DType.Q5_0, new int[] {qk, half + 4 + qk / 2}),
                Map.entry(DType.Q5_1, new int[] {qk, 2 * half + 4 + qk / 2}),
                Map.entry(DType.Q8_0, new int[] {qk, half + qk}),
                Map.entry(DType.Q8_1, new int[] {qk, 2 * half + qk}),
                Map.entry(DType.Q2_K, new int[] {qkK, 2 * half + qkK / 16 + qkK / 4}),
                Map.entry(DType.Q3_K, new int[] {qkK, half + qkK / 4 + qkK / 8 + 12}),
                Map.entry(DType.Q4_K, new int[] {qkK, 2 * half + kScaleSize + qkK / 2}),
                Map.entry(DType.Q5_K, new int[] {qkK, 2 * half + kScaleSize + qkK / 2 + qkK / 8}),
                Map.entry(DType.Q6_K, new int[] {qkK, half + qkK / 16 + 3 * qkK / 4}),
                Map.entry(DType.Q8_K, new int[] {qkK, 4 + qkK + qkK / 16 * 2}),
                Map.entry(DType.IQ2_XXS, new int[] {qkK, half + qkK / 8 * 2}),
                Map.entry(DType.IQ2_XS, new int[] {qkK, half + qkK / 8 * 2 + qkK / 32}),
                Map.entry(DType.IQ2_S, new int[] {qkK, half + qkK / 4 + qkK / 16}),
                Map.entry(DType.IQ3_XXS, new int[] {qkK, half + 3 * (qkK / 8)}),
                Map.entry(DType.IQ3_S, new int[] {qkK, half + 13 * (qkK / 32) + qkK / 64}),
                Map.entry(DType.IQ1_S, new int[] {qkK, half + qkK / 8 + qkK / 16}),
                Map.entry(DType.IQ1_M, new int[] {qkK, qkK / 8 + qkK / 16 + qkK / 32}),
                Map.entry(DType.IQ4_NL, new int[] {qk, half + qk / 2}),
                Map.entry(DType.IQ4_XS, new int[] {qkK, half + 2 + qkK / 64 + qkK / 2}),
                Map.entry(DType.TQ1_0, new int[] {qkK, half + qkK / 64 + (qkK - 4 * qkK / 64) / 5}),
                Map.entry(DType.TQ2_0, new int[] {qkK, half + qkK / 4}),
                Map.entry(DType.MXFP4, new int[] {qk, 1 + qk / 2}),
                Map.entry(DType.I8, new int[] {1, 1}),
                Map.entry(DType.I16, new int[] {1, 2}),
                Map.entry(DType.I32, new int[] {1, 4}),
                Map.entry(DType.I64, new int[] {1, 8}),
                Map.entry(DType.F64, new int[] {1, 8}));
        ggml.forEach((t, bs) -> assertArrayEquals(bs, new int[] {t.blockSize, t.typeSize}, t.name()));
        for (DType t : DType.values()) {
            if (!ggml.containsKey(t)) assertTrue(t.retired, t + " is neither checked nor retired");
        }
    }

    @Test
    void everyListedTypeHasACodec() {
        for (DType t : IMPLEMENTED) {
            assertTrue(Codecs.has(t), t.name());
            assertEquals(t, Codecs.of(t).type());
            assertTrue(DType.supportedNames().contains(t.name()));
        }
        assertFalse(Codecs.has(DType.IQ2_XXS));
        HearthException e = assertThrows(HearthException.class, () -> Codecs.of(DType.IQ2_XXS));
        assertTrue(e.getMessage().contains("IQ2_XXS") && e.getMessage().contains("Q4_K"), e.getMessage());
    }

    /**
     * Each codec reads and writes exactly {@code typeSize} bytes per block: encoding into a block
     * surrounded by sentinels leaves them alone and fills no more, and decoding from a segment of
     * exactly that size stays in bounds.
     */
    @Test
    void codecsReadAndWriteExactlyOneBlock() {
        for (DType t : IMPLEMENTED) {
            int bs = t.blockSize, ts = t.typeSize;
            float[] x = CodecTesting.normal(7, 2 * bs, 1);
            byte[] raw = new byte[2 * ts + 16];
            Arrays.fill(raw, (byte) 0x5A);
            MemorySegment s = MemorySegment.ofArray(raw);
            Codecs.quantize(t, x, bs, s, 8 + ts, bs);   // the second half of x into the second block slot
            for (int i = 0; i < 8 + ts; i++) assertEquals(0x5A, raw[i], t + ": wrote before its block at " + i);
            for (int i = 8 + 2 * ts; i < raw.length; i++) assertEquals(0x5A, raw[i], t + ": wrote past its block at " + i);

            MemorySegment exact = MemorySegment.ofArray(new byte[ts]);
            MemorySegment.copy(s, 8 + ts, exact, 0, ts);
            float[] y = Codecs.dequantize(t, exact, 0, bs);
            float[] direct = CodecTesting.roundTrip(t, Arrays.copyOfRange(x, bs, 2 * bs));
            assertArrayEquals(direct, y, t + ": decoding at an offset differs");
            assertEquals(ts, t.bytesFor(bs));
        }
    }

    @Test
    void partialBlocksAreRefused() {
        for (DType t : IMPLEMENTED) {
            if (t.blockSize == 1) continue;
            int n = t.blockSize + 1;
            MemorySegment s = MemorySegment.ofArray(new byte[4 * t.typeSize]);
            assertThrows(IllegalArgumentException.class, () -> Codecs.dequantize(t, s, 0, new float[n], n), t.name());
            assertThrows(IllegalArgumentException.class, () -> Codecs.quantize(t, new float[n], 0, s, 0, n), t.name());
        }
    }
}
