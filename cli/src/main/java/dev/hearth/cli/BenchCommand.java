package dev.hearth.cli;

import dev.hearth.bench.EndToEndBench;
import dev.hearth.bench.kernels.BandwidthProbe;
import dev.hearth.llama.synth.SyntheticModel;
import dev.hearth.runtime.backend.BackendProvider;
import dev.hearth.runtime.backend.Backends;
import dev.hearth.runtime.backend.Device;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code hearth bench}: prompt-processing and generation tokens per second, as llama-bench
 * measures them. Without {@code -m} it writes a synthetic llama-3.2-1b once to the cache folder
 * and benchmarks it on every backend found.
 */
final class BenchCommand {
    static final String HELP = """
            usage: hearth bench [-m MODEL] [-p 512] [-n 128] [-r 5] [-t THREADS] [--backend B] [-o md|json]
              -p N        prompt tokens for the prompt test (0 to skip; default 512)
              -n N        tokens for the generation test (0 to skip; default 128)
              -r N        repetitions (default 5)
              --type T    with no -m: the type of the synthetic llama-3.2-1b (q4_0 default, q8_0, q4_k, f16)
              --shape S   with no -m: the synthetic shape (default llama-3.2-1b)
              -o FORMAT   md (default) or json (llama-bench's field names, plus gbps and probe_gbps)
              --no-probe  skip the memory bandwidth probe that generation's GB/s is set against
            without -m, a synthetic model is written once to $HEARTH_CACHE (default ~/.cache/hearth)
            and every backend found is benchmarked
            kernels:
              --kernels   each kernel at real model shapes, with GB/s (hearth bench --kernels --help)
              --list      with --kernels: print the selected cases, run nothing
              --compare A.json B.json   B's speed over A's per kernel case
            """ + ModelOptions.HELP;

    static int run(String[] argv) {
        if (java.util.Arrays.asList(argv).contains("--kernels") || java.util.Arrays.asList(argv).contains("--compare")) {
            return KernelBenchCommand.run(argv);
        }
        if (Main.help(argv, HELP)) return 0;
        String[] spec = ModelOptions.with("p|n-prompt", "n|n-gen", "r|repetitions", "o|output", "type", "shape", "no-probe!");
        Args a = new Args("bench", argv, 0, spec);
        int np = a.getInt("p", 512);
        int ng = a.getInt("n", 128);
        int reps = a.getInt("r", 5);
        if (np < 0 || ng < 0 || reps < 1) throw new Args.UsageException("-p and -n must be 0 or more, -r at least 1");
        String format = a.get("o", "md");
        if (!format.equals("md") && !format.equals("json")) throw new Args.UsageException("-o takes md or json, not '" + format + "'");
        ModelOptions.applyThreads(a);
        List<String> backends = new ArrayList<>();
        String[] base = argv;
        if (!a.has("m")) {
            Path model = synthetic(a.get("shape", "llama-3.2-1b"), a.get("type", "q4_0"));
            base = RunCommand.concat(argv, "-m", model.toString());
            if (!a.has("backend")) {
                // The CPU backend and every GPU. An OpenCL device that is the CPU itself (PoCL) runs
                // the same cores many times slower; it is named, not measured, unless asked for.
                for (BackendProvider p : Backends.providers()) {
                    if (p.name().equals("reference")) continue;
                    for (int i = 0; i < p.devices().size(); i++) {
                        Device d = p.devices().get(i);
                        String name = p.devices().size() > 1 ? p.name() + ":" + i : p.name();
                        if (p.name().equals("cpu") || d.isGpu()) {
                            backends.add(name);
                        } else {
                            System.err.printf("bench: skipping %s (not a GPU: it shares the CPU's cores); --backend %s measures it%n", d.name(), name);
                        }
                    }
                }
            }
        }
        if (backends.isEmpty()) backends.add(a.get("backend", "auto"));
        List<String> rows = new ArrayList<>();
        JsonNumbers nums = new JsonNumbers("bench");
        if (format.equals("md")) {
            System.out.println("| model | size | params | backend | threads | test | t/s | GB/s | probe GB/s | % of probe |");
            System.out.println("| --- | ---: | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: |");
        }
        int ctx = Math.max(np, ng) + 16;
        for (String b : backends) {
            String[] args = RunCommand.concat(base, "--backend", b);
            if (!a.has("c")) args = RunCommand.concat(args, "--ctx", Integer.toString(ctx));
            if (!a.has("b")) args = RunCommand.concat(args, "--batch", Integer.toString(Math.max(1, np)));
            Args ba = new Args("bench", args, 0, spec);
            try (ModelOptions.Loaded m = ModelOptions.load(ba, false)) {
                Device d = m.engine().placement().device(0);
                String modelType = m.file().getString("general.name", m.file().path().getFileName().toString());
                long size = m.weights().fileBytes();
                long perToken = EndToEndBench.bytesPerToken(m.engine());
                List<EndToEndBench.Result> results = new ArrayList<>();
                if (np > 0) {
                    System.err.printf("bench: pp%d on %s (%d repetitions after a warm-up)...%n", np, d.name(), reps);
                    results.add(EndToEndBench.prompt(m.engine(), np, reps));
                }
                if (ng > 0) {
                    System.err.printf("bench: tg%d on %s (%d repetitions after a warm-up)...%n", ng, d.name(), reps);
                    results.add(EndToEndBench.generation(m.engine(), ng, reps));
                }
                int threads = ModelOptions.threads();
                // Generation reads every weight once per token: its GB/s against the device's
                // memory bandwidth, measured by the kernel bench's probe here, in the same run.
                double probe = 0;
                if (ng > 0 && !a.flag("no-probe")) {
                    System.err.printf("bench: memory bandwidth probe on %s...%n", d.name());
                    probe = BandwidthProbe.measure(d, threads).bestGbps();
                }
                for (EndToEndBench.Result r : results) {
                    double gbps = r.nGen() > 0 ? r.avgTs() * perToken / 1e9 : 0;
                    boolean share = r.nGen() > 0 && probe > 0;
                    if (format.equals("md")) {
                        System.out.printf(Locale.ROOT, "| %s | %.2f GiB | %.2f B | %s | %d | %s | %.2f ± %.2f | %s | %s | %s |%n", modelType,
                                size / (double) (1L << 30), m.weights().parameters() / 1e9, d.name(), threads, r.test(), r.avgTs(),
                                r.stddevTs(), r.nGen() > 0 ? String.format(Locale.ROOT, "%.1f", gbps) : "",
                                share ? String.format(Locale.ROOT, "%.1f", probe) : "", share ? String.format(Locale.ROOT, "%.0f%%", 100 * gbps / probe) : "");
                        System.out.flush();
                    } else {
                        rows.add(jsonRow(nums, modelType, size, m.weights().parameters(), b, d.name(), threads, r.nPrompt(), r.nGen(), r.test(),
                                r.avgTs(), r.stddevTs(), gbps, share ? probe : 0));
                    }
                }
            }
        }
        if (format.equals("json")) System.out.println("[\n  " + String.join(",\n  ", rows) + "\n]");
        nums.warn();
        return 0;
    }

