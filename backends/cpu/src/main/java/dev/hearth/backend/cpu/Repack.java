package dev.hearth.backend.cpu;

import dev.hearth.runtime.dtype.DType;

import java.lang.foreign.MemorySegment;

/**
 * Weights rearranged eight rows at a time for the matrix-vector kernels whose lanes are rows,
 * made once per weight tensor ({@link CpuDevice#acquirePack}) into a {@link Copy}: a Java byte
 * array for Q8_0, Q4_K and Q6_K, whose kernels index it with ints, which C2 checks and unrolls
 * more cheaply than a memory segment's long offsets (one thread, in cache, ns per block row:
 * Q4_K 14.0 against 15.9-16.9, Q6_K 17.4-17.8 against 22.9-23.2, Q8_0 2.17-2.24 against
 * 2.31-2.36); native memory for Q4_0, whose kernel ran slower on an array (1.75-1.93 against
 * 1.42-1.48). Each form holds a group of 8 rows
 * block by block ({@link #groupBytes} per group and block): Q4_0 and Q8_0 ("Q4_0x8", "Q8_0x8",
 * the same bytes as the rows took) the 8 half scales, then slices of 16 bytes, slice j holding
 * quant bytes 2j and 2j+1 of rows 0..7 in turn; Q4_K ({@link #q4_k}) with its packed 6-bit
 * scales and mins decoded to bytes; Q6_K ({@link #q6_k}) decoded to int8 (q - 32) in the Q8_0x8
 * slices, with its int8 scales beside them (a third more bytes, read at Q8_0's speed). Rows past the last whole group stay in the original tensor, which prompts (the
 * GEMM) also read: decoding is faster there. Checked through the kernels in MulMatTest.
 */
final class Repack {
    private Repack() {
    }

    /**
     * A repacked copy: {@code array} (the kernels index it from a byte offset), or for Q4_0
     * {@code segment}, allocated in an arena its owner closes, and {@code view}, the same bytes
     * with no liveness checks ({@link Mem#view}) for the kernel: whoever plans with it checks
     * {@code segment}'s scope before each run.
     */
    record Copy(byte[] array, MemorySegment segment, MemorySegment view) {
        /** Whether the copy of a {@code type} weight goes in native memory (else a Java array). */
        static boolean isNative(DType type) {
            return type == DType.Q4_0;
        }

        /** An empty copy of {@code bytes} for {@code type}; native ones in {@code arena}. */
        static Copy allocate(DType type, long bytes, java.lang.foreign.Arena arena) {
            if (!isNative(type)) return new Copy(new byte[Math.toIntExact(bytes)], null, null);
            MemorySegment s = arena.allocate(bytes, 64);
            return new Copy(null, s, Mem.view(s));
        }
    }

    /** The largest x8 form made: a Java array's length (larger tensors keep the row kernels). */
    static final long MAX_BYTES = Integer.MAX_VALUE - 64;

    /** Where the parts of a Q4_Kx8 group-block start. */
    static final int K_GROUP = 1184, K_DMIN = 16, K_SCALES = 32, K_MINS = 96, K_QS = 160;
    /** Where the parts of a Q6_Kx8 group-block start. */
    static final int Q6_GROUP = 2192, Q6_SCALES = 16, Q6_QS = 144;

    /** Bytes per group of 8 rows and block of the x8 form of {@code type}; 0 where it has none. */
    static int groupBytes(DType type) {
        return switch (type) {
            case Q4_0 -> 144;
            case Q8_0 -> 272;
            case Q4_K -> K_GROUP;
            case Q6_K -> Q6_GROUP;
            default -> 0;
        };
    }

    /** Whether {@code type} has an x8 form. */
    static boolean repacks(DType type) {
        return groupBytes(type) > 0;
    }

    /** Bytes of the x8 form of {@code n} rows of {@code nb} blocks of {@code type} (whole groups only; an array holds at most {@link #MAX_BYTES}). */
    static long bytes(DType type, int nb, int n) {
        return (long) groupBytes(type) * nb * (n / 8);
    }

