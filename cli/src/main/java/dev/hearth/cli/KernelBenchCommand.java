package dev.hearth.cli;

import dev.hearth.bench.kernels.BandwidthProbe;
import dev.hearth.bench.kernels.BoundCase;
import dev.hearth.bench.kernels.KernelBench;
import dev.hearth.bench.kernels.KernelCase;
import dev.hearth.bench.kernels.KernelCases;
import dev.hearth.bench.kernels.KernelJmh;
import dev.hearth.bench.kernels.KernelResult;
import dev.hearth.bench.kernels.Reports;
import dev.hearth.bench.kernels.Selection;
import dev.hearth.runtime.backend.Device;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code hearth bench --kernels}: each kernel case (an op at a real model's shape) on each device,
 * with the time, GB/s and GFLOP/s, next to the device's bandwidth as a copy/triad probe measures
 * it. {@code hearth bench --compare A.json B.json}: B's speed over A's for the cases both hold.
 */
final class KernelBenchCommand {
    static final String HELP = """
            usage: hearth bench --kernels [--backend B] [--type T] [--op OP] [--shape S] [--tokens N]
                                [--time SECONDS] [-t THREADS] [-o md|json|FILE.json] [--hot] [--list] [--jmh]
                   hearth bench --compare A.json B.json
              --backend B   cpu, opencl, opencl:1, cuda, reference, all (default: every device but reference)
              --type T      weight or cache types: q4_0,q8_0,... or all (default for mul_mat: %s)
              --op OP       mul_mat, attention, rms_norm, rope, swiglu, ... (default: all)
              --shape S     1b (Llama-3.2-1B), 8b (Llama-3-8B), ops (the conformance cases), all (default: 1b,8b)
              --tokens N    tokens per run: 1 (generation), 512 (a prompt), 1,512 or all (default: 1)
              --time S      seconds of timed runs per case (default 0.3), after a warm-up until the runs
                            stop getting faster (3 s at least for the first case of an op and type)
              -t N          CPU threads (the probe uses as many)
              -o FORMAT     md (default) or json to stdout; a file name (FILE.json, FILE.md or FILE)
                            writes FILE.json and FILE.md and prints the table
              --out FILE    the same as -o FILE
              --hot         run every time on the same copy of the weights, which a cache may hold
                            (default: go round copies spanning %s MiB, so that they come from memory)
              --list        print the selected cases and their bytes and FLOPs, run nothing
              --jmh         time with JMH (a forked JVM per case; --time is each measured iteration's length)
              --compare A B two JSON files of earlier runs: prints B's speed over A's per case
            """;

    private KernelBenchCommand() {
    }

    static int run(String[] argv) {
        if (Main.help(argv, String.format(Locale.ROOT, HELP, Selection.defaultTypes(), BoundCase.ROTATION_BYTES >> 20))) return 0;
        Args a = new Args("bench", argv, 0, "kernels!", "compare!", "backend", "type", "op", "shape", "tokens", "time",
                "t|threads", "o|output", "out", "list!", "jmh!", "hot!");
        if (a.flag("compare")) return compare(a);
        if (!a.positional().isEmpty()) throw new Args.UsageException("unexpected argument '" + a.positional().getFirst() + "' (see: hearth bench --kernels --help)");
        ModelOptions.applyThreads(a);
        int threads = a.getInt("t", 0);
        double budget = a.getFloat("time", 0.3f);
        if (!(budget > 0) || budget > 600) throw new Args.UsageException("--time takes seconds between 0 and 600, not " + a.get("time", ""));
        String format = "md";
        Path out = null;
        String o = a.get("o", null);
        if (o != null) {
            if (o.equals("md") || o.equals("json")) format = o;
            else out = Path.of(o);
        }
        if (a.has("out")) out = Path.of(a.get("out", ""));

        Selection sel = Selection.parse(a.get("op", null), a.get("type", null), a.get("shape", null), a.get("tokens", null));
        List<KernelCase> cases = sel.filter(KernelCases.all());
        if (cases.isEmpty()) throw new Args.UsageException("no kernel case matches these filters (see: hearth bench --kernels --list)");
        if (a.flag("list")) {
            for (KernelCase c : cases) {
                System.out.printf(Locale.ROOT, "%-62s %12d bytes %15d flops%n", c.name(), c.work().bytes(), c.work().flops());
            }
            System.out.printf("%d case(s)%n", cases.size());
            return 0;
        }
        List<Device> devices = KernelBench.devices(a.get("backend", null), threads);
        boolean md = format.equals("md");
        Printer printer = new Printer(md);
        List<KernelResult> results = a.flag("jmh")
                ? KernelJmh.run(devices, cases, budget, threads, !a.flag("hot"), printer)
                : KernelBench.run(devices, cases, budget, !a.flag("hot"), printer);
        printer.summary();
        if (!md) System.out.print(Reports.json(results));
        if (out != null) {
            for (Path p : Reports.write(out, results)) System.err.println("wrote " + p);
        }
        return results.isEmpty() ? 1 : 0;
    }

    /** Prints the probe of each device and a row per case as they come; counts the skips. */
    private static final class Printer implements KernelBench.Listener {
        private final boolean md;
        private boolean headerDone;
        private final Map<String, Integer> skips = new LinkedHashMap<>();
        private int failures;

        Printer(boolean md) {
            this.md = md;
        }

        @Override
        public void probe(BandwidthProbe.Result p) {
            String line = String.format(Locale.ROOT, "%s: memory bandwidth probe: copy %.1f GB/s, triad %.1f GB/s (%s%s)", p.device(),
                    p.copyGbps(), p.triadGbps(), p.method(), p.threads() > 0 ? ", " + p.threads() + " threads" : "");
            if (md) {
                if (headerDone) System.out.println();
                System.out.println(line);
                System.out.println();
                System.out.print(Reports.header());
                headerDone = true;
            } else {
                System.err.println(line);
            }
            System.out.flush();
        }

        @Override
        public void result(KernelResult r) {
            if (md) {
                System.out.println(Reports.row(r));
                System.out.flush();
            } else {
                System.err.printf(Locale.ROOT, "%s on %s: %.1f µs, %.1f GB/s%n", r.kernelCase(), r.deviceFamily(), r.medianUs(), r.gbps());
            }
        }

        @Override
        public void skipped(KernelCase c, Device device, String why) {
            skips.merge(device.name() + ": " + why, 1, Integer::sum);
        }

        @Override
        public void failed(KernelCase c, Device device, RuntimeException e) {
            failures++;
            String msg = e.getMessage() != null ? e.getMessage() : e.toString();
            System.err.println(c.name() + " on " + device.name() + " failed: " + msg);
            if (System.getenv("HEARTH_DEBUG") != null) e.printStackTrace();
        }

        void summary() {
            if (failures > 0) System.err.println(failures + " case(s) failed (see above)");
            if (skips.isEmpty()) return;
            int total = skips.values().stream().mapToInt(Integer::intValue).sum();
            System.err.println("skipped " + total + " case(s) a device does not support:");
            int shown = 0;
            for (var e : skips.entrySet()) {
                if (shown++ == 8) {
                    System.err.println("  ...");
                    break;
                }
                System.err.println("  " + e.getValue() + " x " + e.getKey());
            }
        }
    }

    private static int compare(Args a) {
        List<String> files = a.positional();
        if (files.size() != 2) throw new Args.UsageException("--compare takes two JSON files: hearth bench --compare A.json B.json");
        Path pa = Path.of(files.get(0));
        Path pb = Path.of(files.get(1));
        System.out.print(Reports.compare(Reports.read(pa), Reports.read(pb), pa.toString(), pb.toString()));
        return 0;
    }
}
