package dev.hearth.backend.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
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
     * Q4_K repacked eight rows at a time ({@link Repack#q4_k}): groups {@code g0..g1} of the copy
     * in {@code p} from byte {@code at} ({@code nsb} super-blocks per row) times the activations {@code xl} / {@code xs}
     * ({@link ActQuant#lanesK}): {@code out[8g..8g+8)}. As {@link DotQ4x8}, the lanes are rows:
     * each 16-byte slice zero-extended to 16-bit lanes (two per row), its low and high nibbles
     * times the activations of sub-blocks 2c and 2c+1 added up in 16 bits over the 16 slices of a
     * chunk (at most 16 * 15 * 127 in size), the two lanes of a row added into 32 bits, times the
     * row's scale of that sub-block (a vector of the 8 rows' scales); the mins term is the rows'
     * mins times the sub-blocks' sums of q_x. Then d and dmin (8 halves each) times d_x.
     */
    static void q4_kx8(byte[] p, int at, int nsb, short[] xl, int[] xs, MemorySegment out, long outOff, int g0, int g1) {
        // one method calling only the Vector API, as q6_kx8 (a helper of ours is not always inlined)
        int gb = Repack.K_GROUP * nsb;
        for (int gi = g0; gi < g1; gi++) {
            int g = at + gi * gb;
            FloatVector acc = FloatVector.zero(F256), mins = acc;
            for (int sb = 0; sb < nsb; sb++) {
                int o = g + Repack.K_GROUP * sb;
                int xo = ActQuant.LANE_SHORTS_K * sb, is = ActQuant.K_LANE_INTS * sb;
                IntVector t = IntVector.zero(I256);
                for (int c = 0; c < 4; c++) {
                    int q = o + Repack.K_QS + 256 * c;
                    int x = xo + 512 * c;
                    ShortVector lo = ShortVector.zero(S256), hi = lo;
                    for (int m = 0; m < 16; m++) {
                        ShortVector z = (ShortVector) ByteVector.fromArray(B128, p, q + 16 * m)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
                        lo = lo.add(z.and((short) 0xF).mul(ShortVector.fromArray(S256, xl, x + 16 * m)));
                        hi = hi.add(z.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S256, xl, x + 256 + 16 * m)));
                    }
                    // the two 16-bit lanes of each row added in 32 bits
                    IntVector li = lo.reinterpretAsInts(), hj = hi.reinterpretAsInts();
                    li = li.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(li.lanewise(VectorOperators.ASHR, 16));
                    hj = hj.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(hj.lanewise(VectorOperators.ASHR, 16));
                    ByteVector sc = ByteVector.fromArray(B128, p, o + Repack.K_SCALES + 16 * c);
                    t = t.add(li.mul((IntVector) sc.convertShape(VectorOperators.ZERO_EXTEND_B2I, I256, 0)))
                            .add(hj.mul((IntVector) sc.convertShape(VectorOperators.ZERO_EXTEND_B2I, I256, 1)));
                }
                IntVector mt = IntVector.zero(I256);
                for (int j = 0; j < 8; j += 2) {
                    ByteVector mn = ByteVector.fromArray(B128, p, o + Repack.K_MINS + 8 * j);
                    mt = mt.add(((IntVector) mn.convertShape(VectorOperators.ZERO_EXTEND_B2I, I256, 0)).mul(xs[is + j]))
                            .add(((IntVector) mn.convertShape(VectorOperators.ZERO_EXTEND_B2I, I256, 1)).mul(xs[is + j + 1]));
                }
                float dx = Float.intBitsToFloat(xs[is + 8]) * Mem.HALF_BIAS;
                // d and dmin: 8 halves each, as floats scaled down by 2^112 (HALF_BIAS in dx restores them)
                ShortVector dm = ByteVector.fromArray(B256, p, o).reinterpretAsShorts();
                IntVector dh = (IntVector) dm.convertShape(VectorOperators.S2I, I256, 0);
                IntVector mh = (IntVector) dm.convertShape(VectorOperators.S2I, I256, 1);
                FloatVector d = dh.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats();
                FloatVector dmin = mh.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats();
                acc = ((FloatVector) t.convert(VectorOperators.I2F, 0)).fma(d.mul(dx), acc);
                mins = ((FloatVector) mt.convert(VectorOperators.I2F, 0)).fma(dmin.mul(dx), mins);
            }
            acc.sub(mins).intoMemorySegment(out, outOff + 32L * gi, LE);
        }
    }

    /**
     * Q6_K repacked eight rows at a time as int8 ({@link Repack#q6_k}): groups {@code g0..g1} of
     * the copy in {@code w} from byte {@code at} ({@code nsb} super-blocks per row) times the activations {@code xl} / {@code xd}
     * ({@link ActQuant#lanes8K}): {@code out[8g..8g+8)}. As {@link DotQ8#q8_0x8}, the lanes are
     * rows: each slice sign-extended to 16-bit lanes times the activation pair, the 8 slices of a
     * 16-element sub-block added in 16 bits (at most 8 * 32 * 127), the row's two lanes added into
     * 32 bits and times the rows' int8 scales of that sub-block; then d (8 halves) times d_x.
     */
    static void q6_kx8(byte[] w, int at, int nsb, short[] xl, float[] xd, MemorySegment out, long outOff, int g0, int g1) {
        // one method calling only the Vector API: a helper of its own is not always inlined here
        // (too large, or too much stack, by the JIT's measure), and then its vectors are boxed
        int gb = Repack.Q6_GROUP * nsb;
        for (int gi = g0; gi < g1; gi++) {
            int g = at + gi * gb;
            FloatVector acc = FloatVector.zero(F256);
            for (int sb = 0; sb < nsb; sb++) {
                int o = g + Repack.Q6_GROUP * sb;
                IntVector t = IntVector.zero(I256);
                for (int p = 0; p < 16; p += 2) {
                    int q = o + Repack.Q6_QS + 128 * p;
                    int x = ActQuant.LANE_SHORTS_K * sb + 128 * p;
                    ShortVector a = ShortVector.zero(S256), b = a;
                    for (int j = 0; j < 8; j++) {
                        a = a.add(((ShortVector) ByteVector.fromArray(B128, w, q + 16 * j).convertShape(VectorOperators.B2S, S256, 0))
                                .mul(ShortVector.fromArray(S256, xl, x + 16 * j)));
                        b = b.add(((ShortVector) ByteVector.fromArray(B128, w, q + 128 + 16 * j).convertShape(VectorOperators.B2S, S256, 0))
                                .mul(ShortVector.fromArray(S256, xl, x + 128 + 16 * j)));
                    }
                    IntVector ai = a.reinterpretAsInts(), bi = b.reinterpretAsInts();
                    ai = ai.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(ai.lanewise(VectorOperators.ASHR, 16));
                    bi = bi.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(bi.lanewise(VectorOperators.ASHR, 16));
                    ByteVector sc = ByteVector.fromArray(B128, w, o + Repack.Q6_SCALES + 8 * p);
                    t = t.add(ai.mul((IntVector) sc.convertShape(VectorOperators.B2I, I256, 0)))
                            .add(bi.mul((IntVector) sc.convertShape(VectorOperators.B2I, I256, 1)));
                }
                FloatVector d = ((IntVector) ByteVector.fromArray(B128, w, o).reinterpretAsShorts().convertShape(VectorOperators.S2I, I256, 0))
                        .lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats();
                acc = ((FloatVector) t.convert(VectorOperators.I2F, 0)).fma(d.mul(xd[sb] * Mem.HALF_BIAS), acc);
            }
            acc.intoMemorySegment(out, outOff + 32L * gi, LE);
        }
    }
}
