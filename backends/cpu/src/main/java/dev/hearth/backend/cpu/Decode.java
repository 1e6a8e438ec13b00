package dev.hearth.backend.cpu;

import dev.hearth.runtime.dtype.Codecs;
import dev.hearth.runtime.dtype.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.hearth.backend.cpu.Mem.B128;
import static dev.hearth.backend.cpu.Mem.B256;
import static dev.hearth.backend.cpu.Mem.F256;
import static dev.hearth.backend.cpu.Mem.I16;
import static dev.hearth.backend.cpu.Mem.I256;
import static dev.hearth.backend.cpu.Mem.I32;
import static dev.hearth.backend.cpu.Mem.LE;
import static dev.hearth.backend.cpu.Mem.S128;
import static dev.hearth.backend.cpu.Mem.half;

/**
 * Row decoding (dequantization) to F32 for every weight type of the device: F32, F16, BF16,
 * Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, MXFP4 ({@link DotMxfp4#decode}). Block layouts are GGUF's (see the reference
 * codecs in dev.hearth.runtime.dtype); each block is unpacked with 256-bit vectors: nibbles and
 * high bits with byte and int lane operations, then converted to float and scaled. Halves become
 * floats by moving their bits into a float's place (exact, subnormals, infinities and NaNs
 * included). Where 256-bit
 * vectors are not native the reference codec decodes instead. Checked against the reference
 * codecs in OpsTest (get_rows and convert, equal up to one rounding of the scale product).
 */
final class Decode {
    private Decode() {
    }

    /** Decodes {@code n} elements of type {@code t} at byte {@code off} of {@code s} into {@code dst[o..o+n)}. */
    static void row(DType t, MemorySegment s, long off, float[] dst, int o, int n) {
        if (!Mem.V256 && t != DType.F32) {
            Codecs.of(t).dequantizeRow(s, off, dst, o, n);
            return;
        }
        switch (t) {
            case F32 -> MemorySegment.copy(s, Mem.F32, off, dst, o, n);
            case F16 -> f16(s, off, dst, o, n);
            case BF16 -> bf16(s, off, dst, o, n);
            case Q4_0 -> q4_0(s, off, dst, o, n);
            case Q4_1 -> q4_1(s, off, dst, o, n);
            case Q5_0 -> q5(s, off, dst, o, n, false);
            case Q5_1 -> q5(s, off, dst, o, n, true);
            case Q8_0 -> q8_0(s, off, dst, o, n);
            case Q4_K -> q4_k(s, off, dst, o, n, false);
            case Q5_K -> q4_k(s, off, dst, o, n, true);
            case Q6_K -> q6_k(s, off, dst, o, n);
            case MXFP4 -> DotMxfp4.decode(s, off, dst, o, n);
            default -> Codecs.of(t).dequantizeRow(s, off, dst, o, n);
        }
    }

