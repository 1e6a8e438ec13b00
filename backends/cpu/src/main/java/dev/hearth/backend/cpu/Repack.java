package dev.hearth.backend.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Weights rearranged for faster matrix-vector products, made once per weight tensor and kept with
 * its buffer. Q4_0 goes eight rows at a time ("Q4_0x8", the same 18 bytes per 32 weights): per
 * group of 8 rows and block, the 8 half scales (16 bytes), then 8 chunks of 16 bytes, chunk j
 * holding quant bytes 2j and 2j+1 of rows 0..7 in turn. Rows past the last whole group stay in
 * the original tensor, which prompts (the GEMM) also read: decoding is faster there. Checked
 * through the kernels in MulMatTest.
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
        long rb = 18L * nb;
        byte[] in = new byte[(int) (8 * rb)];
        byte[] out = new byte[(int) (8 * rb)];
        for (int g = g0; g < g1; g++) {
            MemorySegment.copy(src, Mem.I8, g * 8 * rb, in, 0, in.length);
            for (int b = 0; b < nb; b++) {
                int o = 144 * b;
                for (int r = 0; r < 8; r++) {
                    int s = (int) (r * rb) + 18 * b;
                    out[o + 2 * r] = in[s];
                    out[o + 2 * r + 1] = in[s + 1];
                    for (int j = 0; j < 8; j++) {
                        out[o + 16 + 16 * j + 2 * r] = in[s + 2 + 2 * j];
                        out[o + 16 + 16 * j + 2 * r + 1] = in[s + 3 + 2 * j];
                    }
                }
            }
            MemorySegment.copy(out, 0, dst, Mem.I8, g * 8 * rb, out.length);
        }
    }
}
