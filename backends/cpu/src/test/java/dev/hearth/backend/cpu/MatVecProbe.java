package dev.hearth.backend.cpu;

import dev.hearth.runtime.dtype.DType;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Random;

/**
 * A rough benchmark of the mul_mat kernels (not a unit test): matrix-vector products at the
 * shapes of a Llama-3.2-1B layer and its output, in GB/s of weights read, and a 64-token prompt
 * product in GFLOP/s. Each shape cycles through copies of the weights that together exceed the
 * last-level cache, so the figures are memory's, not cache's; a plain streaming read of 256 MiB
 * with the same threads is printed first as the bandwidth to compare with (the machine is shared,
 * so it varies from run to run). Every case runs twice and the second run's best and median are
 * printed. "hot" instead times one small matrix that stays in cache, on one thread, in CPU time,
 * to see the kernels' own speed (and a 64-token prompt product of 256 rows). The types the device repacks (Q4_0, Q8_0, Q4_K, Q6_K) run repacked, as the device's weights do, unless
 * {@code -Dhearth.cpu.repack=false}.
 * <pre>
 * java --add-modules jdk.incubator.vector -cp CLASSPATH dev.hearth.backend.cpu.MatVecProbe [threads] [hot] [types...]
 * java --add-modules jdk.incubator.vector -cp CLASSPATH dev.hearth.backend.cpu.MatVecProbe 1 peak
 * </pre>
 */
public final class MatVecProbe {
    private static final long SPREAD = 256L << 20;
    private static final ThreadMXBean CLOCK = ManagementFactory.getThreadMXBean();

    public static void main(String[] args) {
        if (args.length > 1 && args[1].equals("peak")) {
            for (int r = 0; r < 5; r++) System.out.printf("fma peak, one thread: %.1f GFLOP/s%n", fmaPeak());
            return;
        }
        boolean hot = args.length > 1 && args[1].equals("hot");
        int threads = hot ? 1 : args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int from = hot ? 2 : 1;
        DType[] types = args.length > from ? Arrays.stream(args, from, args.length).map(DType::valueOf).toArray(DType[]::new)
                : new DType[]{DType.Q4_0, DType.Q8_0};
        boolean repack = !"false".equals(System.getProperty("hearth.cpu.repack"));
        CpuPool pool = new CpuPool(threads);
        Scratch scratch = new Scratch(threads);
        System.out.printf("threads %d, %d-bit vectors%n", threads, jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize());
        if (!hot) System.out.printf("streaming read: %.1f GB/s%n", streamingRead(pool));
        warmUp(pool, scratch, types, repack);
        int[][] shapes = hot ? new int[][]{{Integer.getInteger("hearth.probe.k", 2048), 256}} : new int[][]{{2048, 2048}, {2048, 8192}, {8192, 2048}, {2048, 128256}};
        for (DType type : types) {
            for (int[] s : shapes) {
                int k = s[0], n = s[1];
                long bytes = type.bytesFor(k) * n;
                MemorySegment[] copies = weights(type, bytes, hot ? 1 : (int) Math.max(1, Math.min(16, SPREAD / bytes)));
                Repack.Copy[] packed = Repack.repacks(type) && repack ? repacked(type, copies, k, n) : null;
                MemorySegment x = floats(k, 1);
                MemorySegment out = Arena.global().allocate(4L * n, 64);
                int reps = (int) Math.max(50, Math.min(3000, (8L << 30) / bytes));
                matvec(pool, scratch, type, copies, packed, k, n, x, out, reps, hot);
                long[] times = matvec(pool, scratch, type, copies, packed, k, n, x, out, reps, hot);
                double best = times[0], median = times[reps / 2];
                System.out.printf("%-5s%s matvec k=%-5d n=%-6d best %8.1f us %6.1f GB/s   median %8.1f us %6.1f GB/s  (%.2f ns per block row%s)%n",
                        type, packed != null ? "x8" : "  ", k, n, best / 1e3, bytes / best, median / 1e3, bytes / median,
                        best * threads / ((double) n * k / type.blockSize), threads > 1 ? " per thread" : "");
            }
            int k = 2048, n = hot ? 256 : 2048, tokens = 64;
            MemorySegment[] w = weights(type, type.bytesFor(k) * n, 1);
            Repack.Copy[] packed = Repack.repacks(type) && repack ? repacked(type, w, k, n) : null;
            MemorySegment x = floats(k, tokens);
            MemorySegment out = Arena.global().allocate(4L * n * tokens, 64);
            prompt(pool, scratch, type, w[0], packed == null ? null : packed[0], k, n, x, tokens, out, hot);
            double best = prompt(pool, scratch, type, w[0], packed == null ? null : packed[0], k, n, x, tokens, out, hot);
            System.out.printf("%-5s%s prompt k=%d n=%d t=%d  %8.1f us  %6.1f GFLOP/s%n", type, packed != null ? "x8" : "  ",
                    k, n, tokens, best / 1e3, 2.0 * k * n * tokens / best);
        }
        pool.close();
    }

