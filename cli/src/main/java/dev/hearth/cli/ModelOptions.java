package dev.hearth.cli;

import dev.hearth.llama.ModelConfig;
import dev.hearth.llama.Engine;
import dev.hearth.llama.ModelWeights;
import dev.hearth.llama.Placement;
import dev.hearth.llama.tokenizer.Tokenizer;
import dev.hearth.offload.MemoryProfile;
import dev.hearth.offload.Plan;
import dev.hearth.offload.PlanRequest;
import dev.hearth.offload.Planner;
import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.backend.BackendProvider;
import dev.hearth.runtime.backend.Backends;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.dtype.CacheTypes;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.gguf.GgufFile;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The options every command that loads a model takes, and the loading itself. */
final class ModelOptions {
    static final String[] SPEC = {"m|model", "t|threads", "c|ctx|ctx-size", "backend", "cache-type|ctk|cache-type-k", "cache-type-v|ctv", "b|batch|batch-size",
            "ngl|gpu-layers|n-gpu-layers", "vram-budget", "devices", "split", "cpu-moe|cmoe!", "n-cpu-moe|ncmoe"};

    /** The help of {@link #SPEC}, which every command that loads a model ends its own help with. */
    static final String HELP = """
            model and backend options:
              -m, --model FILE       GGUF model
              -t, --threads N        CPU threads (default: all cores)
              -c, --ctx N            context length (default: the model's, at most 4096)
              --backend B            cpu, opencl, cuda, reference or auto (default auto)
              --cache-type T         KV cache type: f16, f32, q8_0 or q4_0 (default f16); q8_0 takes about half of
                                     f16's memory and q4_0 about a quarter (the model's kv dim must be a multiple of 32)
              --ctk T, --ctv T       as llama.cpp's -ctk and -ctv: the K cache's type, and the V cache's (the same here)
              -b, --batch N          prompt tokens per step (default 512)
              --gpu-layers N         layers on the GPU: auto (default: as many as its free memory holds),
                                     a number (as llama.cpp's -ngl) or all
              --vram-budget SIZE     GPU memory the layers may take, e.g. 6G (one per device, or one for all)
              --devices D1,D2        spread the layers over several devices, e.g. opencl:0,cuda:0
              --split 3,1            the devices' shares of the layers (one per device in --devices)
              --cpu-moe              a mixture-of-experts model's experts stay on the CPU, the rest of each layer on the GPU
              --n-cpu-moe N          the experts of the first N layers stay on the CPU (default with --gpu-layers auto:
                                     as many as needed for every layer's attention and dense weights to fit on the GPU)
            """;

    /** A model file opened and placed on its devices. */
    record Loaded(GgufFile file, ModelConfig config, ModelWeights weights, Tokenizer tokenizer, Engine engine)
            implements AutoCloseable {
        @Override
        public void close() {
            engine.close();
            file.close();
        }
    }

    static String[] with(String... more) {
        String[] all = java.util.Arrays.copyOf(SPEC, SPEC.length + more.length);
        System.arraycopy(more, 0, all, SPEC.length, more.length);
        return all;
    }

    static Path modelPath(Args a) {
        Path p = Path.of(a.require("m", "a model: -m MODEL.gguf"));
        if (!Files.exists(p)) throw new HearthException(p + ": no such file (give a GGUF model with -m)");
        if (Files.isDirectory(p)) throw new HearthException(p + ": is a folder; give a GGUF model file with -m");
        return p;
    }

    static void applyThreads(Args a) {
        if (a.has("t")) {
            int t = a.getInt("t", 0);
            if (t < 1 || t > 1024) throw new Args.UsageException("--threads must be between 1 and 1024, not " + t);
            System.setProperty("hearth.threads", Integer.toString(t));
        }
    }

    static int threads() {
        return Integer.getInteger("hearth.threads", Runtime.getRuntime().availableProcessors());
    }

