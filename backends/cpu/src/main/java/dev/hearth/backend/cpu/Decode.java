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
import static dev.hearth.backend.cpu.Mem.B64;
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
 * high bits with byte and int lane operations, then converted to float and scaled. Bytes are widened
 * eight at a time straight from a load (a wider vector's later parts cost shuffles); where bit
 * operations need a whole 32-byte vector, it goes through a small array first. A row can be
 * written with its groups of 8 spread out ({@code step}), straight into the GEMM's tiles. Halves become
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
        if (!strided(t) || n % 8 != 0) {
            switch (t) {
                case F32 -> MemorySegment.copy(s, Mem.F32, off, dst, o, n);
                case F16 -> f16(s, off, dst, o, n, 8);
                case BF16 -> bf16(s, off, dst, o, n, 8);
                case MXFP4 -> DotMxfp4.decode(s, off, dst, o, n);
                default -> Codecs.of(t).dequantizeRow(s, off, dst, o, n);
            }
            return;
        }
        row(t, s, off, dst, o, n, 8);
    }

    /** Whether {@link #row(DType, MemorySegment, long, float[], int, int, int)} takes {@code t} (with 256-bit vectors). */
    static boolean strided(DType t) {
        return switch (t) {
            case F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K -> Mem.V256;
            default -> false;
        };
    }

    /**
     * Decodes {@code n} elements (a multiple of 8) of a type that {@link #strided} takes, placing
     * the 8 elements of group g at {@code dst[o + g * step]}: step 8 writes a plain row, larger
     * steps write straight into an interleaved tile ({@link Gemm}).
     */
    static void row(DType t, MemorySegment s, long off, float[] dst, int o, int n, int step) {
        switch (t) {
            case F32 -> {
                for (int i = 0; i < n; i += 8, o += step) FloatVector.fromMemorySegment(F256, s, off + 4L * i, LE).intoArray(dst, o);
            }
            case F16 -> f16(s, off, dst, o, n, step);
            case BF16 -> bf16(s, off, dst, o, n, step);
            case Q4_0 -> q4_0(s, off, dst, o, n, step);
            case Q4_1 -> q4_1(s, off, dst, o, n, step);
            case Q5_0 -> q5(s, off, dst, o, n, false, step);
            case Q5_1 -> q5(s, off, dst, o, n, true, step);
            case Q8_0 -> q8_0(s, off, dst, o, n, step);
            case Q4_K -> q4_k(s, off, dst, o, n, step);
            case Q5_K -> q5_k(s, off, dst, o, n, step);
            case Q6_K -> q6_k(s, off, dst, o, n, step);
            default -> throw new IllegalArgumentException("no strided decoding of " + t);
        }
    }

    /**
     * F16: eight halves at a time widened to ints; sign, exponent and mantissa moved into a
     * float's place give the value times 2^-112 (subnormals too), so times 2^112; infinities and
     * NaNs get the float's all-ones exponent.
     */
    static void f16(MemorySegment s, long off, float[] dst, int o, int n) {
        f16(s, off, dst, o, n, 8);
    }

    /** F16 with the 8 elements of group g at {@code dst[o + g * step]} (a tail of fewer than 8 only where step is 8). */
    private static void f16(MemorySegment s, long off, float[] dst, int o, int n, int step) {
        int i = 0;
        for (; i + 8 <= n; i += 8, o += step) {
            IntVector h = (IntVector) ShortVector.fromMemorySegment(S128, s, off + 2L * i, LE).convertShape(VectorOperators.S2I, I256, 0);
            IntVector bits = h.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000);
            FloatVector f = bits.reinterpretAsFloats().mul(Mem.HALF_BIAS);
            VectorMask<Integer> special = h.and(0x7C00).eq(0x7C00);
            if (special.anyTrue()) f = f.blend(bits.or(0x7F800000).reinterpretAsFloats(), special.cast(F256));
            f.intoArray(dst, o);
        }
        for (int j = 0; i < n; i++, j++) dst[o + j] = Float.float16ToFloat(s.get(I16, off + 2L * i));
    }

    private static void bf16(MemorySegment s, long off, float[] dst, int o, int n, int step) {
        int i = 0;
        for (; i + 8 <= n; i += 8, o += step) {
            ShortVector h = ShortVector.fromMemorySegment(S128, s, off + 2L * i, LE);
            ((IntVector) h.convertShape(VectorOperators.S2I, I256, 0)).lanewise(VectorOperators.LSHL, 16)
                    .reinterpretAsFloats().intoArray(dst, o);
        }
        for (int j = 0; i < n; i++, j++) dst[o + j] = Mem.bf16(s.get(I16, off + 2L * i));
    }

    /** Eight bytes at {@code at}, zero-extended to int lanes (one load and widen; no shuffle of a wider vector). */
    private static IntVector bytes8(MemorySegment s, long at) {
        return (IntVector) ByteVector.fromMemorySegment(B64, s, at, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I256, 0);
    }

    /** Eight bytes at {@code at}, sign-extended to int lanes. */
    private static IntVector signed8(MemorySegment s, long at) {
        return (IntVector) ByteVector.fromMemorySegment(B64, s, at, LE).convertShape(VectorOperators.B2I, I256, 0);
    }

    /** Q4_0 (m = -8 d) and Q4_1: elements 0..15 in the low nibbles, 16..31 in the high ones, d q + m. */
    private static void q4_0(MemorySegment s, long off, float[] dst, int o, int n, int step) {
        for (int b = 0; b < n; b += 32, off += 18, o += 4 * step) {
            float d = half(s, off);
            q4(s, off + 2, d, -8 * d, dst, o, step);
        }
    }

    private static void q4_1(MemorySegment s, long off, float[] dst, int o, int n, int step) {
        for (int b = 0; b < n; b += 32, off += 20, o += 4 * step) {
            q4(s, off + 4, half(s, off), half(s, off + 2), dst, o, step);
        }
    }

    /** The 32 elements of the 16 nibble bytes at {@code q}: d q + m, groups at o, o + step, ... */
    private static void q4(MemorySegment s, long q, float d, float m, float[] dst, int o, int step) {
        FloatVector dv = FloatVector.broadcast(F256, d), mv = FloatVector.broadcast(F256, m);
        IntVector v0 = bytes8(s, q), v1 = bytes8(s, q + 8);
        ((FloatVector) v0.and(0xf).convert(VectorOperators.I2F, 0)).fma(dv, mv).intoArray(dst, o);
        ((FloatVector) v1.and(0xf).convert(VectorOperators.I2F, 0)).fma(dv, mv).intoArray(dst, o + step);
        ((FloatVector) v0.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(dv, mv).intoArray(dst, o + 2 * step);
        ((FloatVector) v1.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(dv, mv).intoArray(dst, o + 3 * step);
    }

    private static final IntVector IOTA = IntVector.zero(I256).addIndex(1);

    /** Q5_0 and Q5_1: nibbles plus bit j of qh as the fifth bit of element j. */
    private static void q5(MemorySegment s, long off, float[] dst, int o, int n, boolean withMin, int step) {
        int size = withMin ? 24 : 22, qsAt = withMin ? 8 : 6;
        for (int b = 0; b < n; b += 32, off += size, o += 4 * step) {
            float d = half(s, off);
            float m = withMin ? half(s, off + 2) : -16 * d;
            IntVector qh = IntVector.broadcast(I256, s.get(I32, off + qsAt - 4));
            FloatVector dv = FloatVector.broadcast(F256, d), mv = FloatVector.broadcast(F256, m);
            for (int part = 0; part < 2; part++) {
                IntVector v = bytes8(s, off + qsAt + 8 * part);
                IntVector lo = v.and(0xf).or(qh.lanewise(VectorOperators.LSHR, IOTA.add(8 * part)).and(1).lanewise(VectorOperators.LSHL, 4));
                IntVector hi = v.lanewise(VectorOperators.LSHR, 4)
                        .or(qh.lanewise(VectorOperators.LSHR, IOTA.add(16 + 8 * part)).and(1).lanewise(VectorOperators.LSHL, 4));
                ((FloatVector) lo.convert(VectorOperators.I2F, 0)).fma(dv, mv).intoArray(dst, o + step * part);
                ((FloatVector) hi.convert(VectorOperators.I2F, 0)).fma(dv, mv).intoArray(dst, o + step * (2 + part));
            }
        }
    }

    private static void q8_0(MemorySegment s, long off, float[] dst, int o, int n, int step) {
        for (int b = 0; b < n; b += 32, off += 34, o += 4 * step) {
            FloatVector dv = FloatVector.broadcast(F256, half(s, off));
            for (int part = 0; part < 4; part++) {
                ((FloatVector) signed8(s, off + 2 + 8 * part).convert(VectorOperators.I2F, 0)).mul(dv).intoArray(dst, o + step * part);
            }
        }
    }

    /**
     * Q4_K: 8 sub-blocks of 32 with 6-bit scales and mins. Each 8 quant bytes widen with one load
     * to int lanes: low nibbles (sub-block 2c of chunk c) and high ones (2c+1) to d sc_j q - dmin m_j.
     * The four 8-byte parts of a chunk are written out: as a loop of four, its bounds arithmetic
     * took longer than its work (30 rows of 2048: 17-18 against 21-23 us).
     */
    private static void q4_k(MemorySegment s, long off, float[] dst, int o, int n, int step) {
        int size = 144;
        long qsAt = 16;
        int[] scm = new int[16];
        for (int b = 0; b < n; b += 256, off += size, o += 32 * step) {
            float d = half(s, off), dmin = half(s, off + 2);
            DotK.scaleMins(s.get(I32, off + 4), s.get(I32, off + 8), s.get(I32, off + 12), scm);
            for (int c = 0; c < 4; c++) {
                FloatVector dl = FloatVector.broadcast(F256, d * scm[2 * c]), ml = FloatVector.broadcast(F256, -dmin * scm[8 + 2 * c]);
                FloatVector dh = FloatVector.broadcast(F256, d * scm[2 * c + 1]), mh = FloatVector.broadcast(F256, -dmin * scm[9 + 2 * c]);
                long q = off + qsAt + 32 * c;
                int at = o + 8 * c * step;
                IntVector v0 = bytes8(s, q), v1 = bytes8(s, q + 8), v2 = bytes8(s, q + 16), v3 = bytes8(s, q + 24);
                IntVector l0 = v0.and(0xF), l1 = v1.and(0xF), l2 = v2.and(0xF), l3 = v3.and(0xF);
                IntVector h0 = v0.lanewise(VectorOperators.LSHR, 4), h1 = v1.lanewise(VectorOperators.LSHR, 4);
                IntVector h2 = v2.lanewise(VectorOperators.LSHR, 4), h3 = v3.lanewise(VectorOperators.LSHR, 4);
                ((FloatVector) l0.convert(VectorOperators.I2F, 0)).fma(dl, ml).intoArray(dst, at);
                ((FloatVector) l1.convert(VectorOperators.I2F, 0)).fma(dl, ml).intoArray(dst, at + step);
                ((FloatVector) l2.convert(VectorOperators.I2F, 0)).fma(dl, ml).intoArray(dst, at + 2 * step);
                ((FloatVector) l3.convert(VectorOperators.I2F, 0)).fma(dl, ml).intoArray(dst, at + 3 * step);
                ((FloatVector) h0.convert(VectorOperators.I2F, 0)).fma(dh, mh).intoArray(dst, at + 4 * step);
                ((FloatVector) h1.convert(VectorOperators.I2F, 0)).fma(dh, mh).intoArray(dst, at + 5 * step);
                ((FloatVector) h2.convert(VectorOperators.I2F, 0)).fma(dh, mh).intoArray(dst, at + 6 * step);
                ((FloatVector) h3.convert(VectorOperators.I2F, 0)).fma(dh, mh).intoArray(dst, at + 7 * step);
            }
        }
    }

    /**
     * Q5_K: Q4_K's layout with a high bit plane. Each chunk's quants are put together with 32-byte
     * operations into memory, then each 8 widen with one load (no shuffles) to d sc_j q - dmin m_j
     * (written out as {@link #q4_k} is, it took longer: 42 against 31 us for 30 rows of 2048).
     */
    private static void q5_k(MemorySegment s, long off, float[] dst, int o, int n, int step) {
        int size = 176;
        long qsAt = 48;
        int[] scm = new int[16];
        byte[] q64 = new byte[64];
        for (int b = 0; b < n; b += 256, off += size, o += 32 * step) {
            float d = half(s, off), dmin = half(s, off + 2);
            DotK.scaleMins(s.get(I32, off + 4), s.get(I32, off + 8), s.get(I32, off + 12), scm);
            ByteVector qh = ByteVector.fromMemorySegment(B256, s, off + 16, LE);
            for (int c = 0; c < 4; c++) {
                // chunk c: low nibbles are sub-block 2c, high ones 2c+1, with bits 2c and 2c+1 of qh on top
                ByteVector q = ByteVector.fromMemorySegment(B256, s, off + qsAt + 32 * c, LE);
                ByteVector lo = q.and((byte) 0xf).or(qh.lanewise(VectorOperators.LSHR, 2 * c).and((byte) 1).lanewise(VectorOperators.LSHL, 4));
                ByteVector hi = q.lanewise(VectorOperators.LSHR, 4).and((byte) 0xf)
                        .or(qh.lanewise(VectorOperators.LSHR, 2 * c + 1).and((byte) 1).lanewise(VectorOperators.LSHL, 4));
                lo.intoArray(q64, 0);
                hi.intoArray(q64, 32);
                FloatVector dl = FloatVector.broadcast(F256, d * scm[2 * c]), ml = FloatVector.broadcast(F256, -dmin * scm[8 + 2 * c]);
                FloatVector dh = FloatVector.broadcast(F256, d * scm[2 * c + 1]), mh = FloatVector.broadcast(F256, -dmin * scm[9 + 2 * c]);
                for (int part = 0; part < 8; part++) {
                    ((FloatVector) ByteVector.fromArray(B64, q64, 8 * part).convertShape(VectorOperators.B2F, F256, 0))
                            .fma(part < 4 ? dl : dh, part < 4 ? ml : mh).intoArray(dst, o + step * (8 * c + part));
                }
            }
        }
    }

    /** Q6_K: low nibbles in ql, two high bits in qh, int8 scales per 16, minus 32. */
    private static void q6_k(MemorySegment s, long off, float[] dst, int o, int n, int step) {
        byte[] q32 = new byte[32];
        for (int b = 0; b < n; b += 256, off += 210, o += 32 * step) {
            float d = half(s, off + 208);
            for (int h = 0; h < 2; h++) {
                ByteVector qh = ByteVector.fromMemorySegment(B256, s, off + 128 + 32 * h, LE);
                ByteVector ql0 = ByteVector.fromMemorySegment(B256, s, off + 64 * h, LE);
                ByteVector ql1 = ByteVector.fromMemorySegment(B256, s, off + 64 * h + 32, LE);
                for (int k = 0; k < 4; k++) {
                    // elements 128h + 32k + l: nibble (k >= 2: high) of ql[64h + 32(k%2) + l], bits 2k of qh[32h + l];
                    // the 32 bytes go through memory so that each 8 widen with one load (no shuffles)
                    ByteVector ql = k % 2 == 0 ? ql0 : ql1;
                    ByteVector low = k < 2 ? ql.and((byte) 0xf) : ql.lanewise(VectorOperators.LSHR, 4).and((byte) 0xf);
                    low.or(qh.lanewise(VectorOperators.LSHR, 2 * k).and((byte) 3).lanewise(VectorOperators.LSHL, 4))
                            .sub((byte) 32).intoArray(q32, 0);
                    int e = 128 * h + 32 * k, at = o + step * (e / 8);
                    float d0 = d * s.get(Mem.I8, off + 192 + e / 16), d1 = d * s.get(Mem.I8, off + 192 + e / 16 + 1);
                    FloatVector dv0 = FloatVector.broadcast(F256, d0), dv1 = FloatVector.broadcast(F256, d1);
                    for (int part = 0; part < 4; part++) {
                        ((FloatVector) ByteVector.fromArray(B64, q32, 8 * part).convertShape(VectorOperators.B2F, F256, 0))
                                .mul(part < 2 ? dv0 : dv1).intoArray(dst, at + step * part);
                    }
                }
            }
        }
    }
}