    /** Calls every path often enough on a small matrix that the JIT compiles the callers too, as in a long run. */
    private static void warmUp(CpuPool pool, Scratch scratch, DType[] types, boolean repack) {
        for (DType type : types) {
            int k = 256, n = 64;
            MemorySegment[] w = weights(type, type.bytesFor(k) * n, 1);
            Repack.Copy[] packed = Repack.repacks(type) && repack ? repacked(type, w, k, n) : null;
            MemorySegment x = floats(k, 8);
            MemorySegment out = Arena.global().allocate(4L * n * 8, 64);
            for (int r = 0; r < 20000; r++) {
                MatMul.run(pool, scratch, type, w[0], packed == null ? null : packed[0], 0, k, n, x, r % 8 == 0 ? 8 : 1, out, null);
            }
        }
    }

    /** Per-call times, sorted. */
    private static long[] matvec(CpuPool pool, Scratch scratch, DType type, MemorySegment[] copies, Repack.Copy[] packed,
                                 int k, int n, MemorySegment x, MemorySegment out, int reps, boolean hot) {
        long[] times = new long[reps];
        for (int r = 0; r < reps; r++) {
            long t0 = hot ? CLOCK.getCurrentThreadCpuTime() : System.nanoTime();
            MatMul.run(pool, scratch, type, copies[r % copies.length], packed == null ? null : packed[r % copies.length], 0, k, n, x, 1, out, null);
            times[r] = (hot ? CLOCK.getCurrentThreadCpuTime() : System.nanoTime()) - t0;
        }
        Arrays.sort(times);
        return times;
    }

    /** Best time of 20 prompt products (hot: in this thread's CPU time). */
    private static double prompt(CpuPool pool, Scratch scratch, DType type, MemorySegment w, Repack.Copy packed, int k, int n,
                                 MemorySegment x, int tokens, MemorySegment out, boolean hot) {
        double best = Double.MAX_VALUE;
        for (int r = 0; r < 20; r++) {
            long t0 = hot ? CLOCK.getCurrentThreadCpuTime() : System.nanoTime();
            MatMul.run(pool, scratch, type, w, packed, 0, k, n, x, tokens, out, null);
            best = Math.min(best, (hot ? CLOCK.getCurrentThreadCpuTime() : System.nanoTime()) - t0);
        }
        return best;
    }

    /** Best GB/s of summing 256 MiB with the pool's threads. */
    private static double streamingRead(CpuPool pool) {
        long bytes = 256L << 20;
        MemorySegment s = Arena.global().allocate(bytes, 64);
        s.fill((byte) 1);
        int tasks = 64;
        long per = bytes / tasks;
        long[] sink = new long[tasks];
        double best = 0;
        for (int rep = 0; rep < 10; rep++) {
            long t0 = System.nanoTime();
            pool.run(tasks, (i, w) -> sink[i] = sum(s, i * per, per));
            best = Math.max(best, bytes / (double) (System.nanoTime() - t0));
        }
        return best;
    }

    private static long sum(MemorySegment s, long from, long bytes) {
        MemorySegment m = s.asSlice(from, bytes);
        LongVector a = LongVector.zero(LongVector.SPECIES_256), b = a, c = a, d = a;
        for (long o = 0; o < bytes; o += 128) {
            a = a.add(LongVector.fromMemorySegment(LongVector.SPECIES_256, m, o, Mem.LE));
            b = b.add(LongVector.fromMemorySegment(LongVector.SPECIES_256, m, o + 32, Mem.LE));
            c = c.add(LongVector.fromMemorySegment(LongVector.SPECIES_256, m, o + 64, Mem.LE));
            d = d.add(LongVector.fromMemorySegment(LongVector.SPECIES_256, m, o + 96, Mem.LE));
        }
        return a.add(b).add(c.add(d)).reduceLanes(VectorOperators.ADD);
    }

    static Repack.Copy[] repacked(DType type, MemorySegment[] copies, int k, int n) {
        Repack.Copy[] packed = new Repack.Copy[copies.length];
        int nb = k / type.blockSize;
        for (int c = 0; c < copies.length; c++) {
            packed[c] = Repack.Copy.allocate(type, Repack.bytes(type, nb, n), Arena.global());
            Repack.repack(type, copies[c], nb, packed[c], 0, n / 8);
        }
        return packed;
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
                case Q4_1, Q5_1, Q4_K, Q5_K -> new int[]{0, 2};
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

    /**
     * GFLOP/s of ten independent chains of 256-bit fma in registers on this thread: the ceiling of
     * any float kernel (the prompt GEMM) on one core.
     */
    static double fmaPeak() {
        var f = Mem.F256;
        var a0 = jdk.incubator.vector.FloatVector.broadcast(f, 1f);
        var a1 = a0; var a2 = a0; var a3 = a0; var a4 = a0; var a5 = a0; var a6 = a0; var a7 = a0; var a8 = a0; var a9 = a0;
        var m = jdk.incubator.vector.FloatVector.broadcast(f, 0.999999f);
        var c = jdk.incubator.vector.FloatVector.broadcast(f, 1e-7f);
        long iters = 50_000_000L, t0 = System.nanoTime();
        for (long i = 0; i < iters; i++) {
            a0 = a0.fma(m, c); a1 = a1.fma(m, c); a2 = a2.fma(m, c); a3 = a3.fma(m, c); a4 = a4.fma(m, c);
            a5 = a5.fma(m, c); a6 = a6.fma(m, c); a7 = a7.fma(m, c); a8 = a8.fma(m, c); a9 = a9.fma(m, c);
        }
        long t = System.nanoTime() - t0;
        float s = a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).reduceLanes(VectorOperators.ADD);
        if (s == 42f) System.out.print("");
        return iters * 10 * 16.0 / t;
    }
}
