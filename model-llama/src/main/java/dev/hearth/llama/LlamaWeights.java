package dev.hearth.llama;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.dtype.Codecs;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.gguf.GgufFile;
import dev.hearth.runtime.gguf.GgufTensorInfo;
import dev.hearth.runtime.tensor.TensorDesc;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tensors a LLaMA model needs, bound by name from a GGUF file and checked against the
 * config's shapes. Layer -1 holds the embedding; layer {@code layers} the output head.
 */
public final class LlamaWeights {
    public static final String EMBED = "token_embd.weight";
    public static final String OUT_NORM = "output_norm.weight";
    public static final String OUTPUT = "output.weight";
    public static final String ROPE_FREQS = "rope_freqs.weight";

    private final GgufFile file;
    private final LlamaConfig config;
    private final Map<String, TensorDesc> descs = new LinkedHashMap<>();

    public LlamaWeights(GgufFile file, LlamaConfig c) {
        this.file = file;
        this.config = c;
        if (file.tensors().isEmpty()) {
            throw new HearthException(file.path() + ": has no tensors (a vocabulary-only file?); give a model file with weights");
        }
        need(EMBED, c.dim(), c.vocabSize());
        need(OUT_NORM, c.dim());
        if (!c.tiedEmbeddings()) {
            need(OUTPUT, c.dim(), c.vocabSize());
        } else {
            // Tied embeddings: the output head reads the embedding matrix. It is bound a second time
            // under the head's name, so that the head can live on the GPU while the row lookups stay
            // on the CPU (as llama.cpp duplicates it); on the CPU both are the same mapped bytes.
            descs.put(OUTPUT, descs.get(EMBED).withName(OUTPUT));
        }
        if (c.hasRopeFreqs()) need(ROPE_FREQS, c.ropeDims() / 2);
        for (int l = 0; l < c.layers(); l++) {
            need(blk(l, "attn_norm"), c.dim());
            need(blk(l, "attn_q"), c.dim(), c.qDim());
            need(blk(l, "attn_k"), c.dim(), c.kvDim());
            need(blk(l, "attn_v"), c.dim(), c.kvDim());
            need(blk(l, "attn_output"), c.qDim(), c.dim());
            need(blk(l, "ffn_norm"), c.dim());
            need(blk(l, "ffn_gate"), c.dim(), c.ffnDim());
            need(blk(l, "ffn_up"), c.dim(), c.ffnDim());
            need(blk(l, "ffn_down"), c.ffnDim(), c.dim());
        }
    }

    public static String blk(int layer, String name) {
        return "blk." + layer + "." + name + ".weight";
    }

    private void need(String name, long... ne) {
        GgufTensorInfo t = file.tensor(name);
        if (t == null) throw new HearthException(file.path() + ": tensor " + name + " is missing (shape " + Arrays.toString(ne) + " expected)");
        long[] have = t.desc().ne();
        long[] trimmed = trim(have);
        if (!Arrays.equals(trimmed, trim(ne))) {
            throw new HearthException(file.path() + ": tensor " + name + " has shape " + Arrays.toString(have) + ", expected " + Arrays.toString(ne));
        }
        DType type = t.desc().type();
        if (!Codecs.has(type)) {
            throw new HearthException(file.path() + ": " + name + ": type " + type + " is not supported (supported: " + DType.supportedNames() + ")");
        }
        descs.put(name, new TensorDesc(name, type, trim(have)));
    }

    private static long[] trim(long[] ne) {
        int n = ne.length;
        while (n > 1 && ne[n - 1] == 1) n--;
        return Arrays.copyOf(ne, n);
    }

    public GgufFile file() {
        return file;
    }

    public LlamaConfig config() {
        return config;
    }

    public TensorDesc desc(String name) {
        TensorDesc d = descs.get(name);
        if (d == null) throw new IllegalArgumentException("no weight " + name);
        return d;
    }

    public Map<String, TensorDesc> all() {
        return descs;
    }

    /** The weights of one layer; -1 is the embedding, {@code layers} the output head (norm, output, rope factors). */
    public List<String> layerTensors(int layer) {
        List<String> names = new ArrayList<>();
        if (layer < 0) {
            names.add(EMBED);
        } else if (layer >= config.layers()) {
            names.add(OUT_NORM);
            names.add(OUTPUT);
        } else {
            for (String s : List.of("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down")) {
                names.add(blk(layer, s));
            }
        }
        return names;
    }

    /** The layer a weight belongs to (see {@link #layerTensors}); rope factors go with layer 0. */
    public int layerOf(String name) {
        if (name.equals(EMBED)) return -1;
        if (name.equals(OUT_NORM) || name.equals(OUTPUT)) return config.layers();
        if (name.equals(ROPE_FREQS)) return 0;
        if (name.startsWith("blk.")) return Integer.parseInt(name.substring(4, name.indexOf('.', 4)));
        throw new IllegalArgumentException(name);
    }

    /** The file tensor whose bytes a weight is: itself, or the embedding for a tied output head. */
    public String source(String name) {
        return config.tiedEmbeddings() && name.equals(OUTPUT) ? EMBED : name;
    }

    /** True for a weight bound twice from one tensor (the tied output head). */
    public boolean isAlias(String name) {
        return !source(name).equals(name);
    }

    /** Bytes of the file's tensors, each counted once. */
    public long fileBytes() {
        long total = 0;
        for (var e : descs.entrySet()) if (!isAlias(e.getKey())) total += e.getValue().bytes();
        return total;
    }

    /** Bytes of weights one generated token reads: everything but the embedding, of which it reads one row. */
    public long bytesPerToken() {
        long total = 0;
        for (var e : descs.entrySet()) if (!e.getKey().equals(EMBED)) total += e.getValue().bytes();
        return total;
    }

    public long bytes(String name) {
        return desc(name).bytes();
    }
}
