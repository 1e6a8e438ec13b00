package dev.hearth.cli;

import dev.hearth.llama.LlamaConfig;
import dev.hearth.llama.LlamaEngine;
import dev.hearth.llama.LlamaWeights;
import dev.hearth.llama.Placement;
import dev.hearth.llama.tokenizer.Tokenizer;
import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.backend.BackendProvider;
import dev.hearth.runtime.backend.Backends;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.gguf.GgufFile;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The options every command that loads a model takes, and the loading itself. */
final class ModelOptions {
    static final String[] SPEC = {"m|model", "t|threads", "c|ctx|ctx-size", "backend", "cache-type|ctk", "b|batch|batch-size",
            "ngl|gpu-layers|n-gpu-layers", "vram-budget", "devices", "split"};

    /** A model file opened and placed on its devices. */
    record Loaded(GgufFile file, LlamaConfig config, LlamaWeights weights, Tokenizer tokenizer, LlamaEngine engine)
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
        applyThreads(a);
        Path path = modelPath(a);
        GgufFile f = GgufFile.open(path);
        try {
            LlamaConfig c = LlamaConfig.fromGguf(f);
            LlamaWeights w = new LlamaWeights(f, c);
            Tokenizer tok = needTokenizer || f.has("tokenizer.ggml.model") ? Tokenizer.fromGguf(f) : null;
            int ctx = a.getInt("c", Math.min(c.contextLength(), 4096));
            if (ctx < 1) throw new Args.UsageException("--ctx must be at least 1, not " + ctx);
            int batch = a.getInt("b", 512);
            if (batch < 1) throw new Args.UsageException("--batch must be at least 1, not " + batch);
            DType cacheType = switch (a.get("cache-type", "f16").toLowerCase()) {
                case "f16" -> DType.F16;
                case "f32" -> DType.F32;
                default -> throw new Args.UsageException("--cache-type takes f16 or f32, not '" + a.get("cache-type", "") + "'");
            };
            Placement placement = placement(a, c);
            LlamaEngine e = new LlamaEngine(w, placement, ctx, batch, cacheType, new Progress("uploading weights"));
            return new Loaded(f, c, w, tok, e);
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    static Placement placement(Args a, LlamaConfig c) {
        Device main = pickDevice(a.get("backend", "auto"));
        return Placement.single(main, c.layers(), fallbacks(main));
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
