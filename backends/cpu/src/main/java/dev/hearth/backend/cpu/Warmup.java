package dev.hearth.backend.cpu;

import dev.hearth.runtime.dtype.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import java.util.Random;
import java.util.Set;

/**
 * Gets the matrix kernels of a weight type compiled while a model loads. Until the JIT has
 * compiled a Vector API kernel, each vector operation runs as plain Java (allocating, element by
 * element), so a fresh process spends seconds of its first prompt in them. When the first weight
 * of a type is prepared, a background thread runs that type's prompt and generation products on a
 * small matrix (16 rows of 512, the original and the repacked layout) until they run at compiled
 * speed or {@link #BUDGET_NANOS} has passed; the load goes on meanwhile. System property
 * {@code hearth.cpu.warmup=false} turns it off.
 */
final class Warmup {
    /** The most time a type's warm-up runs. */
    static final long BUDGET_NANOS = 3_000_000_000L;
    private static final int K = 512, N = 16;
    private static final Set<DType> started = EnumSet.noneOf(DType.class);
    private static final boolean ON = !"false".equals(System.getProperty("hearth.cpu.warmup"));

    private Warmup() {
    }

    /** Starts the warm-up of {@code type}'s kernels unless it ran already in this process. */
    static void start(DType type, boolean repack) {
        if (!ON || !CpuDevice.WEIGHT_TYPES.contains(type)) return;
        synchronized (started) {
            if (!started.add(type)) return;
        }
        Thread t = new Thread(() -> run(type, repack, BUDGET_NANOS), "hearth-cpu-warmup-" + type.name().toLowerCase());
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        t.start();
    }

    /**
     * Runs the products of {@code type} until its rounds run at a steady speed or {@code budget}
     * nanoseconds have passed; returns the rounds run, or -1 where a product failed.
     */
    static int run(DType type, boolean repack, long budget) {
        long t0 = System.nanoTime();
        try (Arena arena = Arena.ofConfined(); CpuPool pool = new CpuPool(1)) {
            long bytes = type.bytesFor(K) * N;
            MemorySegment w = arena.allocate(bytes, 64);
            Random rnd = new Random(1);
            for (long i = 0; i < bytes; i++) w.set(Mem.I8, i, (byte) rnd.nextInt(256));
            MemorySegment packed = null;
            if (repack && Repack.repacks(type)) {
                packed = arena.allocate(Repack.bytes(type, K / type.blockSize, N), 64);
                Repack.repack(type, w, K / type.blockSize, packed, 0, N / 8);
            }
            int tokens = 9;
            MemorySegment x = arena.allocate(4L * K * tokens, 64);
            for (int i = 0; i < K * tokens; i++) x.setAtIndex(Mem.F32, i, (float) rnd.nextGaussian());
            MemorySegment out = arena.allocate(4L * N * tokens, 64);
            Scratch s = new Scratch(1);
            int rounds = 0;
            long best = Long.MAX_VALUE;
            while (rounds == 0 || System.nanoTime() - t0 < budget) {
                long r0 = System.nanoTime();
                for (int i = 0; i < 20; i++) {
                    MatMul.run(pool, s, type, w, packed, K, N, x, 1, out, null);
                    MatMul.run(pool, s, type, w, null, K, N, x, 1, out, null);
                    MatMul.run(pool, s, type, w, packed, K, N, x, tokens, out, null);
                }
                rounds++;
                long took = System.nanoTime() - r0;
                // Compiled code runs a round within a few percent of the best one; stop after 50 rounds there.
                if (took < best) best = took;
                if (rounds >= 50 && took < best * 1.1) break;
            }
            return rounds;
        } catch (RuntimeException | Error e) {
            return -1; // a warm-up that fails costs only speed; the real product reports its own errors
        }
    }
}
