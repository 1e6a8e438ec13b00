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
 * Matrix-vector products of 4- and 5-bit weights (Q4_0, Q4_1, Q5_0, Q5_1) with activations in
 * {@link ActQuant#pairs} layout, one weight row at a time, integer arithmetic per block as
 * llama.cpp's q4_0 x q8_0 dot: the 16 quant bytes are zero-extended to 16-bit lanes; the low
 * nibbles (AND 0x000F000F) and the high ones (16-bit shift right by 4) are 32-bit lanes of two
 * elements each, and one 32-bit multiply by the pairs layout sums two products in the top half
 * (see ActQuant). Add the two, add the bias, shift right 16: eight exact partial sums, converted
 * to float and accumulated times d_w * d_x. Q5 types add the fifth bit from qh, Q4_1 and Q5_1
 * add m_w * d_x * sum(q_x) per block. Checked against dequantized weights times float
 * activations in MulMatTest.
 */
final class DotQ4 {
    private DotQ4() {
    }

    private static final int MASK = 0x000F000F;

    /** Q4_0 rows {@code r0..r1} of {@code w} (rows of {@code nb} blocks) times {@code xa}: {@code out[r]}. */
    static void q4_0(MemorySegment w, int nb, int[] xa, MemorySegment out, long outOff, int r0, int r1) {
        long rb = 18L * nb;
        for (int r = r0; r < r1; r++) {
            MemorySegment row = w.asSlice(r * rb, rb);
            FloatVector a0 = FloatVector.zero(F256), a1 = a0;
            int b = 0;
            for (int nb4 = nb & ~3; b < nb4; b += 4) {
                long o = 18L * b;
                int ia = ActQuant.PAIR_INTS * b;
                ShortVector z = (ShortVector) ByteVector.fromMemorySegment(B128, row, o + 2, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
                IntVector s = z.reinterpretAsInts().and(MASK).mul(IntVector.fromArray(I256, xa, ia))
                        .add(z.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts().mul(IntVector.fromArray(I256, xa, ia + 8)))
                        .add(IntVector.fromArray(I256, xa, ia + 16)).lanewise(VectorOperators.ASHR, 16);
                a0 = ((FloatVector) s.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256,
                        Float.float16ToFloat(row.get(I16, o)) * Float.intBitsToFloat(xa[ia + 24])), a0);
                z = (ShortVector) ByteVector.fromMemorySegment(B128, row, o + 20, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
                s = z.reinterpretAsInts().and(MASK).mul(IntVector.fromArray(I256, xa, ia + 32))
                        .add(z.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts().mul(IntVector.fromArray(I256, xa, ia + 40)))
                        .add(IntVector.fromArray(I256, xa, ia + 48)).lanewise(VectorOperators.ASHR, 16);
                a1 = ((FloatVector) s.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256,
                        Float.float16ToFloat(row.get(I16, o + 18)) * Float.intBitsToFloat(xa[ia + 56])), a1);
                z = (ShortVector) ByteVector.fromMemorySegment(B128, row, o + 38, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
                s = z.reinterpretAsInts().and(MASK).mul(IntVector.fromArray(I256, xa, ia + 64))
                        .add(z.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts().mul(IntVector.fromArray(I256, xa, ia + 72)))
                        .add(IntVector.fromArray(I256, xa, ia + 80)).lanewise(VectorOperators.ASHR, 16);
                a0 = ((FloatVector) s.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256,
                        Float.float16ToFloat(row.get(I16, o + 36)) * Float.intBitsToFloat(xa[ia + 88])), a0);
                z = (ShortVector) ByteVector.fromMemorySegment(B128, row, o + 56, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
                s = z.reinterpretAsInts().and(MASK).mul(IntVector.fromArray(I256, xa, ia + 96))
                        .add(z.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts().mul(IntVector.fromArray(I256, xa, ia + 104)))
                        .add(IntVector.fromArray(I256, xa, ia + 112)).lanewise(VectorOperators.ASHR, 16);
                a1 = ((FloatVector) s.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256,
                        Float.float16ToFloat(row.get(I16, o + 54)) * Float.intBitsToFloat(xa[ia + 120])), a1);
            }
            for (; b < nb; b++) {
                long o = 18L * b;
                int ia = ActQuant.PAIR_INTS * b;
                ShortVector z = (ShortVector) ByteVector.fromMemorySegment(B128, row, o + 2, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
                IntVector s = z.reinterpretAsInts().and(MASK).mul(IntVector.fromArray(I256, xa, ia))
                        .add(z.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts().mul(IntVector.fromArray(I256, xa, ia + 8)))
                        .add(IntVector.fromArray(I256, xa, ia + ActQuant.BIAS)).lanewise(VectorOperators.ASHR, 16);
                a0 = ((FloatVector) s.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256,
                        Float.float16ToFloat(row.get(I16, o)) * Float.intBitsToFloat(xa[ia + ActQuant.D])), a0);
            }
            out.set(Mem.F32, outOff + 4L * r, a0.add(a1).reduceLanes(VectorOperators.ADD));
        }
    }

    /** Q4_1: as Q4_0 with no zero point, plus m per block. */
    static void q4_1(MemorySegment w, int nb, int[] xa, MemorySegment out, long outOff, int r0, int r1) {
        long rb = 20L * nb;
        for (int r = r0; r < r1; r++) {
            MemorySegment row = w.asSlice(r * rb, rb);
            FloatVector a0 = FloatVector.zero(F256);
            float ms = 0;
            for (int b = 0; b < nb; b++) {
                long o = 20L * b;
                int ia = ActQuant.PAIR_INTS * b;
                ShortVector z = (ShortVector) ByteVector.fromMemorySegment(B128, row, o + 4, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
                IntVector s = z.reinterpretAsInts().and(MASK).mul(IntVector.fromArray(I256, xa, ia))
                        .add(z.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts().mul(IntVector.fromArray(I256, xa, ia + 8)))
                        .add(IntVector.fromArray(I256, xa, ia + ActQuant.BIAS)).lanewise(VectorOperators.ASHR, 16);
                float dx = Float.intBitsToFloat(xa[ia + ActQuant.D]);
                a0 = ((FloatVector) s.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256,
                        Float.float16ToFloat(row.get(I16, o)) * dx), a0);
                ms += Float.float16ToFloat(row.get(I16, o + 2)) * dx * xa[ia + ActQuant.SUM];
            }
            out.set(Mem.F32, outOff + 4L * r, a0.reduceLanes(VectorOperators.ADD) + ms);
        }
    }

    private static final IntVector SHIFT_LO = IntVector.zero(I256).addIndex(2);
    private static final IntVector SHIFT_HI = SHIFT_LO.add(16);

    /** Q5_0 and Q5_1: the fifth bits of elements 2i, 2i+1 to bits 4 and 20 of lane i, by a multiply. */
    static void q5(MemorySegment w, int nb, boolean withMin, int[] xa, MemorySegment out, long outOff, int r0, int r1) {
        int size = withMin ? 24 : 22, qsAt = withMin ? 8 : 6;
        long rb = (long) size * nb;
        for (int r = r0; r < r1; r++) {
            MemorySegment row = w.asSlice(r * rb, rb);
            FloatVector a0 = FloatVector.zero(F256);
            float ms = 0;
            for (int b = 0; b < nb; b++) {
                long o = (long) size * b;
                int ia = ActQuant.PAIR_INTS * b;
                IntVector qh = IntVector.broadcast(I256, row.get(I32, o + qsAt - 4));
                IntVector hl = qh.lanewise(VectorOperators.LSHR, SHIFT_LO).and(3).mul(0x00080010).and(0x00100010);
                IntVector hh = qh.lanewise(VectorOperators.LSHR, SHIFT_HI).and(3).mul(0x00080010).and(0x00100010);
                ShortVector z = (ShortVector) ByteVector.fromMemorySegment(B128, row, o + qsAt, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
                IntVector s = z.reinterpretAsInts().and(MASK).or(hl).mul(IntVector.fromArray(I256, xa, ia))
                        .add(z.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts().or(hh).mul(IntVector.fromArray(I256, xa, ia + 8)))
                        .add(IntVector.fromArray(I256, xa, ia + ActQuant.BIAS)).lanewise(VectorOperators.ASHR, 16);
                float dx = Float.intBitsToFloat(xa[ia + ActQuant.D]);
                a0 = ((FloatVector) s.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256,
                        Float.float16ToFloat(row.get(I16, o)) * dx), a0);
                if (withMin) ms += Float.float16ToFloat(row.get(I16, o + 2)) * dx * xa[ia + ActQuant.SUM];
            }
            out.set(Mem.F32, outOff + 4L * r, a0.reduceLanes(VectorOperators.ADD) + ms);
        }
    }
}
