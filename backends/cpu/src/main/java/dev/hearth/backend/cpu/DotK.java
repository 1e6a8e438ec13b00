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
import static dev.hearth.backend.cpu.Mem.S128;
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

    /**
     * The 6-bit scales (0..7) and mins (8..15) of a Q4_K/Q5_K super-block from its 12 scale bytes
     * read as ints u0, u1, u2: for j < 4 the low 6 bits of byte j of u0 (scale) and u1 (min); for
     * j >= 4 the nibbles of byte j-4 of u2 plus the top 2 bits of byte j-4 of u0 and u1.
     */
    static void scaleMins(int u0, int u1, int u2, int[] scm) {
        for (int j = 0; j < 4; j++) {
            scm[j] = (u0 >>> 8 * j) & 63;
            scm[8 + j] = (u1 >>> 8 * j) & 63;
            scm[4 + j] = ((u2 >>> 8 * j) & 0xf) | ((u0 >>> 8 * j + 6) & 3) << 4;
            scm[12 + j] = ((u2 >>> 8 * j + 4) & 0xf) | ((u1 >>> 8 * j + 6) & 3) << 4;
        }
    }

    // The kernels below loop over the chunks of a super-block rather than write them all out: a
    // method too large makes the JIT stop inlining (NodeCountInliningCutoff) and the Vector API
    // calls it leaves out box their vectors, several times slower.

    /**
     * Q4_K ({@code five} false) or Q5_K rows {@code r0..r1} of {@code nsb} super-blocks times {@code xa}:
     * {@code out[r]}; {@code scm} holds the 16 decoded scales and mins (the calling thread's).
     */
    static void q4_k(MemorySegment w, int nsb, boolean five, int[] xa, int[] scm, MemorySegment out, long outOff, int r0, int r1) {
        int size = five ? 176 : 144;
        long qsAt = five ? 48 : 16;
        long rb = (long) size * nsb;
        for (int r = r0; r < r1; r++) {
            MemorySegment row = w.asSlice(r * rb, rb);
            FloatVector acc = FloatVector.zero(F256);
            float mins = 0;
            for (int sb = 0; sb < nsb; sb++) {
                long o = (long) size * sb;
                int ia = ActQuant.K_INTS * sb;
                scaleMins(row.get(I32, o + 4), row.get(I32, o + 8), row.get(I32, o + 12), scm);
                IntVector b0 = five ? (((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 16, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0))).reinterpretAsInts() : IntVector.zero(I256);
                IntVector b1 = five ? (((ShortVector) ByteVector.fromMemorySegment(B128, row, o + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0))).reinterpretAsInts() : IntVector.zero(I256);
                IntVector t = IntVector.zero(I256);
                for (int c = 0; c < 4; c++) {
                    // chunk c: 32 bytes, low nibbles sub-block 2c, high nibbles 2c+1; bytes 2i, 2i+1 per lane
                    long q = o + qsAt + 32 * c;
                    int x = ia + 32 * c;
                    ShortVector z0 = (ShortVector) ByteVector.fromMemorySegment(B128, row, q, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
                    ShortVector z1 = (ShortVector) ByteVector.fromMemorySegment(B128, row, q + 16, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
                    IntVector l0 = z0.reinterpretAsInts().and(MASK), l1 = z1.reinterpretAsInts().and(MASK);
                    IntVector h0 = z0.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts();
                    IntVector h1 = z1.lanewise(VectorOperators.LSHR, 4).reinterpretAsInts();
                    if (five) {
                        l0 = l0.or(b0.lanewise(VectorOperators.LSHR, 2 * c).and(0x00010001).lanewise(VectorOperators.LSHL, 4));
                        l1 = l1.or(b1.lanewise(VectorOperators.LSHR, 2 * c).and(0x00010001).lanewise(VectorOperators.LSHL, 4));
                        h0 = h0.or(b0.lanewise(VectorOperators.LSHR, 2 * c + 1).and(0x00010001).lanewise(VectorOperators.LSHL, 4));
                        h1 = h1.or(b1.lanewise(VectorOperators.LSHR, 2 * c + 1).and(0x00010001).lanewise(VectorOperators.LSHL, 4));
                    }
                    t = t.add(l0.mul(IntVector.fromArray(I256, xa, x)).add(l1.mul(IntVector.fromArray(I256, xa, x + 8)))
                            .add(0x8000).lanewise(VectorOperators.ASHR, 16).mul(scm[2 * c]));
                    t = t.add(h0.mul(IntVector.fromArray(I256, xa, x + 16)).add(h1.mul(IntVector.fromArray(I256, xa, x + 24)))
                            .add(0x8000).lanewise(VectorOperators.ASHR, 16).mul(scm[2 * c + 1]));
                }
                int msum = 0;
                for (int j = 0; j < 8; j++) msum += scm[8 + j] * (xa[ia + ActQuant.K_SUMS + 2 * j] + xa[ia + ActQuant.K_SUMS + 2 * j + 1]);
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
                for (int j = 0; j < 8; j++) {
                    // sub-block j = 4h + k: low nibbles (k < 2) or high (k >= 2) of ql[64h + 32(k%2) + l],
                    // bits 2k of qh[32h + l], for l = 0..15 and 16..31 (one int8 scale each)
                    int h = j >> 2, k = j & 3;
                    long ql = o + 64 * h + 32 * (k & 1), qh = o + 128 + 32 * h;
                    ShortVector a0 = (ShortVector) ByteVector.fromMemorySegment(B128, row, ql, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
                    ShortVector a1 = (ShortVector) ByteVector.fromMemorySegment(B128, row, ql + 16, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
                    IntVector lo0 = a0.lanewise(VectorOperators.LSHR, 4 * (k >> 1)).reinterpretAsInts().and(MASK);
                    IntVector lo1 = a1.lanewise(VectorOperators.LSHR, 4 * (k >> 1)).reinterpretAsInts().and(MASK);
                    IntVector q0 = ((ShortVector) ByteVector.fromMemorySegment(B128, row, qh, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0)).reinterpretAsInts();
                    IntVector q1 = ((ShortVector) ByteVector.fromMemorySegment(B128, row, qh + 16, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0)).reinterpretAsInts();
                    int s0 = row.get(Mem.I8, o + 192 + 2 * j), s1 = row.get(Mem.I8, o + 193 + 2 * j);
                    t = t.add(lo0.or(q0.lanewise(VectorOperators.LSHR, 2 * k).and(0x00030003).lanewise(VectorOperators.LSHL, 4))
                            .mul(IntVector.fromArray(I256, xa, ia + 16 * j)).add(0x8000).lanewise(VectorOperators.ASHR, 16).mul(s0));
                    t = t.add(lo1.or(q1.lanewise(VectorOperators.LSHR, 2 * k).and(0x00030003).lanewise(VectorOperators.LSHL, 4))
                            .mul(IntVector.fromArray(I256, xa, ia + 16 * j + 8)).add(0x8000).lanewise(VectorOperators.ASHR, 16).mul(s1));
                    corr += s0 * xa[ia + ActQuant.K_SUMS + 2 * j] + s1 * xa[ia + ActQuant.K_SUMS + 2 * j + 1];
                }
                float dd = Float.float16ToFloat(row.get(I16, o + 208)) * Float.intBitsToFloat(xa[ia + ActQuant.K_D]);
                acc = ((FloatVector) t.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, dd), acc);
                zero += dd * 32 * corr;
            }
            out.set(Mem.F32, outOff + 4L * r, acc.reduceLanes(VectorOperators.ADD) - zero);
        }
    }

    /**
     * Q4_K repacked eight rows at a time ({@link Repack#q4_k}): groups {@code g0..g1} of
     * {@code nsb} super-blocks times the activations {@code xl} / {@code xs}
     * ({@link ActQuant#lanesK}): {@code out[8g..8g+8)}. As {@link DotQ4x8}, the lanes are rows:
     * each 16-byte slice zero-extended to 16-bit lanes (two per row), its low and high nibbles
     * times the activations of sub-blocks 2c and 2c+1 added up in 16 bits over the 16 slices of a
     * chunk (at most 16 * 15 * 127 in size), the two lanes of a row added into 32 bits, times the
     * row's scale of that sub-block (a vector of the 8 rows' scales); the mins term is the rows'
     * mins times the sub-blocks' sums of q_x. Then d and dmin (8 halves each) times d_x.
     */
    static void q4_kx8(MemorySegment packed, int nsb, short[] xl, int[] xs, MemorySegment out, long outOff, int g0, int g1) {
        long gb = (long) Repack.K_GROUP * nsb;
        for (int gi = g0; gi < g1; gi++) {
            MemorySegment g = packed.asSlice(gi * gb, gb);
            FloatVector acc = FloatVector.zero(F256), mins = acc;
            for (int sb = 0; sb < nsb; sb++) {
                long o = (long) Repack.K_GROUP * sb;
                int xo = ActQuant.LANE_SHORTS_K * sb, is = ActQuant.K_LANE_INTS * sb;
                IntVector t = IntVector.zero(I256);
                for (int c = 0; c < 4; c++) {
                    long q = o + Repack.K_QS + 256 * c;
                    int x = xo + 512 * c;
                    ShortVector z = chunk(g, q);
                    ShortVector lo = z.and((short) 0xF).mul(ShortVector.fromArray(S256, xl, x));
                    ShortVector hi = z.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S256, xl, x + 256));
                    for (int m = 1; m < 16; m++) {
                        z = chunk(g, q + 16 * m);
                        lo = lo.add(z.and((short) 0xF).mul(ShortVector.fromArray(S256, xl, x + 16 * m)));
                        hi = hi.add(z.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S256, xl, x + 256 + 16 * m)));
                    }
                    ByteVector sc = ByteVector.fromMemorySegment(B128, g, o + Repack.K_SCALES + 16 * c, LE);
                    t = t.add(rows(lo).mul((IntVector) sc.convertShape(VectorOperators.ZERO_EXTEND_B2I, I256, 0)))
                            .add(rows(hi).mul((IntVector) sc.convertShape(VectorOperators.ZERO_EXTEND_B2I, I256, 1)));
                }
                IntVector mt = IntVector.zero(I256);
                for (int j = 0; j < 8; j += 2) {
                    ByteVector mn = ByteVector.fromMemorySegment(B128, g, o + Repack.K_MINS + 8 * j, LE);
                    mt = mt.add(((IntVector) mn.convertShape(VectorOperators.ZERO_EXTEND_B2I, I256, 0)).mul(xs[is + j]))
                            .add(((IntVector) mn.convertShape(VectorOperators.ZERO_EXTEND_B2I, I256, 1)).mul(xs[is + j + 1]));
                }
                float dx = Float.intBitsToFloat(xs[is + 8]) * Mem.HALF_BIAS;
                // d and dmin: 8 halves each, as floats scaled down by 2^112 (HALF_BIAS in dx restores them)
                IntVector dh = (IntVector) ShortVector.fromMemorySegment(S256, g, o, LE).convertShape(VectorOperators.S2I, I256, 0);
                IntVector mh = (IntVector) ShortVector.fromMemorySegment(S256, g, o, LE).convertShape(VectorOperators.S2I, I256, 1);
                FloatVector d = dh.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats();
                FloatVector dmin = mh.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats();
                acc = ((FloatVector) t.convert(VectorOperators.I2F, 0)).fma(d.mul(dx), acc);
                mins = ((FloatVector) mt.convert(VectorOperators.I2F, 0)).fma(dmin.mul(dx), mins);
            }
            acc.sub(mins).intoMemorySegment(out, outOff + 32L * gi, LE);
        }
    }

    /**
     * Q6_K repacked eight rows at a time ({@link Repack#q6_k}): groups {@code g0..g1} times the
     * activations {@code xl} / {@code xs} ({@link ActQuant#lanesK}; the sums go unused), with
     * {@code sums} 256 shorts of the calling thread's:
     * {@code out[8g..8g+8)}, with {@code xb} the Q6_K zero point's term per 16-element sub-block
     * ({@link ActQuant#lanesK}). Each weight is rebuilt in 16-bit lanes from its nibble and two
     * high bits (0..63) and times its activation; the products of a sub-block add up in 16 bits
     * (8 per lane), less 32 times the activations' sum, which is at most 8 * 32 * 127 in size, so
     * exact although the sum wraps on the way; the two lanes of a row add into 32 bits, times the
     * rows' int8 scales of that sub-block; then d (8 halves) times d_x.
     */
    static void q6_kx8(MemorySegment packed, int nsb, short[] xl, int[] xs, short[] xb, short[] sums, MemorySegment out, long outOff, int g0, int g1) {
        long gb = (long) Repack.Q6_GROUP * nsb;
        for (int gi = g0; gi < g1; gi++) {
            MemorySegment g = packed.asSlice(gi * gb, gb);
            FloatVector acc = FloatVector.zero(F256);
            for (int sb = 0; sb < nsb; sb++) {
                long o = (long) Repack.Q6_GROUP * sb;
                int xo = ActQuant.LANE_SHORTS_K * sb;
                q6Low(g, o, xl, xo, xb, 256 * sb, sums);
                q6High(g, o, xl, xo, xb, 256 * sb, sums);
                // sums[16p..16p+16): sub-block p's two 16-bit lanes per row, p in the order of the scales (Repack.q6_k)
                IntVector t = IntVector.zero(I256);
                for (int p = 0; p < 16; p += 2) {
                    ByteVector sc = ByteVector.fromMemorySegment(B128, g, o + Repack.Q6_SCALES + 8 * p, LE);
                    t = t.add(rows(ShortVector.fromArray(S256, sums, 16 * p)).mul((IntVector) sc.convertShape(VectorOperators.B2I, I256, 0)))
                            .add(rows(ShortVector.fromArray(S256, sums, 16 * p + 16)).mul((IntVector) sc.convertShape(VectorOperators.B2I, I256, 1)));
                }
                float dx = Float.intBitsToFloat(xs[ActQuant.K_LANE_INTS * sb + 8]) * Mem.HALF_BIAS;
                FloatVector d = ((IntVector) ShortVector.fromMemorySegment(S128, g, o, LE).convertShape(VectorOperators.S2I, I256, 0))
                        .lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats();
                acc = ((FloatVector) t.convert(VectorOperators.I2F, 0)).fma(d.mul(dx), acc);
            }
            acc.intoMemorySegment(out, outOff + 32L * gi, LE);
        }
    }

    private static final ShortVector NIBBLE = ShortVector.broadcast(S256, (short) 0xF), HIGH = ShortVector.broadcast(S256, (short) 0x30);

    // q6_kx8's work split in two methods, each too large to be inlined into it and small enough for
    // the JIT to inline every Vector API call it makes (one method with all four sums did not, and
    // boxed its vectors). The
    // weights' -32 is taken off once per pass ({@code bias}, 32 times the activations' lane
    // sums): the 16-bit sums wrap on the way but end exact.

    /**
     * For each pass hg (half h = hg / 2 of the super-block at {@code o}, slices 8g..8g+7 with
     * g = hg % 2): sub-blocks 8h+g and 8h+g+4 (the first ql slices' low and high nibbles with qh
     * bits 0-1 and 4-5), their sums in 16-bit lanes into {@code sums[64hg..)} and
     * {@code sums[64hg+32..)}, the order of their scales.
     */
    private static void q6Low(MemorySegment g, long o, short[] xl, int xo, short[] xb, int bo, short[] sums) {
        for (int hg = 0; hg < 4; hg++) {
            int h = hg >> 1, gg = hg & 1, x = xo + 16 * (64 * h + 8 * gg), b = bo + 16 * (8 * h + gg);
            long q = o + Repack.Q6_QS + 768 * h + 384 * gg;
            ShortVector a1 = ShortVector.zero(S256), a3 = a1;
            for (int mm = 0; mm < 8; mm++) {
                ShortVector za = chunk(g, q + 48 * mm), zh = chunk(g, q + 48 * mm + 32);
                a1 = a1.add(za.and(NIBBLE).or(zh.lanewise(VectorOperators.LSHL, 4).and(HIGH)).mul(ShortVector.fromArray(S256, xl, x + 16 * mm)));
                a3 = a3.add(za.lanewise(VectorOperators.LSHR, 4).or(zh.and(HIGH)).mul(ShortVector.fromArray(S256, xl, x + 16 * mm + 512)));
            }
            a1.sub(ShortVector.fromArray(S256, xb, b)).intoArray(sums, 64 * hg);
            a3.sub(ShortVector.fromArray(S256, xb, b + 64)).intoArray(sums, 64 * hg + 32);
        }
    }

    /** As {@link #q6Low} for sub-blocks 8h+g+2 and 8h+g+6 (the second ql slices, qh bits 2-3 and 6-7), at 64hg+16 and 64hg+48. */
    private static void q6High(MemorySegment g, long o, short[] xl, int xo, short[] xb, int bo, short[] sums) {
        for (int hg = 0; hg < 4; hg++) {
            int h = hg >> 1, gg = hg & 1, x = xo + 16 * (64 * h + 8 * gg), b = bo + 16 * (8 * h + gg);
            long q = o + Repack.Q6_QS + 768 * h + 384 * gg;
            ShortVector a2 = ShortVector.zero(S256), a4 = a2;
            for (int mm = 0; mm < 8; mm++) {
                ShortVector zb = chunk(g, q + 48 * mm + 16), zh = chunk(g, q + 48 * mm + 32);
                a2 = a2.add(zb.and(NIBBLE).or(zh.lanewise(VectorOperators.LSHL, 2).and(HIGH)).mul(ShortVector.fromArray(S256, xl, x + 16 * mm + 256)));
                a4 = a4.add(zb.lanewise(VectorOperators.LSHR, 4).or(zh.lanewise(VectorOperators.LSHR, 2).and(HIGH)).mul(ShortVector.fromArray(S256, xl, x + 16 * mm + 768)));
            }
            a2.sub(ShortVector.fromArray(S256, xb, b + 32)).intoArray(sums, 64 * hg + 16);
            a4.sub(ShortVector.fromArray(S256, xb, b + 96)).intoArray(sums, 64 * hg + 48);
        }
    }

    /** Sixteen bytes at {@code o}, zero-extended to 16-bit lanes. */
    private static ShortVector chunk(MemorySegment g, long o) {
        return (ShortVector) ByteVector.fromMemorySegment(B128, g, o, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
    }

    /** The two 16-bit lanes of each of the 8 rows added in 32 bits. */
    private static IntVector rows(ShortVector v) {
        IntVector i = v.reinterpretAsInts();
        return i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16));
    }
}
