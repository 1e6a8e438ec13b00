package dev.hearth.backend.cpu;

import dev.hearth.runtime.dtype.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

/**
 * A rough benchmark of the mul_mat kernels (not a unit test): matrix-vector products at the
 * shapes of a Llama-3.2-1B layer and its output, in GB/s of weights read, and a 64-token prompt
 * product in GFLOP/s. Each shape cycles through copies of the weights that together exceed the
 * last-level cache, so the figures are memory's, not cache's. Prints the best of several rounds.
 * <pre>
 * java --add-modules jdk.incubator.vector -cp CLASSPATH dev.hearth.backend.cpu.MatVecProbe [threads] [hot] [types...]
 * </pre>
 */
public final class MatVecProbe {
    private static final long SPREAD = 256L << 20;

    public static void main(String[] args) {
        boolean hot = args.length > 1 && args[1].equals("hot");
        int threads = hot ? 1 : args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int from = hot ? 2 : 1;
        boolean repack = !"false".equals(System.getProperty("hearth.cpu.repack"));
        DType[] types = args.length > from ? java.util.Arrays.stream(args, from, args.length).map(DType::valueOf).toArray(DType[]::new)
                : new DType[]{DType.Q4_0, DType.Q8_0};
        CpuPool pool = new CpuPool(threads);
        Scratch scratch = new Scratch(threads);
        // "hot": one small matrix that stays in cache, on one thread, timed in CPU time (other
        // programs on the machine then matter less), to see the kernels' own speed.
        int[][] shapes = hot ? new int[][]{{2048, 256}} : new int[][]{{2048, 2048}, {2048, 8192}, {8192, 2048}, {2048, 128256}};
        System.out.printf("threads %d, %d-bit vectors%n", threads, jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize());
        for (DType type : types) {
            for (int[] s : shapes) {
                int k = s[0], n = s[1];
                long bytes = type.bytesFor(k) * n;
                MemorySegment[] copies = weights(type, bytes, hot ? 1 : (int) Math.max(1, Math.min(16, SPREAD / bytes)));
                MemorySegment[] packed = null;
                if (type == DType.Q4_0 && repack) {
                    packed = new MemorySegment[copies.length];
                    for (int c = 0; c < copies.length; c++) {
                        packed[c] = Arena.global().allocate(Repack.q4_0Bytes(k / 32, n), 64);
                        Repack.q4_0(copies[c], k / 32, packed[c], 0, n / 8);
                    }
                }
                MemorySegment x = floats(k, 1);
                MemorySegment out = Arena.global().allocate(4L * n, 64);
                int reps = (int) Math.max(50, Math.min(3000, (8L << 30) / bytes));
                long[] times = new long[reps];
                var clock = java.lang.management.ManagementFactory.getThreadMXBean();
                for (int r = 0; r < reps; r++) {
                    long t0 = hot ? clock.getCurrentThreadCpuTime() : System.nanoTime();
                    MatMul.run(pool, scratch, type, copies[r % copies.length], packed == null ? null : packed[r % copies.length], k, n, x, 1, out, null);
                    times[r] = (hot ? clock.getCurrentThreadCpuTime() : System.nanoTime()) - t0;
                }
                java.util.Arrays.sort(times);
                double best = times[0], median = times[reps / 2];
                System.out.printf("%-5s%s matvec k=%-5d n=%-6d best %8.1f us %6.1f GB/s   median %8.1f us %6.1f GB/s  (%.2f ns per block row)%n",
                        type, packed != null ? "x8" : "  ", k, n, best / 1e3, bytes / best, median / 1e3, bytes / median,
                        best * threads / ((double) n * k / type.blockSize));
            }
            if (hot) continue;
            int k = 2048, n = 2048, tokens = 64;
            MemorySegment w = weights(type, type.bytesFor(k) * n, 1)[0];
            MemorySegment x = floats(k, tokens);
            MemorySegment out = Arena.global().allocate(4L * n * tokens, 64);
            double best = Double.MAX_VALUE;
            for (int r = 0; r < 30; r++) {
                long t0 = System.nanoTime();
                MatMul.run(pool, scratch, type, w, null, k, n, x, tokens, out, null);
                best = Math.min(best, System.nanoTime() - t0);
            }
            System.out.printf("%-5s prompt k=%d n=%d t=%d  %8.1f us  %6.1f GFLOP/s%n", type, k, n, tokens, best / 1e3, 2.0 * k * n * tokens / best);
        }
        pool.close();
    }

    /** Random blocks: random quant bytes, small positive scales in the half-float fields. */
    static MemorySegment[] weights(DType type, long bytes, int copies) {
        Random rnd = new Random(1);
        MemorySegment[] out = new MemorySegment[copies];
        byte[] chunk = new byte[1 << 20];
        for (int c = 0; c < copies; c++) {
            MemorySegment s = Arena.global().allocate(bytes, 64);
            for (long o = 0; o < bytes; o += chunk.length) {
                rnd.nextBytes(chunk);
                MemorySegment.copy(MemorySegment.ofArray(chunk), 0, s, o, Math.min(chunk.length, bytes - o));
            }
            short scale = Float.floatToFloat16(0.01f);
            int[] halves = switch (type) {
                case Q4_0, Q5_0, Q8_0 -> new int[]{0};
                case Q4_1, Q5_1 -> new int[]{0, 2};
                case Q4_K, Q5_K -> new int[]{0, 2};
                case Q6_K -> new int[]{208};
                default -> new int[0];
            };
            if (type == DType.F16) {
                for (long o = 0; o < bytes; o += 2) s.set(Mem.I16, o, (short) (rnd.nextInt(0x3000) + 0x2000));
            } else if (type == DType.BF16) {
                for (long o = 0; o < bytes; o += 2) s.set(Mem.I16, o, (short) (0x3c00 + rnd.nextInt(0x200)));
            } else if (type == DType.F32) {
                for (long o = 0; o < bytes; o += 4) s.set(Mem.F32, o, rnd.nextFloat());
            }
            for (long o = 0; o < bytes && halves.length > 0; o += type.typeSize) for (int h : halves) s.set(Mem.I16, o + h, scale);
            out[c] = s;
        }
        return out;
    }

    static MemorySegment floats(int k, int tokens) {
        Random rnd = new Random(2);
        MemorySegment s = Arena.global().allocate(4L * k * tokens, 64);
        for (int i = 0; i < k * tokens; i++) s.set(Mem.F32, 4L * i, (float) rnd.nextGaussian());
        return s;
    }
}
