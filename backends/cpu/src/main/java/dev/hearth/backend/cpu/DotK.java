package dev.hearth.backend.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.hearth.backend.cpu.Mem.B128;
import static dev.hearth.backend.cpu.Mem.F256;
import static dev.hearth.backend.cpu.Mem.I16;
import static dev.hearth.backend.cpu.Mem.I256;
import static dev.hearth.backend.cpu.Mem.I32;
import static dev.hearth.backend.cpu.Mem.LE;
import static dev.hearth.backend.cpu.Mem.S256;

/**
 * Matrix-vector products of the K-quants (Q4_K, Q5_K, Q6_K) with activations in
 * {@link ActQuant#pairsK} layout (int8 with one scale per 256, as ggml's Q8_K), one weight row at
 * a time, in integers as {@link DotQ4}: quant bytes zero-extended to 16-bit lanes, nibbles (and
 * Q5_K's fifth bit, Q6_K's two high bits) in lane halves, one 32-bit multiply per two products
 * summed in the top half; each sub-block's exact sum, shifted down, times its 6-bit (Q4_K, Q5_K)
 * or int8 (Q6_K) scale adds up in 32 bits over the super-block, which is converted once and
 * multiplied by d_w * d_x. The offsets come from the activations' sums: Q4_K/Q5_K subtract
 * dmin * sum(m_j * sum_j(q_x)), Q6_K its zero point 32 * sum(scale * sum16(q_x)). Checked against
 * dequantized weights times float activations in MulMatTest.
 */
final class DotK {
    private DotK() {
    }

    private static final int MASK = 0x000F000F;

    // Scale and min j of a Q4_K/Q5_K super-block, 6 bits each, from its 12 scale bytes read as the
    // ints u0, u1, u2: for j < 4 the low 6 bits of byte j of u0 (scale) and u1 (min); for j >= 4
    // the nibbles of byte j-4 of u2 plus the top 2 bits of byte j-4 of u0 and u1.

