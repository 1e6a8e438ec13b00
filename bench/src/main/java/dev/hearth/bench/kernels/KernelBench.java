package dev.hearth.bench.kernels;

import dev.hearth.backend.cpu.CpuDevice;
import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.backend.BackendProvider;
import dev.hearth.runtime.backend.Backends;
import dev.hearth.runtime.backend.Device;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A kernel benchmark run: each selected case on each chosen device, timed by {@link KernelTimer}
 * after the device's bandwidth is probed once. A case a device does not support is skipped with
 * the device's reason; one that fails (no memory left for it, a kernel that throws) is reported
 * and the run goes on. What is measured goes to a {@link Listener} as it comes (for a table
 * printed row by row) and is returned as a list.
 */
public final class KernelBench {
    /** Hears of each probe, result and skip as it comes. */
    public interface Listener {
        default void probe(BandwidthProbe.Result probe) {
        }

        default void result(KernelResult result) {
        }

        default void skipped(KernelCase c, Device device, String why) {
        }

        /** A case the device supports but could not run (out of memory, a failing kernel). */
        default void failed(KernelCase c, Device device, RuntimeException e) {
        }
    }

    /**
     * Warm-up of the first case of each op, type and kind (one token or many) on a device, on the
     * case itself after {@link #prewarm}: the JIT compiles the kernel again for the new shape (on
     * two busy cores a Q4_0 matrix-vector kernel took about 3 s to reach full speed).
     */
    static final double FIRST_WARMUP_SECONDS = 3.0;
    /** How long {@link #prewarm} runs a small case. */
    static final double PREWARM_SECONDS = 1.0;
    /** Warm-up of any case at most, whether or not its runs have stopped getting faster. */
    static final double MAX_WARMUP_SECONDS = 30;

    private KernelBench() {
    }

    /**
     * The devices a comma-separated list names: a backend ("cpu", "opencl"), one of its devices
     * ("opencl:1"), "all" (the reference device too). Null or empty: every device but the
     * reference device (whose scalar kernels are a specification, not a contender).
     *
     * @param threads CPU threads to set on the CPU devices found, or 0 to leave them
     */
    public static List<Device> devices(String spec, int threads) {
        Set<Device> out = new LinkedHashSet<>();
        List<String> words = spec == null || spec.isBlank() ? List.of("auto") : List.of(spec.split(","));
        for (String raw : words) {
            String w = raw.trim().toLowerCase();
            if (w.equals("auto") || w.equals("all")) {
                for (BackendProvider p : Backends.providers()) {
                    if (w.equals("auto") && p.name().equals("reference")) continue;
                    out.addAll(p.devices());
                }
                continue;
            }
            String name = w.contains(":") ? w.substring(0, w.indexOf(':')) : w;
            BackendProvider p = Backends.provider(name);
            if (p == null) {
                throw new HearthException("--backend " + raw.trim() + ": no such backend (backends: "
                        + Backends.providers().stream().map(BackendProvider::name).collect(Collectors.joining(", ")) + ", all)");
            }
            List<Device> ds = p.devices();
            if (ds.isEmpty()) throw new HearthException("--backend " + raw.trim() + ": " + p.unavailableReason());
            if (w.contains(":")) {
                int i;
                try {
                    i = Integer.parseInt(w.substring(w.indexOf(':') + 1));
                } catch (NumberFormatException e) {
                    throw new HearthException("--backend " + raw.trim() + ": the device index must be a number (" + name + ":0)");
                }
                if (i < 0 || i >= ds.size()) throw new HearthException("--backend " + raw.trim() + ": " + name + " has " + ds.size() + " device(s), numbered from 0");
                out.add(ds.get(i));
            } else {
                out.addAll(ds);
            }
        }
        if (out.isEmpty()) throw new HearthException("no device found to benchmark (try --backend reference)");
        if (threads > 0) {
            for (Device d : out) if (d instanceof CpuDevice cpu) cpu.setThreads(threads);
        }
        return List.copyOf(out);
    }

