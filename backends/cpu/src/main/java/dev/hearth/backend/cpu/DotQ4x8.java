package dev.hearth.backend.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.hearth.backend.cpu.Mem.B128;
import static dev.hearth.backend.cpu.Mem.F256;
import static dev.hearth.backend.cpu.Mem.I256;
import static dev.hearth.backend.cpu.Mem.LE;
import static dev.hearth.backend.cpu.Mem.S128;
import static dev.hearth.backend.cpu.Mem.S256;

/**
 * Matrix-vector product of Q4_0 weights repacked eight rows at a time ({@link Repack}),
 * with activations in {@link ActQuant#lanes} layout. Chunk j of a block (16 bytes) holds bytes
 * 2j and 2j+1 of each of the eight rows; zero-extended to sixteen 16-bit lanes, lane 2r+e is
 * byte 2j+e of row r, z = lo + 16 hi with lo the nibble of element 2j+e and hi that of element
 * 16+2j+e. One 16-bit multiply by the activation lane vector L_j (x[2j], x[2j+1] eight times) and
 * one of z >> 4 by H_j (x[16+2j+e] - 16 x[2j+e]) give lo x_lo + hi x_hi per lane, since z L_j =
 * lo x_lo + 16 hi x_lo: no masking. The 16-bit sums wrap on the way, but the final sum of 16
 * products is at most 16 * 15 * 127 in size, so it is exact; then the two lanes of each row add
 * into 32 bits, the zero point (-8 sum(x)) is added, and the row's d_w (eight halves converted at
 * once) times d_x scales it. Sixteen {@code vpmullw} with a memory operand per 8 rows and block:
 * no horizontal sums, no 32-bit multiplies. Checked against dequantized weights times float
 * activations in MulMatTest.
 */
final class DotQ4x8 {
    private DotQ4x8() {
    }

    /**
     * Groups {@code g0..g1} of 8 rows of {@code packed} ({@code nb} blocks per row) times the
     * activations {@code xl} / {@code xb} ({@link ActQuant#lanes}): {@code out[8g..8g+8)}.
     */
    static void q4_0(MemorySegment packed, int nb, short[] xl, int[] xb, MemorySegment out, long outOff, int g0, int g1) {
        long gb = 144L * nb;
        for (int gi = g0; gi < g1; gi++) {
            MemorySegment g = packed.asSlice(gi * gb, gb);
            FloatVector acc = FloatVector.zero(F256);
            for (int b = 0; b < nb; b++) {
                long o = 144L * b;
                int xo = ActQuant.LANE_SHORTS * b;
                ShortVector z = chunk(g, o + 16);
                ShortVector lo = z.mul(ShortVector.fromArray(S256, xl, xo));
                ShortVector hi = z.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S256, xl, xo + 128));
                for (int j = 1; j < 8; j++) {
                    z = chunk(g, o + 16 + 16 * j);
                    lo = lo.add(z.mul(ShortVector.fromArray(S256, xl, xo + 16 * j)));
                    hi = hi.add(z.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S256, xl, xo + 128 + 16 * j)));
                }
                IntVector v = lo.add(hi).reinterpretAsInts();
                IntVector s = v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(v.lanewise(VectorOperators.ASHR, 16)).add(xb[2 * b]);
                FloatVector d = ((IntVector) ShortVector.fromMemorySegment(S128, g, o, LE).convertShape(VectorOperators.S2I, I256, 0))
                        .lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats();
                acc = ((FloatVector) s.convert(VectorOperators.I2F, 0)).fma(d.mul(Float.intBitsToFloat(xb[2 * b + 1]) * Mem.HALF_BIAS), acc);
            }
            acc.intoMemorySegment(out, outOff + 32L * gi, LE);
        }
    }

    /** Sixteen bytes at {@code o}, zero-extended to 16-bit lanes. */
    private static ShortVector chunk(MemorySegment g, long o) {
        return (ShortVector) ByteVector.fromMemorySegment(B128, g, o, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
    }
}