    /** Repacks groups {@code g0..g1} of {@code src} (rows of {@code nb} blocks of {@code type}) into {@code dst}. */
    static void repack(DType type, MemorySegment src, int nb, Copy dst, int g0, int g1) {
        int rowBytes = Math.toIntExact(type.typeSize * (long) nb);
        byte[] in = new byte[8 * rowBytes];
        byte[] out = new byte[groupBytes(type) * nb];
        int[] scm = new int[16];
        for (int g = g0; g < g1; g++) {
            MemorySegment.copy(src, Mem.I8, (long) g * in.length, in, 0, in.length);
            for (int b = 0; b < nb; b++) {
                for (int r = 0; r < 8; r++) {
                    int s = r * rowBytes + type.typeSize * b, o = groupBytes(type) * b;
                    switch (type) {
                        case Q4_K -> q4_k(in, s, out, o, r, scm);
                        case Q6_K -> q6_k(in, s, out, o, r);
                        default -> rows8(in, s, type.typeSize, out, o, r);
                    }
                }
            }
            if (dst.array() != null) System.arraycopy(out, 0, dst.array(), g * out.length, out.length);
            else MemorySegment.copy(out, 0, dst.segment(), Mem.I8, (long) g * out.length, out.length);
        }
    }

    /** Row r's block at {@code in[s]} (a half scale, then quant bytes) into a Q4_0x8/Q8_0x8 group-block at {@code out[o]}. */
    private static void rows8(byte[] in, int s, int blockBytes, byte[] out, int o, int r) {
        out[o + 2 * r] = in[s];
        out[o + 2 * r + 1] = in[s + 1];
        for (int j = 0; j < (blockBytes - 2) / 2; j++) {
            out[o + 16 + 16 * j + 2 * r] = in[s + 2 + 2 * j];
            out[o + 16 + 16 * j + 2 * r + 1] = in[s + 3 + 2 * j];
        }
    }

    /**
     * Row r's Q4_K super-block at {@code in[s]} into a Q4_Kx8 group-block at {@code out[o]}: the 8
     * rows' d (halves), their dmin, then sub-block j's 6-bit scale of row r at
     * {@code K_SCALES + 8j + r} and its min at {@code K_MINS + 8j + r}, then the quants: for each
     * 32-byte chunk c of a row (low nibbles sub-block 2c, high nibbles 2c+1), 16 slices of 16
     * bytes, slice m holding bytes 2m and 2m+1 of rows 0..7 in turn.
     */
    private static void q4_k(byte[] in, int s, byte[] out, int o, int r, int[] scm) {
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

    private static int le32(byte[] b, int o) {
        return (b[o] & 0xff) | (b[o + 1] & 0xff) << 8 | (b[o + 2] & 0xff) << 16 | (b[o + 3] & 0xff) << 24;
    }

    /**
     * Row r's Q6_K super-block at {@code in[s]} into a Q6_Kx8 group-block at {@code out[o]}: the
     * rows' d (halves); the int8 scales, sub-block p (16 elements) of row r at
     * {@code Q6_SCALES + 8p + r}; then the 256 weights as int8 q - 32 (-32..31) in 128 slices of
     * 16 bytes, slice j holding elements 2j and 2j+1 of rows 0..7 in turn (as Q8_0x8).
     */
    private static void q6_k(byte[] in, int s, byte[] out, int o, int r) {
        out[o + 2 * r] = in[s + 208];
        out[o + 2 * r + 1] = in[s + 209];
        for (int p = 0; p < 16; p++) out[o + Q6_SCALES + 8 * p + r] = in[s + 192 + p];
        for (int h = 0; h < 2; h++) {
            int ql = s + 64 * h, qh = s + 128 + 32 * h;
            for (int l = 0; l < 32; l++) {
                int lo = in[ql + l] & 0xff, hi = in[ql + l + 32] & 0xff, bits = in[qh + l] & 0xff;
                int e = 128 * h + l;
                q6(out, o, r, e, (lo & 0xF) | (bits & 3) << 4);
                q6(out, o, r, e + 32, (hi & 0xF) | (bits >> 2 & 3) << 4);
                q6(out, o, r, e + 64, (lo >> 4) | (bits >> 4 & 3) << 4);
                q6(out, o, r, e + 96, (hi >> 4) | (bits >> 6 & 3) << 4);
            }
        }
    }

    /** Element e (0..255) of row r, a 6-bit q, as q - 32 at its place in the slices. */
    private static void q6(byte[] out, int o, int r, int e, int q) {
        out[o + Q6_QS + 16 * (e >> 1) + 2 * r + (e & 1)] = (byte) (q - 32);
    }
}
