package dev.hearth.bench.kernels;

import dev.hearth.backend.cpu.CpuDevice;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.sched.Executor;
import dev.hearth.runtime.sched.Scheduler;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The memory bandwidth a device gives, measured as STREAM does: "copy" (c = a, 8 bytes per float
 * moved) and "triad" (a = b + s·c, 12 bytes), best of several runs, counting the bytes the kernel
 * names (not the reads a cache does before a write). On the host (the CPU and reference devices)
 * the kernels are plain Java loops over float arrays, each array at least four times the
 * last-level cache, split across {@code threads} threads. On any other device they are the
 * device's own scale (c = s·a, as copy) and add (a = b + c, as triad) ops over 256 MiB arrays,
 * run through the scheduler like any kernel case.
 */
public final class BandwidthProbe {
    /** One device's measured bandwidth, in GB/s (1e9 bytes per second). */
    public record Result(String device, int threads, double copyGbps, double triadGbps, String method) {
        /** The better of copy and triad: what a kernel's share is measured against. */
        public double bestGbps() {
            return Math.max(copyGbps, triadGbps);
        }
    }

    private static final int RUNS = 12;
    private static final long MIB = 1L << 20;

    private BandwidthProbe() {
    }

    /** Measures {@code device}: the host probe for host devices, its own ops otherwise. */
    public static Result measure(Device device, int threads) {
        if (device.isHost()) {
            int t = device instanceof CpuDevice cpu ? cpu.threads() : threads;
            Result r = host(t, hostElements(t), RUNS);
            return new Result(device.name(), t, r.copyGbps(), r.triadGbps(), r.method());
        }
        return onDevice(device);
    }

    /**
     * Floats per array of the host probe: four times the last-level cache, at least 64 MiB, and
     * at most an eighth of the heap (the three arrays then fit beside a loaded model's buffers).
     */
    static int hostElements(int threads) {
        long bytes = Math.min(Math.max(4 * lastLevelCache(), 64 * MIB), Runtime.getRuntime().maxMemory() / 8);
        long n = bytes / 4;
        long unit = 64L * threads;
        return Math.toIntExact((n + unit - 1) / unit * unit);
    }

    /** The largest cache of cpu0 in bytes, from sysfs; 32 MiB where it cannot be read. */
    static long lastLevelCache() {
        long best = 0;
        Path dir = Path.of("/sys/devices/system/cpu/cpu0/cache");
        try (var s = Files.list(dir)) {
            for (Path p : s.filter(q -> q.getFileName().toString().startsWith("index")).toList()) {
                Path size = p.resolve("size");
                if (!Files.isReadable(size)) continue;
                String v = Files.readString(size).trim().toUpperCase();
                long mul = v.endsWith("K") ? 1024 : v.endsWith("M") ? MIB : 1;
                String digits = v.replaceAll("[^0-9]", "");
                if (!digits.isEmpty()) best = Math.max(best, Long.parseLong(digits) * mul);
            }
        } catch (IOException | RuntimeException e) {
            return 32 * MIB;
        }
        return best > 0 ? best : 32 * MIB;
    }

    /** STREAM copy and triad in Java over three arrays of {@code n} floats, on {@code threads} threads. */
    public static Result host(int threads, int n, int runs) {
        float[] a = new float[n];
        float[] b = new float[n];
        float[] c = new float[n];
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "hearth-probe");
            t.setDaemon(true);
            return t;
        });
        try {
            int chunk = n / threads;
            parallel(pool, threads, (lo, hi) -> {
                for (int i = lo; i < hi; i++) {
                    a[i] = 1f;
                    b[i] = 2f;
                    c[i] = 0.5f;
                }
            }, chunk, n);
            double copy = 0;
            double triad = 0;
            for (int r = 0; r < runs; r++) {
                long t0 = System.nanoTime();
                parallel(pool, threads, (lo, hi) -> copy(a, c, lo, hi), chunk, n);
                long t1 = System.nanoTime();
                parallel(pool, threads, (lo, hi) -> triad(a, b, c, 3f, lo, hi), chunk, n);
                long t2 = System.nanoTime();
                copy = Math.max(copy, 8.0 * n / (t1 - t0));
                triad = Math.max(triad, 12.0 * n / (t2 - t1));
            }
            return new Result("host", threads, copy, triad, "java copy/triad, 3 x " + (4L * n / MIB) + " MiB");
        } finally {
            pool.shutdownNow();
        }
    }

    private interface Range {
        void run(int lo, int hi);
    }

    private static void parallel(ExecutorService pool, int threads, Range body, int chunk, int n) {
        List<Callable<Void>> tasks = new ArrayList<>(threads);
        for (int t = 0; t < threads; t++) {
            int lo = t * chunk;
            int hi = t == threads - 1 ? n : lo + chunk;
            tasks.add(() -> {
                body.run(lo, hi);
                return null;
            });
        }
        try {
            for (var f : pool.invokeAll(tasks)) f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    private static void copy(float[] a, float[] c, int lo, int hi) {
        for (int i = lo; i < hi; i++) c[i] = a[i];
    }

    private static void triad(float[] a, float[] b, float[] c, float s, int lo, int hi) {
        for (int i = lo; i < hi; i++) a[i] = b[i] + s * c[i];
    }

    /** Copy and triad as the device's scale and add ops over arrays of up to 256 MiB. */
    static Result onDevice(Device device) {
        long free = device.memory().free();
        return onDevice(device, Math.max(16, Math.min(16384, free / 8 / (4L * 4096)))); // 3 arrays within 3/8 of free memory
    }

    /** Copy and triad as the device's ops over arrays of {@code rows} rows of 4096 floats. */
    static Result onDevice(Device device, long rows) {
        long n = rows * 4096;
        double copy = bestRun(device, n, false);
        double triad = bestRun(device, n, true);
        return new Result(device.name(), 0, copy, triad, "device scale/add, 3 x " + (4 * n / MIB) + " MiB");
    }

    private static double bestRun(Device device, long n, boolean triad) {
        long rows = n / 4096;
        Graph g = new Graph();
        Node x = g.input("a", DType.F32, 4096, rows);
        Node y = triad ? g.add("y", x, g.input("b", DType.F32, 4096, rows)) : g.scale("y", x, 3f);
        g.output(y);
        try (Executor ex = Scheduler.schedule(g, node -> device, List.of(device)).instantiate(node -> null);
             Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(4 * n, 64);
            for (long i = 0; i < n; i++) data.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (i % 1000) * 0.001f);
            for (String name : triad ? List.of("a", "b") : List.of("a")) ex.setInput(name, data);
            ex.run();
            ex.run();
            double best = 0;
            long bytes = (triad ? 12 : 8) * n;
            for (int r = 0; r < RUNS; r++) {
                long t0 = System.nanoTime();
                ex.run();
                best = Math.max(best, bytes / (double) (System.nanoTime() - t0));
            }
            return best;
        }
    }

    /** Probes each device once, however many cases it runs. */
    public static final class Cache {
        private final Map<String, Result> results = new java.util.HashMap<>();

        public Result of(Device device, int threads) {
            return results.computeIfAbsent(device.name() + "/" + threads, k -> measure(device, threads));
        }
    }
}
