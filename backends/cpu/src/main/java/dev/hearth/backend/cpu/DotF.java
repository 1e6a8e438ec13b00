package dev.hearth.backend.cpu;

import dev.hearth.runtime.dtype.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.hearth.backend.cpu.Mem.F256;
import static dev.hearth.backend.cpu.Mem.I16;
import static dev.hearth.backend.cpu.Mem.I256;
import static dev.hearth.backend.cpu.Mem.LE;
import static dev.hearth.backend.cpu.Mem.S128;

/**
 * Matrix-vector products in float: F32, F16 and BF16 weight rows times F32 activations with fma
 * (F16 and BF16 widened to float in registers, as in {@link Decode}), and for every other type a
 * row decoded to float first ({@link Decode#row}) and then the same dot. Checked against the
 * reference dot products in MulMatTest.
 */
final class DotF {
    private DotF() {
    }

    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector s0 = FloatVector.zero(F256), s1 = s0, s2 = s0, s3 = s0;
        int i = 0;
        for (; i + 32 <= n; i += 32) {
            s0 = FloatVector.fromArray(F256, a, ao + i).fma(FloatVector.fromArray(F256, b, bo + i), s0);
            s1 = FloatVector.fromArray(F256, a, ao + i + 8).fma(FloatVector.fromArray(F256, b, bo + i + 8), s1);
            s2 = FloatVector.fromArray(F256, a, ao + i + 16).fma(FloatVector.fromArray(F256, b, bo + i + 16), s2);
            s3 = FloatVector.fromArray(F256, a, ao + i + 24).fma(FloatVector.fromArray(F256, b, bo + i + 24), s3);
        }
        for (; i + 8 <= n; i += 8) s0 = FloatVector.fromArray(F256, a, ao + i).fma(FloatVector.fromArray(F256, b, bo + i), s0);
        float s = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    static void f32(MemorySegment w, int k, float[] x, MemorySegment out, long outOff, int r0, int r1) {
        long rb = 4L * k;
        for (int r = r0; r < r1; r++) {
            MemorySegment row = w.asSlice(r * rb, rb);
            FloatVector s0 = FloatVector.zero(F256), s1 = s0, s2 = s0, s3 = s0;
            int i = 0;
            for (; i + 32 <= k; i += 32) {
                s0 = FloatVector.fromMemorySegment(F256, row, 4L * i, LE).fma(FloatVector.fromArray(F256, x, i), s0);
                s1 = FloatVector.fromMemorySegment(F256, row, 4L * i + 32, LE).fma(FloatVector.fromArray(F256, x, i + 8), s1);
                s2 = FloatVector.fromMemorySegment(F256, row, 4L * i + 64, LE).fma(FloatVector.fromArray(F256, x, i + 16), s2);
                s3 = FloatVector.fromMemorySegment(F256, row, 4L * i + 96, LE).fma(FloatVector.fromArray(F256, x, i + 24), s3);
            }
            for (; i + 8 <= k; i += 8) s0 = FloatVector.fromMemorySegment(F256, row, 4L * i, LE).fma(FloatVector.fromArray(F256, x, i), s0);
            float s = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
            for (; i < k; i++) s += row.get(Mem.F32, 4L * i) * x[i];
            out.set(Mem.F32, outOff + 4L * r, s);
        }
    }

    /** F16 (bf16 false) or BF16 rows. */
    static void half(MemorySegment w, int k, boolean bf16, float[] x, MemorySegment out, long outOff, int r0, int r1) {
        long rb = 2L * k;
        for (int r = r0; r < r1; r++) {
            MemorySegment row = w.asSlice(r * rb, rb);
            FloatVector s0 = FloatVector.zero(F256), s1 = s0;
            int i = 0;
            if (bf16) {
                for (; i + 16 <= k; i += 16) {
                    FloatVector h0 = ((IntVector) ShortVector.fromMemorySegment(S128, row, 2L * i, LE).convertShape(VectorOperators.S2I, I256, 0))
                            .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                    FloatVector h1 = ((IntVector) ShortVector.fromMemorySegment(S128, row, 2L * i + 16, LE).convertShape(VectorOperators.S2I, I256, 0))
                            .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                    s0 = h0.fma(FloatVector.fromArray(F256, x, i), s0);
                    s1 = h1.fma(FloatVector.fromArray(F256, x, i + 8), s1);
                }
            } else {
                // finite weights: a half's bits moved into a float's place are its value times 2^-112
                for (; i + 16 <= k; i += 16) {
                    FloatVector h0 = ((IntVector) ShortVector.fromMemorySegment(S128, row, 2L * i, LE).convertShape(VectorOperators.S2I, I256, 0))
                            .lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats();
                    FloatVector h1 = ((IntVector) ShortVector.fromMemorySegment(S128, row, 2L * i + 16, LE).convertShape(VectorOperators.S2I, I256, 0))
                            .lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats();
                    s0 = h0.fma(FloatVector.fromArray(F256, x, i), s0);
                    s1 = h1.fma(FloatVector.fromArray(F256, x, i + 8), s1);
                }
                s0 = s0.mul(Mem.HALF_BIAS);
                s1 = s1.mul(Mem.HALF_BIAS);
            }
            float s = s0.add(s1).reduceLanes(VectorOperators.ADD);
            for (; i < k; i++) {
                short h = row.get(I16, 2L * i);
                s += (bf16 ? Mem.bf16(h) : Float.float16ToFloat(h)) * x[i];
            }
            out.set(Mem.F32, outOff + 4L * r, s);
        }
    }

    /** Any type: each row decoded into {@code buf} (k floats), then dotted with {@code x}. */
    static void decoded(DType t, MemorySegment w, int k, float[] x, float[] buf, MemorySegment out, long outOff, int r0, int r1) {
        long rb = t.bytesFor(k);
        for (int r = r0; r < r1; r++) {
            Decode.row(t, w, r * rb, buf, 0, k);
            out.set(Mem.F32, outOff + 4L * r, dot(buf, 0, x, 0, k));
        }
    }
}
