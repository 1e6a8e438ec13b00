package dev.hearth.backend.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.hearth.backend.cpu.Mem.B128;
import static dev.hearth.backend.cpu.Mem.F256;
import static dev.hearth.backend.cpu.Mem.LE;
import static dev.hearth.backend.cpu.Mem.S256;

/**
 * MXFP4 weights (blocks of 32: an E8M0 exponent byte, then 16 bytes of E2M1 nibbles, low nibbles
 * elements 0..15 and high ones 16..31). A nibble becomes its doubled E2M1 value (ggml's
 * {@code kvalues_mxfp4}, integers -12..12) by a 16-entry byte table lookup ({@code selectFrom}:
 * one byte shuffle), and the block's scale is halved to match ({@link #scaleHalf}), as the
 * reference codec. {@link #decode} turns rows into floats (get_rows, and the tiles of
 * {@link Gemm}); {@link #dot} is the matrix-vector kernel, with activations in
 * {@link ActQuant#shorts} layout (int8 blocks of 32, as for Q8_0), as llama.cpp's mxfp4 x q8_0
 * dot: the looked-up int8 values sign-extended to 16-bit lanes times the int16 activations, the
 * two halves' products added in 16 bits (|sum| <= 2 * 12 * 127), adjacent lanes in 32 bits, and
 * the eight partial sums accumulated in float times {@code scaleHalf(e) * d_x}. Checked against
 * the reference codec in MulMatTest and OpsTest, and by the conformance suite.
 */
final class DotMxfp4 {
    private DotMxfp4() {
    }

    /** E2M1 values doubled, by nibble: ggml's {@code kvalues_mxfp4}. */
    static final byte[] KVALUES = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
    private static final ByteVector TABLE = ByteVector.fromArray(B128, KVALUES, 0);

    /** Half of the E8M0 scale, {@code 2^(e-128)}, from its bits (denormal for e 0 and 1), as ggml's {@code ggml_e8m0_to_fp32_half}. */
    static float scaleHalf(int e) {
        return Float.intBitsToFloat(e < 2 ? 0x00200000 << e : (e - 1) << 23);
    }

    /** Decodes {@code n} elements (whole blocks) at byte {@code off} of {@code s} into {@code dst[o..o+n)}. */
    static void decode(MemorySegment s, long off, float[] dst, int o, int n) {
        for (int b = 0; b < n; b += 32, off += 17, o += 32) {
            FloatVector dv = FloatVector.broadcast(F256, scaleHalf(Mem.u8(s, off)));
            ByteVector q = ByteVector.fromMemorySegment(B128, s, off + 1, LE);
            ByteVector v = q.and((byte) 0xf).selectFrom(TABLE);
            ((FloatVector) v.convertShape(VectorOperators.B2F, F256, 0)).mul(dv).intoArray(dst, o);
            ((FloatVector) v.convertShape(VectorOperators.B2F, F256, 1)).mul(dv).intoArray(dst, o + 8);
            v = q.lanewise(VectorOperators.LSHR, 4).selectFrom(TABLE);
            ((FloatVector) v.convertShape(VectorOperators.B2F, F256, 0)).mul(dv).intoArray(dst, o + 16);
            ((FloatVector) v.convertShape(VectorOperators.B2F, F256, 1)).mul(dv).intoArray(dst, o + 24);
        }
    }

    /** The block at byte {@code o} of {@code row} times activations {@code xq[ix..ix+32)}: eight partial integer sums. */
    private static IntVector block(MemorySegment row, long o, short[] xq, int ix) {
        ByteVector q = ByteVector.fromMemorySegment(B128, row, o + 1, LE);
        ShortVector lo = (ShortVector) q.and((byte) 0xf).selectFrom(TABLE).convertShape(VectorOperators.B2S, S256, 0);
        ShortVector hi = (ShortVector) q.lanewise(VectorOperators.LSHR, 4).selectFrom(TABLE).convertShape(VectorOperators.B2S, S256, 0);
        IntVector i = lo.mul(ShortVector.fromArray(S256, xq, ix)).add(hi.mul(ShortVector.fromArray(S256, xq, ix + 16))).reinterpretAsInts();
        // adjacent 16-bit lanes summed into 32 bits
        return i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16));
    }

    /** Rows {@code r0..r1} of {@code w} (rows of {@code nb} blocks) times {@code xq} with block scales {@code xd}: {@code out[r]}. */
    static void dot(MemorySegment w, int nb, short[] xq, float[] xd, MemorySegment out, long outOff, int r0, int r1) {
        long rb = 17L * nb;
        for (int r = r0; r < r1; r++) {
            MemorySegment row = w.asSlice(r * rb, rb);
            FloatVector a0 = FloatVector.zero(F256), a1 = a0;
            int b = 0;
            for (int nb2 = nb & ~1; b < nb2; b += 2) {
                long o = 17L * b;
                a0 = ((FloatVector) block(row, o, xq, 32 * b).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F256, scaleHalf(Mem.u8(row, o)) * xd[b]), a0);
                a1 = ((FloatVector) block(row, o + 17, xq, 32 * b + 32).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F256, scaleHalf(Mem.u8(row, o + 17)) * xd[b + 1]), a1);
            }
            for (; b < nb; b++) {
                long o = 17L * b;
                a0 = ((FloatVector) block(row, o, xq, 32 * b).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F256, scaleHalf(Mem.u8(row, o)) * xd[b]), a0);
            }
            out.set(Mem.F32, outOff + 4L * r, a0.add(a1).reduceLanes(VectorOperators.ADD));
        }
    }
}