    static Loaded load(Args a, boolean needTokenizer) {
        return load(a, needTokenizer, true);
    }

    static Loaded load(Args a, boolean needTokenizer, boolean printPlan) {
        return load(a, modelPath(a), needTokenizer, printPlan, null);
    }

    /**
     * The model at {@code path} (not -m), with the rest of the options from {@code a};
     * {@code check} (null: none) sees the placement before any memory is taken and may refuse it
     * by throwing.
     */
    static Loaded load(Args a, Path path, boolean needTokenizer, boolean printPlan, java.util.function.Consumer<Placed> check) {
        applyThreads(a);
        GgufFile f = GgufFile.open(path);
        try {
            ModelConfig c = ModelConfig.fromGguf(f);
            ModelWeights w = new ModelWeights(f, c);
            Tokenizer tok = needTokenizer || f.has("tokenizer.ggml.model") ? Tokenizer.fromGguf(f) : null;
            int ctx = a.getInt("c", Math.min(c.contextLength(), 4096));
            if (ctx < 1) throw new Args.UsageException("--ctx must be at least 1, not " + ctx);
            int batch = a.getInt("b", 512);
            if (batch < 1) throw new Args.UsageException("--batch must be at least 1, not " + batch);
            DType cacheType = cacheType(a, c);
            Placed placed = place(a, w, ctx, batch, cacheType);
            if (check != null) check.accept(placed);
            if (printPlan) System.err.print((placed.plan() != null ? placed.plan() : hostPlan(placed, w, cacheType, ctx, batch)).table());
            Engine e = new Engine(w, placed.placement(), placed.plan() != null ? placed.plan().ctx() : ctx, batch, cacheType,
                    new Progress("uploading weights"));
            return new Loaded(f, c, w, tok, e);
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /**
     * The KV cache type of {@code --cache-type} (default f16), checked against the model: a
     * quantized cache needs a kv dim that is a whole number of blocks.
     */
    static DType cacheType(Args a, ModelConfig c) {
        String name = a.get("cache-type", "f16");
        DType t = CacheTypes.parse(name);
        if (t == null) throw new Args.UsageException("--cache-type takes " + CacheTypes.names() + ", not '" + name + "'");
        String why = CacheTypes.whyNot(t, c.kvDim());
        if (why != null) throw new Args.UsageException("--cache-type " + name + ": " + why);
        String v = a.get("cache-type-v", name);
        if (CacheTypes.parse(v) != t) {
            throw new Args.UsageException("--cache-type-v " + v + ": the K and V caches have one type here; give --cache-type "
                    + v + " for both, or leave -ctv out");
        }
        return t;
    }

    /** The table of a placement on one host device: every layer and the head there, what they take. */
    static Plan hostPlan(Placed placed, ModelWeights w, DType cacheType, int ctx, int batch) {
        int n = w.config().layers();
        MemoryProfile profile = MemoryProfile.of(w, cacheType, ctx, batch);
        int[] layers = new int[n];
        java.util.Arrays.fill(layers, -1);
        String range = (n == 1 ? "0" : "0-" + (n - 1)) + " +head";
        Plan.Row row = new Plan.Row(placed.placement().device(0).name(), range, profile.totalWeights(), profile.totalKvBytes(ctx),
                MemoryProfile.computeBytes(w, cacheType, ctx, batch), Long.MIN_VALUE);
        return new Plan(layers, -1, ctx, List.of(row), List.of());
    }

    /** A placement and the plan it came from (null where everything runs on one host device). */
    record Placed(Placement placement, Plan plan, List<Device> gpus) {
    }

    /**
     * Where the model goes: with a CPU backend, everything on the CPU; with a GPU backend (or
     * --devices), the planner puts as many of the last layers on the device(s) as fit (or
     * --gpu-layers of them) and the rest on the CPU.
     */
    static Placed place(Args a, ModelWeights w, int ctx, int batch, DType cacheType) {
        ModelConfig c = w.config();
        List<Device> gpus = new ArrayList<>();
        if (a.has("devices")) {
            for (String d : a.get("devices", "").split(",")) if (!d.isBlank()) gpus.add(pickDevice(d.trim()));
            if (gpus.isEmpty()) throw new Args.UsageException("--devices needs a list such as opencl:0,cuda:0");
        } else {
            Device main = pickDevice(a.get("backend", "auto"));
            if (!main.isHost()) gpus.add(main); // any device with memory of its own, a CPU-type one (PoCL) too
            if (gpus.isEmpty()) {
                if (a.has("ngl") && !a.get("ngl", "").equals("0")) {
                    System.err.println("note: --gpu-layers has no effect: the backend " + main.name() + " is the CPU");
                }
                return new Placed(Placement.single(main, c.layers(), fallbacks(main)), null, gpus);
            }
        }
        Device cpu = cpuDevice();
        int gpuLayers = parseGpuLayers(a.get("ngl", "auto"));
        long[] budgets = null;
        if (a.has("vram-budget")) {
            String[] parts = a.get("vram-budget", "").split(",");
            budgets = new long[gpus.size()];
            for (int i = 0; i < gpus.size(); i++) budgets[i] = parseSize(parts[Math.min(i, parts.length - 1)].trim(), "--vram-budget");
        }
        double[] split = null;
        if (a.has("split")) {
            String[] parts = a.get("split", "").split("[,/]");
            if (parts.length != gpus.size()) throw new Args.UsageException("--split needs one share per device (" + gpus.size() + "), e.g. 3,1");
            split = new double[parts.length];
            for (int i = 0; i < parts.length; i++) {
                try {
                    split[i] = Double.parseDouble(parts[i].trim());
                } catch (NumberFormatException e) {
                    throw new Args.UsageException("--split: '" + parts[i] + "' is not a number");
                }
                if (split[i] < 0) throw new Args.UsageException("--split shares must not be negative");
            }
        }
        MemoryProfile profile = MemoryProfile.of(w, cacheType, ctx, batch);
        List<PlanRequest.GpuInfo> infos = new ArrayList<>();
        for (Device g : gpus) infos.add(new PlanRequest.GpuInfo(g.name(), g.memory().free()));
        long margin = Long.getLong("hearth.vram.margin", 256L << 20);
        int cpuMoe = cpuMoe(a, c);
        PlanRequest req = new PlanRequest(profile, infos, ctx, Math.min(ctx, 256), margin, gpuLayers, budgets, split, cpu.memory().free(), cpuMoe);
        Plan plan = Planner.plan(req);
        Device[] layer = new Device[c.layers() + 2];
        layer[0] = cpu;
        for (int l = 0; l < c.layers(); l++) layer[l + 1] = plan.layerDevice()[l] < 0 ? cpu : gpus.get(plan.layerDevice()[l]);
        layer[c.layers() + 1] = plan.headDevice() < 0 ? cpu : gpus.get(plan.headDevice());
        Device[] experts = new Device[c.layers()];
        for (int l = 0; l < c.layers(); l++) if (plan.expertsOnCpu()[l]) experts[l] = cpu;
        List<Device> fb = new ArrayList<>(gpus);
        for (Device d : fallbacks(cpu)) if (!fb.contains(d)) fb.add(d);
        return new Placed(new Placement(layer, fb, experts), plan, gpus);
    }

    /** --cpu-moe (every block's experts on the CPU), --n-cpu-moe N (those of blocks 0..N-1), or auto (-1). */
    static int cpuMoe(Args a, ModelConfig c) {
        if (a.has("cpu-moe") && a.has("n-cpu-moe")) throw new Args.UsageException("give --cpu-moe or --n-cpu-moe N, not both");
        if ((a.has("cpu-moe") || a.has("n-cpu-moe")) && !c.moe()) {
            System.err.println("note: --cpu-moe/--n-cpu-moe have no effect: " + c.arch() + " model without experts");
        }
        if (a.flag("cpu-moe")) return c.layers();
        if (!a.has("n-cpu-moe")) return PlanRequest.AUTO;
        int n = a.getInt("n-cpu-moe", 0);
        if (n < 0) throw new Args.UsageException("--n-cpu-moe takes a count of 0 or more layers, not " + n);
        return n;
    }

    static Device cpuDevice() {
        BackendProvider p = Backends.provider("cpu");
        if (p != null && !p.devices().isEmpty()) return p.devices().getFirst();
        return Backends.provider("reference").devices().getFirst();
    }

    static int parseGpuLayers(String v) {
        return switch (v.toLowerCase()) {
            case "auto", "-1" -> PlanRequest.AUTO;
            case "all" -> Integer.MAX_VALUE;
            default -> {
                try {
                    int n = Integer.parseInt(v);
                    if (n < 0) throw new Args.UsageException("--gpu-layers takes auto, all or a count of 0 or more, not " + v);
                    yield n;
                } catch (NumberFormatException e) {
                    throw new Args.UsageException("--gpu-layers takes auto, all or a number, not '" + v + "'");
                }
            }
        };
    }

    /** "4G", "512M", "1.5GiB", "1000000" (bytes). */
    static long parseSize(String v, String option) {
        String s = v.trim().toUpperCase().replace("IB", "").replace("B", "");
        double mult = 1;
        if (s.endsWith("K")) mult = 1L << 10;
        else if (s.endsWith("M")) mult = 1L << 20;
        else if (s.endsWith("G")) mult = 1L << 30;
        else if (s.endsWith("T")) mult = 1L << 40;
        if (mult > 1) s = s.substring(0, s.length() - 1);
        try {
            double d = Double.parseDouble(s);
            if (d < 0) throw new NumberFormatException();
            return (long) (d * mult);
        } catch (NumberFormatException e) {
            throw new Args.UsageException(option + " takes a size such as 4G or 512M, not '" + v + "'");
        }
    }

    static List<Device> fallbacks(Device main) {
        List<Device> f = new ArrayList<>();
        f.add(main);
        for (String n : List.of("cpu", "reference")) {
            BackendProvider p = Backends.provider(n);
            if (p != null && !p.devices().isEmpty() && !f.contains(p.devices().getFirst())) f.add(p.devices().getFirst());
        }
        return f;
    }

    /** The device a --backend value names; "auto" takes the first GPU found, else the CPU. */
    static Device pickDevice(String backend) {
        String b = backend.toLowerCase();
        if (b.equals("auto")) {
            for (String n : List.of("cuda", "opencl")) {
                BackendProvider p = Backends.provider(n);
                if (p == null) continue;
                for (Device d : p.devices()) if (d.isGpu()) return d;
            }
            b = "cpu";
        }
        String name = b;
        int index = 0;
        int colon = b.indexOf(':');
        if (colon > 0) {
            name = b.substring(0, colon);
            try {
                index = Integer.parseInt(b.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new Args.UsageException("--backend " + backend + ": the part after ':' must be a device number");
            }
        }
        BackendProvider p = Backends.provider(name);
        if (p == null) {
            List<String> names = Backends.providers().stream().map(BackendProvider::name).toList();
            throw new Args.UsageException("unknown backend '" + backend + "' (available: auto, " + String.join(", ", names) + ")");
        }
        List<Device> ds = p.devices();
        if (ds.isEmpty()) throw new HearthException("--backend " + name + ": " + p.unavailableReason() + "; found: " + found());
        if (index < 0 || index >= ds.size()) throw new HearthException("--backend " + backend + ": there are " + ds.size() + " " + name + " devices");
        return ds.get(index);
    }

    static String found() {
        List<String> all = new ArrayList<>();
        for (BackendProvider p : Backends.providers()) for (Device d : p.devices()) all.add(d.name());
        return all.isEmpty() ? "nothing" : String.join(", ", all);
    }
}