    /** One row of {@code -o json}, with llama-bench's field names; a rate that is not finite is null. */
    static String jsonRow(JsonNumbers nums, String modelType, long size, long params, String backend, String device, int threads,
                          int nPrompt, int nGen, String test, double avgTs, double stddevTs, double gbps, double probeGbps) {
        return String.format(Locale.ROOT,
                "{\"model_type\": %s, \"model_size\": %d, \"model_n_params\": %d, \"backends\": %s, \"device\": %s, "
                        + "\"n_threads\": %d, \"n_prompt\": %d, \"n_gen\": %d, \"test\": %s, \"avg_ts\": %s, \"stddev_ts\": %s, \"gbps\": %s, "
                        + "\"probe_gbps\": %s}",
                json(modelType), size, params, json(backend), json(device), threads, nPrompt, nGen, json(test),
                nums.num("avg_ts", "%.4f", avgTs), nums.num("stddev_ts", "%.4f", stddevTs), nums.num("gbps", "%.3f", gbps),
                nums.num("probe_gbps", "%.3f", probeGbps));
    }

    /** {@code s} as a JSON string, quotes included. */
    static String json(String s) {
        return dev.hearth.runtime.json.Json.quote(s);
    }

    static Path cacheDir() {
        String env = System.getenv("HEARTH_CACHE");
        return env != null ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "hearth");
    }

    /** The synthetic model for a shape and type, written on first use. */
    static Path synthetic(String shape, String type) {
        var s = SyntheticModel.shape(shape);
        var t = SyntheticModel.type(type);
        Path p = cacheDir().resolve("models").resolve("synth-" + s.name() + "-" + t.name().toLowerCase() + ".gguf");
        if (!Files.exists(p)) {
            try {
                Files.createDirectories(p.getParent());
            } catch (java.io.IOException e) {
                throw new dev.hearth.runtime.HearthException(p.getParent() + ": cannot create the cache folder: " + e.getMessage() + " (set HEARTH_CACHE)");
            }
            System.err.printf("writing a synthetic %s %s model to %s (once)...%n", s.name(), t.name().toLowerCase(), p);
            SyntheticModel.write(s, t, null, 42, p);
        }
        return p;
    }
}