    /** The threads a device computes with: the CPU device's pool, else the hearth.threads setting for host devices, else 0. */
    public static int threadsOf(Device d) {
        if (d instanceof CpuDevice cpu) return cpu.threads();
        return d.isHost() ? Integer.getInteger("hearth.threads", Runtime.getRuntime().availableProcessors()) : 0;
    }

    /**
     * Runs every case on every device (cases first within a device, probing it once).
     *
     * @param rotate whether runs go round copies of the weights ({@link BoundCase#rotationCopies}),
     *               so that they come from memory, or stay on one copy (which a cache may hold)
     */
    public static List<KernelResult> run(List<Device> devices, List<KernelCase> cases, double budgetSeconds, boolean rotate,
                                         Listener listener) {
        List<KernelResult> results = new ArrayList<>();
        for (Device d : devices) {
            List<KernelCase> runnable = new ArrayList<>();
            for (KernelCase c : cases) {
                String why = c.unsupported(d);
                if (why == null) runnable.add(c);
                else listener.skipped(c, d, why);
            }
            if (runnable.isEmpty()) continue;
            BandwidthProbe.Result probe = BandwidthProbe.measure(d, threadsOf(d));
            listener.probe(probe);
            Set<String> warm = new HashSet<>();
            for (KernelCase c : runnable) {
                KernelResult r;
                try {
                    double warmup = budgetSeconds / 3;
                    if (warm.add(c.op() + " " + c.typeLabel() + " " + (c.tokens() == 1))) {
                        prewarm(c, d);
                        warmup = Math.max(warmup, FIRST_WARMUP_SECONDS);
                    }
                    r = measure(c, d, probe, budgetSeconds, warmup, rotate ? BoundCase.rotationCopies(c) : 1);
                } catch (RuntimeException e) {
                    listener.failed(c, d, e);
                    continue;
                }
                results.add(r);
                listener.result(r);
            }
        }
        return results;
    }

    /**
     * Runs a small case of the same op and type as {@code c} for {@link #PREWARM_SECONDS}, so
     * that the kernel is compiled before {@code c}, whose runs may be too long for that, is timed.
     */
    public static void prewarm(KernelCase c, Device d) {
        KernelCase small = KernelCases.warmupFor(c);
        if (small == null || small.unsupported(d) != null) return;
        try (BoundCase b = BoundCase.bind(small, d)) {
            long end = System.nanoTime() + (long) (PREWARM_SECONDS * 1e9);
            while (System.nanoTime() < end) b.run();
        }
    }

    /** Binds {@code copies} copies of one case to a device, times it after {@code warmupSeconds} of warm-up, and frees it. */
    public static KernelResult measure(KernelCase c, Device d, BandwidthProbe.Result probe, double budgetSeconds, double warmupSeconds,
                                       int copies) {
        try (BoundCase b = BoundCase.bind(c, d, copies)) {
            KernelTimer.Timing t = KernelTimer.time(b::run, budgetSeconds, warmupSeconds, MAX_WARMUP_SECONDS);
            return result(c, d, probe, t.medianNanos() / 1e3, t.minNanos() / 1e3, t.runs(), copies, "hearth");
        }
    }

    /** A result from measured times (in microseconds). */
    public static KernelResult result(KernelCase c, Device d, BandwidthProbe.Result probe, double medianUs, double minUs,
                                      int runs, int copies, String timer) {
        Work w = c.work();
        return new KernelResult(c.name(), c.op(), c.typeLabel(), c.family(), c.shape(), d.name(), threadsOf(d), medianUs, minUs, runs,
                w.bytes(), w.flops(), probe == null ? 0 : probe.bestGbps(), probe == null ? 0 : probe.copyGbps(),
                probe == null ? 0 : probe.triadGbps(), copies, timer);
    }
}
