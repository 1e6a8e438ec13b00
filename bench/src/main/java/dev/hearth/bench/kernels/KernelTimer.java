package dev.hearth.bench.kernels;

import java.util.Arrays;

/**
 * The built-in timer of the kernel benchmarks (faster than JMH, for whole sweeps): warms a bound
 * case up (the JIT, the caches, the device's clocks) for {@code warmup} seconds and at least two
 * runs, then runs it again and again until the budget is spent, each run waited for, and gives
 * the median and the fastest run. A case whose first run alone takes more than three budgets is
 * timed by its second run.
 */
public final class KernelTimer {
    /** Runs of one case at most, however fast. */
    static final int MAX_RUNS = 100_000;

    /** Median and fastest time of one run, in nanoseconds, over {@code runs} timed runs. */
    public record Timing(double medianNanos, double minNanos, int runs) {
    }

    private KernelTimer() {
    }

    /** Times {@code run} within about {@code budgetSeconds}, after {@code warmupSeconds} of warm-up. */
    public static Timing time(Runnable run, double budgetSeconds, double warmupSeconds) {
        long budget = (long) (budgetSeconds * 1e9);
        long start = System.nanoTime();
        run.run();
        long first = System.nanoTime() - start;
        if (first > 3 * budget) {
            long t0 = System.nanoTime();
            run.run();
            long second = System.nanoTime() - t0;
            return new Timing(second, second, 1);
        }
        long warmup = (long) (warmupSeconds * 1e9);
        int warm = 1;
        while (warm < 2 || System.nanoTime() - start < warmup) {
            run.run();
            warm++;
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
