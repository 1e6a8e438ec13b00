package dev.hearth.bench.kernels;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.Arrays;

/**
 * The built-in timer of the kernel benchmarks (faster than JMH, for whole sweeps). It warms a
 * bound case up until its runs stop getting faster and the JIT compiled nothing during the last
 * one (the JIT compiles a kernel's Vector API loops only after they have run a while, and until
 * then they run many times slower), and at least {@code warmup} seconds have passed; then it runs the case again and again until the budget is
 * spent, each run waited for, and gives the median and the fastest run. A case whose warm runs
 * each take more than three budgets is timed by its last warm-up run.
 */
public final class KernelTimer {
    /** Runs of one case at most, however fast. */
    static final int MAX_RUNS = 100_000;
    /** A run "stops getting faster" when it takes at least this share of the run before it. */
    static final double STABLE = 0.85;

    /** Median and fastest time of one run, in nanoseconds, over {@code runs} timed runs. */
    public record Timing(double medianNanos, double minNanos, int runs) {
    }

    private KernelTimer() {
    }

    /** Milliseconds the JIT has spent compiling so far (a change means code was just compiled), or 0 where unknown. */
    static long compileMillis() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
    }

    /**
     * Times {@code run} within about {@code budgetSeconds}, after at least {@code warmupSeconds}
     * of warm-up and at most {@code maxWarmupSeconds}.
     */
    public static Timing time(Runnable run, double budgetSeconds, double warmupSeconds, double maxWarmupSeconds) {
        long budget = (long) (budgetSeconds * 1e9);
        long warmup = (long) (warmupSeconds * 1e9);
        long maxWarmup = (long) (Math.max(warmupSeconds, maxWarmupSeconds) * 1e9);
        long start = System.nanoTime();
        long previous = Long.MAX_VALUE;
        long compiled = compileMillis();
        while (true) {
            long t0 = System.nanoTime();
            run.run();
            long t = System.nanoTime() - t0;
            long nowCompiled = compileMillis();
            boolean stable = previous != Long.MAX_VALUE && t >= STABLE * previous && nowCompiled == compiled;
            compiled = nowCompiled;
            long elapsed = System.nanoTime() - start;
            if (stable && t > 3 * budget) return new Timing(t, Math.min(t, previous), 1);
            if ((stable && elapsed >= warmup) || elapsed >= maxWarmup) break;
            previous = t;
        }
        long[] times = new long[1024];
        int n = 0;
        long spent = 0;
        while (n < MAX_RUNS && (n == 0 || spent < budget)) {
            long t0 = System.nanoTime();
            run.run();
            long dt = System.nanoTime() - t0;
            if (n == times.length) times = Arrays.copyOf(times, 2 * n);
            times[n++] = dt;
            spent += dt;
        }
        long[] sorted = Arrays.copyOf(times, n);
        Arrays.sort(sorted);
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
        return new Timing(median, sorted[0], n);
    }
}
