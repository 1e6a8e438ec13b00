package dev.hearth.backend.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Weights rearranged for faster matrix-vector products, made once per weight tensor and kept with
 * its buffer. Q4_0 goes eight rows at a time ("Q4_0x8", the same 18 bytes per 32 weights): per
 * group of 8 rows and block, the 8 half scales (16 bytes), then 8 chunks of 16 bytes, chunk j
 * holding quant bytes 2j and 2j+1 of rows 0..7 in turn. Rows past the last whole group stay in
 * the original tensor, which prompts (the GEMM) also read: decoding is faster there. Q4_K goes
 * eight rows at a time too ("Q4_Kx8", {@link #q4_kBytes}), with its packed 6-bit scales and mins
 * decoded to bytes, and so do Q6_K ("Q6_Kx8", {@link #q6_k}) and Q8_0 ("Q8_0x8", {@link #q8_0}).
 * Checked through the kernels in MulMatTest.
 */
final class Repack {
    private Repack() {
    }

    /** Bytes of the Q4_0x8 form of {@code n} rows of {@code nb} blocks (whole groups only). */
    static long q4_0Bytes(int nb, int n) {
        return 144L * nb * (n / 8);
    }

    /** Repacks groups {@code g0..g1} of {@code src} (rows of {@code nb} Q4_0 blocks) into {@code dst}. */
    static void q4_0(MemorySegment src, int nb, MemorySegment dst, int g0, int g1) {
        rows8(src, nb, 18, dst, g0, g1);
    }

    /**
     * Groups {@code g0..g1} of 8 rows of blocks of {@code blockBytes} (a half scale, then quant
     * bytes) interleaved: per group and block, the 8 scales, then slices of 16 bytes, slice j
     * holding quant bytes 2j and 2j+1 of rows 0..7 in turn. The same bytes as the 8 rows took.
     */
    private static void rows8(MemorySegment src, int nb, int blockBytes, MemorySegment dst, int g0, int g1) {
        long rb = (long) blockBytes * nb;
        int slices = (blockBytes - 2) / 2, group = 8 * blockBytes;
        byte[] in = new byte[(int) (8 * rb)];
        byte[] out = new byte[(int) (8 * rb)];
        for (int g = g0; g < g1; g++) {
            MemorySegment.copy(src, Mem.I8, g * 8 * rb, in, 0, in.length);
            for (int b = 0; b < nb; b++) {
                int o = group * b;
                for (int r = 0; r < 8; r++) {
                    int s = (int) (r * rb) + blockBytes * b;
                    out[o + 2 * r] = in[s];
                    out[o + 2 * r + 1] = in[s + 1];
                    for (int j = 0; j < slices; j++) {
                        out[o + 16 + 16 * j + 2 * r] = in[s + 2 + 2 * j];
                        out[o + 16 + 16 * j + 2 * r + 1] = in[s + 3 + 2 * j];
                    }
                }
            }
            MemorySegment.copy(out, 0, dst, Mem.I8, g * 8 * rb, out.length);
        }
    }

    /** Bytes per group of 8 rows and super-block of the Q4_Kx8 form, and where its parts start. */
    static final int K_GROUP = 1184, K_DMIN = 16, K_SCALES = 32, K_MINS = 96, K_QS = 160;

    /** Bytes of the Q4_Kx8 form of {@code n} rows of {@code nsb} super-blocks (whole groups only). */
    static long q4_kBytes(int nsb, int n) {
        return (long) K_GROUP * nsb * (n / 8);
    }

    /**
     * Repacks groups {@code g0..g1} of {@code src} (rows of {@code nsb} Q4_K super-blocks) into
     * {@code dst}. Per group and super-block ({@link #K_GROUP} bytes): the 8 rows' d (halves),
     * their dmin, then sub-block j's 6-bit scale of row r at {@code K_SCALES + 8j + r} and its min
     * at {@code K_MINS + 8j + r}, then the quants: for each 32-byte chunk c of a row (low nibbles
     * sub-block 2c, high nibbles 2c+1), 16 slices of 16 bytes, slice m holding bytes 2m and 2m+1 of
     * rows 0..7 in turn.
     */
    static void q4_k(MemorySegment src, int nsb, MemorySegment dst, int g0, int g1) {
        long rb = 144L * nsb;
        byte[] in = new byte[(int) (8 * rb)];
        byte[] out = new byte[K_GROUP * nsb];
        int[] scm = new int[16];
        for (int g = g0; g < g1; g++) {
            MemorySegment.copy(src, Mem.I8, g * 8 * rb, in, 0, in.length);
            for (int sb = 0; sb < nsb; sb++) {
                int o = K_GROUP * sb;
                for (int r = 0; r < 8; r++) {
                    int s = (int) (r * rb) + 144 * sb;
                    out[o + 2 * r] = in[s];
                    out[o + 2 * r + 1] = in[s + 1];
                    out[o + K_DMIN + 2 * r] = in[s + 2];
                    out[o + K_DMIN + 2 * r + 1] = in[s + 3];
                    DotK.scaleMins(le32(in, s + 4), le32(in, s + 8), le32(in, s + 12), scm);
                    for (int j = 0; j < 8; j++) {
                        out[o + K_SCALES + 8 * j + r] = (byte) scm[j];
                        out[o + K_MINS + 8 * j + r] = (byte) scm[8 + j];
                    }
                    for (int c = 0; c < 4; c++) {
                        for (int m = 0; m < 16; m++) {
                            out[o + K_QS + 256 * c + 16 * m + 2 * r] = in[s + 16 + 32 * c + 2 * m];
                            out[o + K_QS + 256 * c + 16 * m + 2 * r + 1] = in[s + 17 + 32 * c + 2 * m];
                        }
                    }
                }
            }
            MemorySegment.copy(out, 0, dst, Mem.I8, (long) g * out.length, out.length);
        }
    }

    private static int le32(byte[] b, int o) {
        return (b[o] & 0xff) | (b[o + 1] & 0xff) << 8 | (b[o + 2] & 0xff) << 16 | (b[o + 3] & 0xff) << 24;
    }

    /** Bytes per group of 8 rows and super-block of the Q6_Kx8 form, and where its parts start. */
    static final int Q6_GROUP = 1680, Q6_SCALES = 16, Q6_QS = 144;

    /** Bytes of the Q6_Kx8 form of {@code n} rows of {@code nsb} super-blocks (whole groups only). */
    static long q6_kBytes(int nsb, int n) {
        return (long) Q6_GROUP * nsb * (n / 8);
    }

    /**
     * Repacks groups {@code g0..g1} of {@code src} (rows of {@code nsb} Q6_K super-blocks) into
     * {@code dst}. Per group and super-block ({@link #Q6_GROUP} bytes, as the 8 rows took): the
     * rows' d (halves); the int8 scales, sub-block {@code 8h + g + 2t} of row r at
     * {@code Q6_SCALES + 8(8h + 4g + t) + r} (the four that a pass of the kernel needs side by
     * side); then for each half h of 128 elements and m = 0..15, three slices of 16 bytes: bytes
     * 2m and 2m+1 of ql[64h..], of ql[64h+32..] and of qh[32h..], rows 0..7 in turn.
     */
    static void q6_k(MemorySegment src, int nsb, MemorySegment dst, int g0, int g1) {
        long rb = 210L * nsb;
        byte[] in = new byte[(int) (8 * rb)];
        byte[] out = new byte[Q6_GROUP * nsb];
        for (int g = g0; g < g1; g++) {
            MemorySegment.copy(src, Mem.I8, g * 8 * rb, in, 0, in.length);
            for (int sb = 0; sb < nsb; sb++) {
                int o = Q6_GROUP * sb;
                for (int r = 0; r < 8; r++) {
                    int s = (int) (r * rb) + 210 * sb;
                    out[o + 2 * r] = in[s + 208];
                    out[o + 2 * r + 1] = in[s + 209];
                    for (int h = 0; h < 2; h++) {
                        for (int gg = 0; gg < 2; gg++) {
                            for (int t = 0; t < 4; t++) out[o + Q6_SCALES + 8 * (8 * h + 4 * gg + t) + r] = in[s + 192 + 8 * h + gg + 2 * t];
                        }
                        for (int m = 0; m < 16; m++) {
                            int at = o + Q6_QS + 768 * h + 48 * m + 2 * r;
                            out[at] = in[s + 64 * h + 2 * m];
                            out[at + 1] = in[s + 64 * h + 2 * m + 1];
                            out[at + 16] = in[s + 64 * h + 32 + 2 * m];
                            out[at + 17] = in[s + 64 * h + 33 + 2 * m];
                            out[at + 32] = in[s + 128 + 32 * h + 2 * m];
                            out[at + 33] = in[s + 129 + 32 * h + 2 * m];
                        }
                    }
                }
            }
            MemorySegment.copy(out, 0, dst, Mem.I8, (long) g * out.length, out.length);
        }
    }

    /** Bytes of the Q8_0x8 form of {@code n} rows of {@code nb} blocks (whole groups only). */
    static long q8_0Bytes(int nb, int n) {
        return 272L * nb * (n / 8);
    }

    /**
     * Repacks groups {@code g0..g1} of {@code src} (rows of {@code nb} Q8_0 blocks) into
     * {@code dst}: per group and block (272 bytes, as the 8 rows took), the 8 rows' d (halves),
     * then 16 slices of 16 bytes, slice j holding quants 2j and 2j+1 of rows 0..7 in turn.
     */
    static void q8_0(MemorySegment src, int nb, MemorySegment dst, int g0, int g1) {
        rows8(src, nb, 34, dst, g0, g1);
    }
}
