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
import static dev.hearth.backend.cpu.Mem.LE;
import static dev.hearth.backend.cpu.Mem.S128;
import static dev.hearth.backend.cpu.Mem.S256;

/**
 * Matrix-vector products of Q8_0 weights with activations in {@link ActQuant#shorts} layout,
 * one weight row at a time, as llama.cpp's q8_0 x q8_0 dot: each half block of 16 int8 weights
 * is sign-extended to 16-bit lanes and multiplied by the int16 activations; the two halves'
 * products add in 16 bits (|sum| <= 2 * 127 * 127), adjacent lanes then add in 32 bits, and the
 * eight partial sums are converted to float and accumulated times d_w * d_x. Checked against
 * dequantized weights times float activations in MulMatTest.
 */
final class DotQ8 {
    private DotQ8() {
    }

    static void q8_0(MemorySegment w, int nb, short[] xq, float[] xd, MemorySegment out, long outOff, int r0, int r1) {
        long rb = 34L * nb;
        for (int r = r0; r < r1; r++) {
            MemorySegment row = w.asSlice(r * rb, rb);
            FloatVector a0 = FloatVector.zero(F256), a1 = a0;
            int b = 0;
            for (int nb2 = nb & ~1; b < nb2; b += 2) {
                long o = 34L * b;
                int ix = 32 * b;
                ShortVector p = ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 2, LE).convertShape(VectorOperators.B2S, S256, 0))
                        .mul(ShortVector.fromArray(S256, xq, ix))
                        .add(((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 18, LE).convertShape(VectorOperators.B2S, S256, 0))
                                .mul(ShortVector.fromArray(S256, xq, ix + 16)));
                IntVector i = p.reinterpretAsInts();
                // adjacent 16-bit lanes summed into 32 bits
                a0 = ((FloatVector) i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16))
                        .convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, Float.float16ToFloat(row.get(I16, o)) * xd[b]), a0);
                p = ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 36, LE).convertShape(VectorOperators.B2S, S256, 0))
                        .mul(ShortVector.fromArray(S256, xq, ix + 32))
                        .add(((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 52, LE).convertShape(VectorOperators.B2S, S256, 0))
                                .mul(ShortVector.fromArray(S256, xq, ix + 48)));
                i = p.reinterpretAsInts();
                a1 = ((FloatVector) i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16))
                        .convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, Float.float16ToFloat(row.get(I16, o + 34)) * xd[b + 1]), a1);
            }
            for (; b < nb; b++) {
                long o = 34L * b;
                int ix = 32 * b;
                ShortVector p = ((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 2, LE).convertShape(VectorOperators.B2S, S256, 0))
                        .mul(ShortVector.fromArray(S256, xq, ix))
                        .add(((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 18, LE).convertShape(VectorOperators.B2S, S256, 0))
                                .mul(ShortVector.fromArray(S256, xq, ix + 16)));
                IntVector i = p.reinterpretAsInts();
                // adjacent 16-bit lanes summed into 32 bits
                a0 = ((FloatVector) i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16))
                        .convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, Float.float16ToFloat(row.get(I16, o)) * xd[b]), a0);
            }
            out.set(Mem.F32, outOff + 4L * r, a0.add(a1).reduceLanes(VectorOperators.ADD));
        }
    }

    /** The float variant: int8 weights converted to float, times F32 activations {@code x}. */
    static void q8_0f(MemorySegment w, int nb, float[] x, MemorySegment out, long outOff, int r0, int r1) {
        long rb = 34L * nb;
        for (int r = r0; r < r1; r++) {
            MemorySegment row = w.asSlice(r * rb, rb);
            FloatVector a0 = FloatVector.zero(F256), a1 = a0;
            for (int b = 0; b < nb; b++) {
                long o = 34L * b;
                int ix = 32 * b;
                ByteVector q0 = ByteVector.fromMemorySegment(B128, row, o + 2, LE);
                ByteVector q1 = ByteVector.fromMemorySegment(B128, row, o + 18, LE);
                FloatVector t = ((FloatVector) q0.convertShape(VectorOperators.B2F, F256, 0)).mul(FloatVector.fromArray(F256, x, ix));
                t = ((FloatVector) q0.convertShape(VectorOperators.B2F, F256, 1)).fma(FloatVector.fromArray(F256, x, ix + 8), t);
                FloatVector u = ((FloatVector) q1.convertShape(VectorOperators.B2F, F256, 0)).mul(FloatVector.fromArray(F256, x, ix + 16));
                u = ((FloatVector) q1.convertShape(VectorOperators.B2F, F256, 1)).fma(FloatVector.fromArray(F256, x, ix + 24), u);
                FloatVector d = FloatVector.broadcast(F256, Float.float16ToFloat(row.get(I16, o)));
                a0 = t.fma(d, a0);
                a1 = u.fma(d, a1);
            }
            out.set(Mem.F32, outOff + 4L * r, a0.add(a1).reduceLanes(VectorOperators.ADD));
        }
    }

    /**
     * Q8_0 repacked eight rows at a time ({@link Repack}): groups {@code g0..g1} of the copy in
     * {@code p} from byte {@code at} ({@code nb} blocks per row) times the activations {@code xl} ({@link ActQuant#lanes8}) with scales
     * {@code xd}: {@code out[8g..8g+8)}. The lanes are rows as in {@link DotQ4x8}: each slice
     * sign-extended to 16-bit lanes (two per row) times the activation pair; two slices' products
     * add in 16 bits (at most 2 * 127 * 127), then the row's two lanes add into 32 bits, eight
     * times a block; the block's sums times d_w (8 halves) times d_x.
     */
    static void q8_0x8(byte[] p, int at, int nb, short[] xl, float[] xd, MemorySegment out, long outOff, int g0, int g1) {
        int gb = 272 * nb;
        for (int gi = g0; gi < g1; gi++) {
            int g = at + gi * gb;
            FloatVector acc = FloatVector.zero(F256);
            for (int b = 0; b < nb; b++) {
                int o = g + 272 * b;
                int xo = ActQuant.LANE_SHORTS * b;
                IntVector s = IntVector.zero(I256);
                for (int j = 0; j < 16; j += 2) {
                    ShortVector v16 = slice(p, o + 16 + 16 * j).mul(ShortVector.fromArray(S256, xl, xo + 16 * j))
                            .add(slice(p, o + 32 + 16 * j).mul(ShortVector.fromArray(S256, xl, xo + 16 * j + 16)));
                    IntVector v = v16.reinterpretAsInts();
                    s = s.add(v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).add(v.lanewise(VectorOperators.ASHR, 16));
                }
                FloatVector d = ((IntVector) ByteVector.fromArray(B128, p, o).reinterpretAsShorts().convertShape(VectorOperators.S2I, I256, 0))
                        .lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats();
                acc = ((FloatVector) s.convert(VectorOperators.I2F, 0)).fma(d.mul(xd[b] * Mem.HALF_BIAS), acc);
            }
            acc.intoMemorySegment(out, outOff + 32L * gi, LE);
        }
    }

    /** Sixteen int8 at {@code o}, sign-extended to 16-bit lanes. */
    private static ShortVector slice(byte[] p, int o) {
        return (ShortVector) ByteVector.fromArray(B128, p, o).convertShape(VectorOperators.B2S, S256, 0);
    }
}