    /** Q4_K rows {@code r0..r1} of {@code nsb} super-blocks times {@code xa}: {@code out[r]}. */
    static void q4_k(MemorySegment w, int nsb, int[] xa, MemorySegment out, long outOff, int r0, int r1) {
        long rb = 144L * nsb;
        for (int r = r0; r < r1; r++) {
            MemorySegment row = w.asSlice(r * rb, rb);
            FloatVector acc = FloatVector.zero(F256);
            float mins = 0;
            for (int sb = 0; sb < nsb; sb++) {
                long o = 144L * sb;
                int ia = ActQuant.K_INTS * sb;
                int u0 = row.get(I32, o + 4), u1 = row.get(I32, o + 8), u2 = row.get(I32, o + 12);
                IntVector t = IntVector.zero(I256);
                ShortVector z0 =
                        ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 16, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0));
                ShortVector z1 =
                        ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0));
                IntVector l0 = z0.reinterpretAsInts().and(MASK);
                IntVector l1 = z1.reinterpretAsInts().and(MASK);
                IntVector h0 = z0.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts();
                IntVector h1 = z1.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts();
                t = t.add(l0.mul(IntVector.fromArray(I256, xa, ia)).add(l1.mul(IntVector.fromArray(I256, xa, ia + 8)))
                        .add(0x8000).lanewise(VectorOperators.ASHR, 16).mul(u0 & 63));
                t = t.add(h0.mul(IntVector.fromArray(I256, xa, ia + 16)).add(h1.mul(IntVector.fromArray(I256, xa, ia + 24)))
                        .add(0x8000).lanewise(VectorOperators.ASHR, 16).mul((u0 >>> 8) & 63));
                z0 = ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 48, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0));
                z1 = ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 64, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0));
                l0 = z0.reinterpretAsInts().and(MASK);
                l1 = z1.reinterpretAsInts().and(MASK);
                h0 = z0.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts();
                h1 = z1.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts();
                t = t.add(l0.mul(IntVector.fromArray(I256, xa, ia + 32)).add(l1.mul(IntVector.fromArray(I256, xa, ia + 40)))
                        .add(0x8000).lanewise(VectorOperators.ASHR, 16).mul((u0 >>> 16) & 63));
                t = t.add(h0.mul(IntVector.fromArray(I256, xa, ia + 48)).add(h1.mul(IntVector.fromArray(I256, xa, ia + 56)))
                        .add(0x8000).lanewise(VectorOperators.ASHR, 16).mul((u0 >>> 24) & 63));
                z0 = ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 80, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0));
                z1 = ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 96, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0));
                l0 = z0.reinterpretAsInts().and(MASK);
                l1 = z1.reinterpretAsInts().and(MASK);
                h0 = z0.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts();
                h1 = z1.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts();
                t = t.add(l0.mul(IntVector.fromArray(I256, xa, ia + 64)).add(l1.mul(IntVector.fromArray(I256, xa, ia + 72)))
                        .add(0x8000).lanewise(VectorOperators.ASHR, 16).mul((u2 & 0xf) | ((u0 >>> 6) & 3) << 4));
                t = t.add(h0.mul(IntVector.fromArray(I256, xa, ia + 80)).add(h1.mul(IntVector.fromArray(I256, xa, ia + 88)))
                        .add(0x8000).lanewise(VectorOperators.ASHR, 16).mul(((u2 >>> 8) & 0xf) | ((u0 >>> 14) & 3) << 4));
                z0 = ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 112, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0));
                z1 = ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 128, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0));
                l0 = z0.reinterpretAsInts().and(MASK);
                l1 = z1.reinterpretAsInts().and(MASK);
                h0 = z0.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts();
                h1 = z1.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts();
                t = t.add(l0.mul(IntVector.fromArray(I256, xa, ia + 96)).add(l1.mul(IntVector.fromArray(I256, xa, ia + 104)))
                        .add(0x8000).lanewise(VectorOperators.ASHR, 16).mul(((u2 >>> 16) & 0xf) | ((u0 >>> 22) & 3) << 4));
                t = t.add(h0.mul(IntVector.fromArray(I256, xa, ia + 112)).add(h1.mul(IntVector.fromArray(I256, xa, ia + 120)))
                        .add(0x8000).lanewise(VectorOperators.ASHR, 16).mul(((u2 >>> 24) & 0xf) | ((u0 >>> 30) & 3) << 4));
                int msum = (u1 & 63) * (xa[ia + ActQuant.K_SUMS + 0] + xa[ia + ActQuant.K_SUMS + 1])
                        + ((u1 >>> 8) & 63) * (xa[ia + ActQuant.K_SUMS + 2] + xa[ia + ActQuant.K_SUMS + 3])
                        + ((u1 >>> 16) & 63) * (xa[ia + ActQuant.K_SUMS + 4] + xa[ia + ActQuant.K_SUMS + 5])
                        + ((u1 >>> 24) & 63) * (xa[ia + ActQuant.K_SUMS + 6] + xa[ia + ActQuant.K_SUMS + 7])
                        + (((u2 >>> 4) & 0xf) | ((u1 >>> 6) & 3) << 4) * (xa[ia + ActQuant.K_SUMS + 8] + xa[ia + ActQuant.K_SUMS + 9])
                        + (((u2 >>> 12) & 0xf) | ((u1 >>> 14) & 3) << 4) * (xa[ia + ActQuant.K_SUMS + 10] + xa[ia + ActQuant.K_SUMS + 11])
                        + (((u2 >>> 20) & 0xf) | ((u1 >>> 22) & 3) << 4) * (xa[ia + ActQuant.K_SUMS + 12] + xa[ia + ActQuant.K_SUMS + 13])
                        + (((u2 >>> 28) & 0xf) | ((u1 >>> 30) & 3) << 4) * (xa[ia + ActQuant.K_SUMS + 14] + xa[ia + ActQuant.K_SUMS + 15]);
                float dx = Float.intBitsToFloat(xa[ia + ActQuant.K_D]);
                acc = ((FloatVector) t.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, Float.float16ToFloat(row.get(I16, o)) * dx), acc);
                mins += Float.float16ToFloat(row.get(I16, o + 2)) * dx * msum;
            }
            out.set(Mem.F32, outOff + 4L * r, acc.reduceLanes(VectorOperators.ADD) - mins);
        }
    }

    /** Q5_K rows {@code r0..r1} of {@code nsb} super-blocks times {@code xa}: {@code out[r]}. */
    static void q5_k(MemorySegment w, int nsb, int[] xa, MemorySegment out, long outOff, int r0, int r1) {
        long rb = 176L * nsb;
        for (int r = r0; r < r1; r++) {
            MemorySegment row = w.asSlice(r * rb, rb);
            FloatVector acc = FloatVector.zero(F256);
            float mins = 0;
            for (int sb = 0; sb < nsb; sb++) {
                long o = 176L * sb;
                int ia = ActQuant.K_INTS * sb;
                int u0 = row.get(I32, o + 4), u1 = row.get(I32, o + 8), u2 = row.get(I32, o + 12);
                IntVector b0 =
                        ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 16, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0)).reinterpretAsInts();
                IntVector b1 =
                        ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0)).reinterpretAsInts();
                IntVector t = IntVector.zero(I256);
                ShortVector z0 =
                        ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 48, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0));
                ShortVector z1 =
                        ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 64, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0));
                IntVector l0 = z0.reinterpretAsInts().and(MASK);
                IntVector l1 = z1.reinterpretAsInts().and(MASK);
                IntVector h0 = z0.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts();
                IntVector h1 = z1.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts();
                l0 = l0.or(b0.and(0x00010001).lanewise(VectorOperators.LSHL, 4));
                l1 = l1.or(b1.and(0x00010001).lanewise(VectorOperators.LSHL, 4));
                h0 = h0.or(b0.lanewise(VectorOperators.LSHR, 1).and(0x00010001).lanewise(VectorOperators.LSHL, 4));
                h1 = h1.or(b1.lanewise(VectorOperators.LSHR, 1).and(0x00010001).lanewise(VectorOperators.LSHL, 4));
                t = t.add(l0.mul(IntVector.fromArray(I256, xa, ia)).add(l1.mul(IntVector.fromArray(I256, xa, ia + 8)))
                        .add(0x8000).lanewise(VectorOperators.ASHR, 16).mul(u0 & 63));
                t = t.add(h0.mul(IntVector.fromArray(I256, xa, ia + 16)).add(h1.mul(IntVector.fromArray(I256, xa, ia + 24)))
                        .add(0x8000).lanewise(VectorOperators.ASHR, 16).mul((u0 >>> 8) & 63));
                z0 = ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 80, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0));
                z1 = ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 96, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0));
                l0 = z0.reinterpretAsInts().and(MASK);
                l1 = z1.reinterpretAsInts().and(MASK);
                h0 = z0.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts();
                h1 = z1.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts();
                l0 = l0.or(b0.lanewise(VectorOperators.LSHR, 2).and(0x00010001).lanewise(VectorOperators.LSHL, 4));
                l1 = l1.or(b1.lanewise(VectorOperators.LSHR, 2).and(0x00010001).lanewise(VectorOperators.LSHL, 4));
                h0 = h0.or(b0.lanewise(VectorOperators.LSHR, 3).and(0x00010001).lanewise(VectorOperators.LSHL, 4));
                h1 = h1.or(b1.lanewise(VectorOperators.LSHR, 3).and(0x00010001).lanewise(VectorOperators.LSHL, 4));
                t = t.add(l0.mul(IntVector.fromArray(I256, xa, ia + 32)).add(l1.mul(IntVector.fromArray(I256, xa, ia + 40)))
                        .add(0x8000).lanewise(VectorOperators.ASHR, 16).mul((u0 >>> 16) & 63));
                t = t.add(h0.mul(IntVector.fromArray(I256, xa, ia + 48)).add(h1.mul(IntVector.fromArray(I256, xa, ia + 56)))
                        .add(0x8000).lanewise(VectorOperators.ASHR, 16).mul((u0 >>> 24) & 63));
                z0 = ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 112, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0));
                z1 = ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 128, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0));
                l0 = z0.reinterpretAsInts().and(MASK);
                l1 = z1.reinterpretAsInts().and(MASK);
                h0 = z0.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts();
                h1 = z1.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts();
                l0 = l0.or(b0.lanewise(VectorOperators.LSHR, 4).and(0x00010001).lanewise(VectorOperators.LSHL, 4));
                l1 = l1.or(b1.lanewise(VectorOperators.LSHR, 4).and(0x00010001).lanewise(VectorOperators.LSHL, 4));
                h0 = h0.or(b0.lanewise(VectorOperators.LSHR, 5).and(0x00010001).lanewise(VectorOperators.LSHL, 4));
                h1 = h1.or(b1.lanewise(VectorOperators.LSHR, 5).and(0x00010001).lanewise(VectorOperators.LSHL, 4));
                t = t.add(l0.mul(IntVector.fromArray(I256, xa, ia + 64)).add(l1.mul(IntVector.fromArray(I256, xa, ia + 72)))
                        .add(0x8000).lanewise(VectorOperators.ASHR, 16).mul((u2 & 0xf) | ((u0 >>> 6) & 3) << 4));
                t = t.add(h0.mul(IntVector.fromArray(I256, xa, ia + 80)).add(h1.mul(IntVector.fromArray(I256, xa, ia + 88)))
                        .add(0x8000).lanewise(VectorOperators.ASHR, 16).mul(((u2 >>> 8) & 0xf) | ((u0 >>> 14) & 3) << 4));
                z0 = ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 144, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0));
                z1 = ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 160, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0));
                l0 = z0.reinterpretAsInts().and(MASK);
                l1 = z1.reinterpretAsInts().and(MASK);
                h0 = z0.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts();
                h1 = z1.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts();
                l0 = l0.or(b0.lanewise(VectorOperators.LSHR, 6).and(0x00010001).lanewise(VectorOperators.LSHL, 4));
                l1 = l1.or(b1.lanewise(VectorOperators.LSHR, 6).and(0x00010001).lanewise(VectorOperators.LSHL, 4));
                h0 = h0.or(b0.lanewise(VectorOperators.LSHR, 7).and(0x00010001).lanewise(VectorOperators.LSHL, 4));
                h1 = h1.or(b1.lanewise(VectorOperators.LSHR, 7).and(0x00010001).lanewise(VectorOperators.LSHL, 4));
                t = t.add(l0.mul(IntVector.fromArray(I256, xa, ia + 96)).add(l1.mul(IntVector.fromArray(I256, xa, ia + 104)))
                        .add(0x8000).lanewise(VectorOperators.ASHR, 16).mul(((u2 >>> 16) & 0xf) | ((u0 >>> 22) & 3) << 4));
                t = t.add(h0.mul(IntVector.fromArray(I256, xa, ia + 112)).add(h1.mul(IntVector.fromArray(I256, xa, ia + 120)))
                        .add(0x8000).lanewise(VectorOperators.ASHR, 16).mul(((u2 >>> 24) & 0xf) | ((u0 >>> 30) & 3) << 4));
                int msum = (u1 & 63) * (xa[ia + ActQuant.K_SUMS + 0] + xa[ia + ActQuant.K_SUMS + 1])
                        + ((u1 >>> 8) & 63) * (xa[ia + ActQuant.K_SUMS + 2] + xa[ia + ActQuant.K_SUMS + 3])
                        + ((u1 >>> 16) & 63) * (xa[ia + ActQuant.K_SUMS + 4] + xa[ia + ActQuant.K_SUMS + 5])
                        + ((u1 >>> 24) & 63) * (xa[ia + ActQuant.K_SUMS + 6] + xa[ia + ActQuant.K_SUMS + 7])
                        + (((u2 >>> 4) & 0xf) | ((u1 >>> 6) & 3) << 4) * (xa[ia + ActQuant.K_SUMS + 8] + xa[ia + ActQuant.K_SUMS + 9])
                        + (((u2 >>> 12) & 0xf) | ((u1 >>> 14) & 3) << 4) * (xa[ia + ActQuant.K_SUMS + 10] + xa[ia + ActQuant.K_SUMS + 11])
                        + (((u2 >>> 20) & 0xf) | ((u1 >>> 22) & 3) << 4) * (xa[ia + ActQuant.K_SUMS + 12] + xa[ia + ActQuant.K_SUMS + 13])
                        + (((u2 >>> 28) & 0xf) | ((u1 >>> 30) & 3) << 4) * (xa[ia + ActQuant.K_SUMS + 14] + xa[ia + ActQuant.K_SUMS + 15]);
                float dx = Float.intBitsToFloat(xa[ia + ActQuant.K_D]);
                acc = ((FloatVector) t.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, Float.float16ToFloat(row.get(I16, o)) * dx), acc);
                mins += Float.float16ToFloat(row.get(I16, o + 2)) * dx * msum;
            }
            out.set(Mem.F32, outOff + 4L * r, acc.reduceLanes(VectorOperators.ADD) - mins);
        }
    }

    /** Q6_K rows {@code r0..r1} of {@code nsb} super-blocks times {@code xa}: {@code out[r]}. */
    static void q6_k(MemorySegment w, int nsb, int[] xa, MemorySegment out, long outOff, int r0, int r1) {
        long rb = 210L * nsb;
        for (int r = r0; r < r1; r++) {
            MemorySegment row = w.asSlice(r * rb, rb);
            FloatVector acc = FloatVector.zero(F256);
            float zero = 0;
            for (int sb = 0; sb < nsb; sb++) {
                long o = 210L * sb;
                int ia = ActQuant.K_INTS * sb;
                IntVector t = IntVector.zero(I256);
                int corr = 0;
                for (int h = 0; h < 2; h++) {
                    ShortVector a0 =
                            ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 64 * h, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0));
                    ShortVector a1 =
                            ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 64 * h + 16, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0));
                    ShortVector c0 =
                            ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 64 * h + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0));
                    ShortVector c1 =
                            ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 64 * h + 48, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0));
                    IntVector q0 =
                            ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 128 + 32 * h, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0)).reinterpretAsInts();
                    IntVector q1 =
                            ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 144 + 32 * h, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0)).reinterpretAsInts();
                    int j0 = 4 * h;
                    int sa0 = row.get(Mem.I8, o + 192 + 2 * j0), sb0 = row.get(Mem.I8, o + 193 + 2 * j0);
                    t = t.add(a0.reinterpretAsInts().and(MASK).or(q0.and(0x00030003).lanewise(VectorOperators.LSHL, 4))
                            .mul(IntVector.fromArray(I256, xa, ia + 16 * j0)).add(0x8000).lanewise(VectorOperators.ASHR, 16).mul(sa0));
                    t = t.add(a1.reinterpretAsInts().and(MASK).or(q1.and(0x00030003).lanewise(VectorOperators.LSHL, 4))
                            .mul(IntVector.fromArray(I256, xa, ia + 16 * j0 + 8)).add(0x8000).lanewise(VectorOperators.ASHR, 16).mul(sb0));
                    corr += sa0 * xa[ia + ActQuant.K_SUMS + 2 * j0] + sb0 * xa[ia + ActQuant.K_SUMS + 2 * j0 + 1];
                    int j1 = 4 * h + 1;
                    int sa1 = row.get(Mem.I8, o + 192 + 2 * j1), sb1 = row.get(Mem.I8, o + 193 + 2 * j1);
                    t = t.add(c0.reinterpretAsInts().and(MASK).or(q0.lanewise(VectorOperators.LSHR, 2).and(0x00030003).lanewise(VectorOperators.LSHL, 4))
                            .mul(IntVector.fromArray(I256, xa, ia + 16 * j1)).add(0x8000).lanewise(VectorOperators.ASHR, 16).mul(sa1));
                    t = t.add(c1.reinterpretAsInts().and(MASK).or(q1.lanewise(VectorOperators.LSHR, 2).and(0x00030003).lanewise(VectorOperators.LSHL, 4))
                            .mul(IntVector.fromArray(I256, xa, ia + 16 * j1 + 8)).add(0x8000).lanewise(VectorOperators.ASHR, 16).mul(sb1));
                    corr += sa1 * xa[ia + ActQuant.K_SUMS + 2 * j1] + sb1 * xa[ia + ActQuant.K_SUMS + 2 * j1 + 1];
                    int j2 = 4 * h + 2;
                    int sa2 = row.get(Mem.I8, o + 192 + 2 * j2), sb2 = row.get(Mem.I8, o + 193 + 2 * j2);
                    t = t.add(a0.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts().or(q0.lanewise(VectorOperators.LSHR, 4).and(0x00030003).lanewise(VectorOperators.LSHL, 4))
                            .mul(IntVector.fromArray(I256, xa, ia + 16 * j2)).add(0x8000).lanewise(VectorOperators.ASHR, 16).mul(sa2));
                    t = t.add(a1.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts().or(q1.lanewise(VectorOperators.LSHR, 4).and(0x00030003).lanewise(VectorOperators.LSHL, 4))
                            .mul(IntVector.fromArray(I256, xa, ia + 16 * j2 + 8)).add(0x8000).lanewise(VectorOperators.ASHR, 16).mul(sb2));
                    corr += sa2 * xa[ia + ActQuant.K_SUMS + 2 * j2] + sb2 * xa[ia + ActQuant.K_SUMS + 2 * j2 + 1];
                    int j3 = 4 * h + 3;
                    int sa3 = row.get(Mem.I8, o + 192 + 2 * j3), sb3 = row.get(Mem.I8, o + 193 + 2 * j3);
                    t = t.add(c0.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts().or(q0.lanewise(VectorOperators.LSHR, 6).and(0x00030003).lanewise(VectorOperators.LSHL, 4))
                            .mul(IntVector.fromArray(I256, xa, ia + 16 * j3)).add(0x8000).lanewise(VectorOperators.ASHR, 16).mul(sa3));
                    t = t.add(c1.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts().or(q1.lanewise(VectorOperators.LSHR, 6).and(0x00030003).lanewise(VectorOperators.LSHL, 4))
                            .mul(IntVector.fromArray(I256, xa, ia + 16 * j3 + 8)).add(0x8000).lanewise(VectorOperators.ASHR, 16).mul(sb3));
                    corr += sa3 * xa[ia + ActQuant.K_SUMS + 2 * j3] + sb3 * xa[ia + ActQuant.K_SUMS + 2 * j3 + 1];
                }
                float dd = Float.float16ToFloat(row.get(I16, o + 208)) * Float.intBitsToFloat(xa[ia + ActQuant.K_D]);
                acc = ((FloatVector) t.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, dd), acc);
                zero += dd * 32 * corr;
            }
            out.set(Mem.F32, outOff + 4L * r, acc.reduceLanes(VectorOperators.ADD) - zero);
        }
    }
}