    /**
     * F16: eight halves at a time widened to ints; sign, exponent and mantissa moved into a
     * float's place give the value times 2^-112 (subnormals too), so times 2^112; infinities and
     * NaNs get the float's all-ones exponent.
     */
    static void f16(MemorySegment s, long off, float[] dst, int o, int n) {
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            IntVector h = (IntVector) ShortVector.fromMemorySegment(S128, s, off + 2L * i, LE).convertShape(VectorOperators.S2I, I256, 0);
            IntVector bits = h.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000);
            FloatVector f = bits.reinterpretAsFloats().mul(Mem.HALF_BIAS);
            VectorMask<Integer> special = h.and(0x7C00).eq(0x7C00);
            if (special.anyTrue()) f = f.blend(bits.or(0x7F800000).reinterpretAsFloats(), special.cast(F256));
            f.intoArray(dst, o + i);
        }
        for (; i < n; i++) dst[o + i] = Float.float16ToFloat(s.get(I16, off + 2L * i));
    }

    static void bf16(MemorySegment s, long off, float[] dst, int o, int n) {
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            ShortVector h = ShortVector.fromMemorySegment(S128, s, off + 2L * i, LE);
            ((IntVector) h.convertShape(VectorOperators.S2I, I256, 0)).lanewise(VectorOperators.LSHL, 16)
                    .reinterpretAsFloats().intoArray(dst, o + i);
        }
        for (; i < n; i++) dst[o + i] = Mem.bf16(s.get(I16, off + 2L * i));
    }

    static void q4_0(MemorySegment s, long off, float[] dst, int o, int n) {
        for (int b = 0; b < n; b += 32, off += 18, o += 32) {
            float d = half(s, off);
            ByteVector q = ByteVector.fromMemorySegment(B128, s, off + 2, LE), q16;
            FloatVector dv = FloatVector.broadcast(F256, d), mv = FloatVector.broadcast(F256, -8 * d);
            q16 = q.and((byte) 0xf);
            ((FloatVector) q16.convertShape(VectorOperators.B2F, F256, 0)).fma(dv, mv).intoArray(dst, o);
            ((FloatVector) q16.convertShape(VectorOperators.B2F, F256, 1)).fma(dv, mv).intoArray(dst, o + 8);
            q16 = q.lanewise(VectorOperators.LSHR, 4).and((byte) 0xf);
            ((FloatVector) q16.convertShape(VectorOperators.B2F, F256, 0)).fma(dv, mv).intoArray(dst, o + 16);
            ((FloatVector) q16.convertShape(VectorOperators.B2F, F256, 1)).fma(dv, mv).intoArray(dst, o + 16 + 8);
        }
    }

    static void q4_1(MemorySegment s, long off, float[] dst, int o, int n) {
        for (int b = 0; b < n; b += 32, off += 20, o += 32) {
            float d = half(s, off), m = half(s, off + 2);
            ByteVector q = ByteVector.fromMemorySegment(B128, s, off + 4, LE), q16;
            FloatVector dv = FloatVector.broadcast(F256, d), mv = FloatVector.broadcast(F256, m);
            q16 = q.and((byte) 0xf);
            ((FloatVector) q16.convertShape(VectorOperators.B2F, F256, 0)).fma(dv, mv).intoArray(dst, o);
            ((FloatVector) q16.convertShape(VectorOperators.B2F, F256, 1)).fma(dv, mv).intoArray(dst, o + 8);
            q16 = q.lanewise(VectorOperators.LSHR, 4).and((byte) 0xf);
            ((FloatVector) q16.convertShape(VectorOperators.B2F, F256, 0)).fma(dv, mv).intoArray(dst, o + 16);
            ((FloatVector) q16.convertShape(VectorOperators.B2F, F256, 1)).fma(dv, mv).intoArray(dst, o + 16 + 8);
        }
    }

    private static final IntVector IOTA = IntVector.zero(I256).addIndex(1);

    /** Q5_0 and Q5_1: nibbles plus bit j of qh as the fifth bit of element j. */
    static void q5(MemorySegment s, long off, float[] dst, int o, int n, boolean withMin) {
        int size = withMin ? 24 : 22, qsAt = withMin ? 8 : 6;
        for (int b = 0; b < n; b += 32, off += size, o += 32) {
            float d = half(s, off);
            float m = withMin ? half(s, off + 2) : -16 * d;
            IntVector qh = IntVector.broadcast(I256, s.get(I32, off + qsAt - 4));
            ByteVector q = ByteVector.fromMemorySegment(B128, s, off + qsAt, LE);
            FloatVector dv = FloatVector.broadcast(F256, d), mv = FloatVector.broadcast(F256, m);
            for (int part = 0; part < 2; part++) {
                IntVector v = (IntVector) q.convertShape(VectorOperators.B2I, I256, part);
                IntVector lo = v.and(0xf).or(qh.lanewise(VectorOperators.LSHR, IOTA.add(8 * part)).and(1).lanewise(VectorOperators.LSHL, 4));
                IntVector hi = v.lanewise(VectorOperators.ASHR, 4).and(0xf)
                        .or(qh.lanewise(VectorOperators.LSHR, IOTA.add(16 + 8 * part)).and(1).lanewise(VectorOperators.LSHL, 4));
                ((FloatVector) lo.convert(VectorOperators.I2F, 0)).fma(dv, mv).intoArray(dst, o + 8 * part);
                ((FloatVector) hi.convert(VectorOperators.I2F, 0)).fma(dv, mv).intoArray(dst, o + 16 + 8 * part);
            }
        }
    }

    static void q8_0(MemorySegment s, long off, float[] dst, int o, int n) {
        for (int b = 0; b < n; b += 32, off += 34, o += 32) {
            FloatVector dv = FloatVector.broadcast(F256, half(s, off));
            ByteVector q = ByteVector.fromMemorySegment(B256, s, off + 2, LE);
            for (int part = 0; part < 4; part++) {
                ((FloatVector) q.convertShape(VectorOperators.B2F, F256, part)).mul(dv).intoArray(dst, o + 8 * part);
            }
        }
    }

    /** Q4_K and Q5_K: 8 sub-blocks of 32 with 6-bit scales and mins; Q5_K adds a high bit plane. */
    static void q4_k(MemorySegment s, long off, float[] dst, int o, int n, boolean five) {
        int size = five ? 176 : 144;
        long qsAt = five ? 48 : 16;
        int[] sc = new int[8], mn = new int[8];
        for (int b = 0; b < n; b += 256, off += size, o += 256) {
            float d = half(s, off), dmin = half(s, off + 2);
            scaleMins(s, off + 4, sc, mn);
            ByteVector qh = five ? ByteVector.fromMemorySegment(B256, s, off + 16, LE) : null;
            for (int c = 0; c < 4; c++) {
                ByteVector q = ByteVector.fromMemorySegment(B256, s, off + qsAt + 32 * c, LE);
                ByteVector lo = q.and((byte) 0xf), hi = q.lanewise(VectorOperators.LSHR, 4).and((byte) 0xf);
                if (five) {
                    lo = lo.or(qh.lanewise(VectorOperators.LSHR, 2 * c).and((byte) 1).lanewise(VectorOperators.LSHL, 4));
                    hi = hi.or(qh.lanewise(VectorOperators.LSHR, 2 * c + 1).and((byte) 1).lanewise(VectorOperators.LSHL, 4));
                }
                // sc * q - mn for the 32 quants of each sub-block
                FloatVector dv = FloatVector.broadcast(F256, d * sc[2 * c]), mv = FloatVector.broadcast(F256, -dmin * mn[2 * c]);
                for (int part = 0; part < 4; part++) {
                    ((FloatVector) lo.convertShape(VectorOperators.B2F, F256, part)).fma(dv, mv).intoArray(dst, o + 64 * c + 8 * part);
                }
                dv = FloatVector.broadcast(F256, d * sc[2 * c + 1]);
                mv = FloatVector.broadcast(F256, -dmin * mn[2 * c + 1]);
                for (int part = 0; part < 4; part++) {
                    ((FloatVector) hi.convertShape(VectorOperators.B2F, F256, part)).fma(dv, mv).intoArray(dst, o + 64 * c + 32 + 8 * part);
                }
            }
        }
    }

    /** The 8 six-bit scales and mins of a Q4_K/Q5_K super-block, packed in 12 bytes at {@code p}. */
    static void scaleMins(MemorySegment s, long p, int[] sc, int[] mn) {
        for (int j = 0; j < 4; j++) {
            sc[j] = Mem.u8(s, p + j) & 63;
            mn[j] = Mem.u8(s, p + j + 4) & 63;
        }
        for (int j = 4; j < 8; j++) {
            int lo = Mem.u8(s, p + j + 4);
            sc[j] = (lo & 0xf) | (Mem.u8(s, p + j - 4) >>> 6) << 4;
            mn[j] = (lo >>> 4) | (Mem.u8(s, p + j) >>> 6) << 4;
        }
    }

    /** Q6_K: low nibbles in ql, two high bits in qh, int8 scales per 16, minus 32. */
    static void q6_k(MemorySegment s, long off, float[] dst, int o, int n) {
        for (int b = 0; b < n; b += 256, off += 210, o += 256) {
            float d = half(s, off + 208);
            for (int h = 0; h < 2; h++) {
                ByteVector qh = ByteVector.fromMemorySegment(B256, s, off + 128 + 32 * h, LE);
                ByteVector ql0 = ByteVector.fromMemorySegment(B256, s, off + 64 * h, LE);
                ByteVector ql1 = ByteVector.fromMemorySegment(B256, s, off + 64 * h + 32, LE);
                for (int k = 0; k < 4; k++) {
                    ByteVector ql = k % 2 == 0 ? ql0 : ql1;
                    ByteVector low = k < 2 ? ql.and((byte) 0xf) : ql.lanewise(VectorOperators.LSHR, 4).and((byte) 0xf);
                    ByteVector q = low.or(qh.lanewise(VectorOperators.LSHR, 2 * k).and((byte) 3).lanewise(VectorOperators.LSHL, 4))
                            .sub((byte) 32);
                    int e = 128 * h + 32 * k;
                    float d0 = d * s.get(Mem.I8, off + 192 + e / 16), d1 = d * s.get(Mem.I8, off + 192 + e / 16 + 1);
                    FloatVector dv0 = FloatVector.broadcast(F256, d0), dv1 = FloatVector.broadcast(F256, d1);
                    ((FloatVector) q.convertShape(VectorOperators.B2F, F256, 0)).mul(dv0).intoArray(dst, o + e);
                    ((FloatVector) q.convertShape(VectorOperators.B2F, F256, 1)).mul(dv0).intoArray(dst, o + e + 8);
                    ((FloatVector) q.convertShape(VectorOperators.B2F, F256, 2)).mul(dv1).intoArray(dst, o + e + 16);
                    ((FloatVector) q.convertShape(VectorOperators.B2F, F256, 3)).mul(dv1).intoArray(dst, o + e + 24);
                }
            }
        }
    }
}
