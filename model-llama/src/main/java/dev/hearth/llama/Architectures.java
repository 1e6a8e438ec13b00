package dev.hearth.llama;

import dev.hearth.llama.arch.CommandR;
import dev.hearth.llama.arch.Gemma2;
import dev.hearth.llama.arch.Gemma3;
import dev.hearth.llama.arch.GptOss;
import dev.hearth.llama.arch.Llama;
import dev.hearth.llama.arch.Phi3;
import dev.hearth.llama.arch.Qwen2;
import dev.hearth.llama.arch.Qwen3;
import dev.hearth.llama.arch.Qwen3Moe;
import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.gguf.GgufFile;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** The registry: {@code general.architecture} to its {@link Architecture}. */
public final class Architectures {
    private static final Map<String, Architecture> BY_NAME = new LinkedHashMap<>();

    static {
        for (Architecture a : new Architecture[]{new Llama("llama"), new Llama("mistral"), new Qwen2(), new Qwen3(),
                new Qwen3Moe(), new Gemma2(), new Gemma3(), new Phi3(), new CommandR(), new GptOss()}) {
            BY_NAME.put(a.name(), a);
        }
    }

    private Architectures() {
    }

    /** The names of every supported architecture, in registry order. */
    public static Set<String> names() {
        return BY_NAME.keySet();
    }

    /** The architecture named {@code name}, or null. */
    public static Architecture get(String name) {
        return BY_NAME.get(name);
    }

    /** The config of {@code f}'s model; a one-line error where the file names no supported architecture. */
    public static ModelConfig config(GgufFile f) {
        String arch = f.getString("general.architecture", null);
        if (arch == null) throw new HearthException(f.path() + ": no general.architecture in the metadata; is it a model file?");
        Architecture a = BY_NAME.get(arch);
        if (a == null) {
            throw new HearthException(f.path() + ": architecture '" + arch + "' is not supported (supported: " + String.join(", ", names()) + ")");
        }
        return a.config(f);
    }
}
