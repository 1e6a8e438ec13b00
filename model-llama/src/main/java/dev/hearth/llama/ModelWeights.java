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
 * The tensors a model needs, as its architecture lists them ({@link Architecture#weights}), bound
 * by name from a GGUF file and checked against the config's shapes: a missing tensor or a wrong
 * shape is a one-line error naming it. A weight is a whole file tensor, the same tensor under a
 * second name (the tied output head), or a range of rows of a fused tensor (Phi-3's
 * {@code attn_qkv}): a view at a byte offset, never a copy. Layer -1 holds the embedding; layer
 * {@code layers} the output head.
 */
public final class ModelWeights {
    public static final String EMBED = "token_embd.weight";
    public static final String OUT_NORM = "output_norm.weight";
    public static final String OUTPUT = "output.weight";
    public static final String ROPE_FREQS = "rope_freqs.weight";

    /** Where a weight's bytes are: file tensor {@code source} from byte {@code offset}. */
    private record Binding(TensorDesc desc, String source, long offset) {
    }

    private final GgufFile file;
    private final ModelConfig config;
    private final Map<String, Binding> bound = new LinkedHashMap<>();
    private final Map<String, TensorDesc> descs = new LinkedHashMap<>();

    public ModelWeights(GgufFile file, ModelConfig c) {
        this.file = file;
        this.config = c;
        if (file.tensors().isEmpty()) {
            throw new HearthException(file.path() + ": has no tensors (a vocabulary-only file?); give a model file with weights");
        }
        c.architecture().weights(c, new Binder());
    }

    /**
     * What an architecture declares its weights with: the one list of a model's tensors and their
     * shapes, which binding checks against a file and {@code hearth synth} writes.
     */
    public interface Table {
        ModelConfig config();

        /** A tensor the model cannot run without, of shape {@code ne}. */
        void need(String name, long... ne);

        /** A tensor used where the file has it (a bias, say); true where it does. */
        boolean optional(String name, long... ne);

        /** True where the file holds a tensor of that name. */
        boolean has(String name);

        /**
         * Rows {@code first..first+rows} of the fused matrix {@code source} [k, totalRows] as the
         * weight {@code name} [k, rows]: a view of the file's bytes.
         */
        void slice(String name, String source, long k, long totalRows, long first, long rows);

        /**
         * The embedding, the output norm, the output head (the embedding bound a second time
         * where the file ties them) and Llama 3.1's rope factors where present.
         */
        default void embeddingAndHead() {
            ModelConfig c = config();
            need(EMBED, c.dim(), c.vocabSize());
            need(OUT_NORM, c.dim());
            if (!c.tiedEmbeddings()) need(OUTPUT, c.dim(), c.vocabSize());
            else tiedHead();
            if (c.hasRopeFreqs()) need(ROPE_FREQS, c.ropeDims() / 2);
        }

        /** The output head read from the embedding matrix. */
        void tiedHead();
    }

    /** The table that binds each weight from the file, checking it. */
    private final class Binder implements Table {
        @Override
        public ModelConfig config() {
            return config;
        }

        @Override
        public void need(String name, long... ne) {
            bind(name, check(name, ne), name, 0);
        }

        @Override
        public boolean optional(String name, long... ne) {
            if (file.tensor(name) == null) return false;
            need(name, ne);
            return true;
        }

        @Override
        public boolean has(String name) {
            return file.tensor(name) != null;
        }

        @Override
        public void slice(String name, String source, long k, long totalRows, long first, long rows) {
            TensorDesc src = check(source, k, totalRows);
            bind(name, new TensorDesc(name, src.type(), new long[]{k, rows}), source, first * src.rowBytes());
        }

        @Override
        public void tiedHead() {
            // Tied embeddings: the output head reads the embedding matrix. It is bound a second time
            // under the head's name, so that the head can live on the GPU while the row lookups stay
            // on the CPU (as llama.cpp duplicates it); on the CPU both are the same mapped bytes.
            bind(OUTPUT, descs.get(EMBED).withName(OUTPUT), EMBED, 0);
        }
    }

    public static String blk(int layer, String name) {
        return "blk." + layer + "." + name + ".weight";
    }

    /** True for the expert tensors of a mixture-of-experts layer ({@code blk.L.ffn_*_exps.*}), which may live apart from the rest of their block. */
    public static boolean isExpert(String name) {
        return name.contains("_exps.");
    }

    /** The bias of a layer's tensor: {@code blk.L.NAME.bias}. */
    public static String bias(int layer, String name) {
        return "blk." + layer + "." + name + ".bias";
    }

    private TensorDesc check(String name, long... ne) {
        GgufTensorInfo t = file.tensor(name);
        if (t == null) throw new HearthException(file.path() + ": tensor " + name + " is missing (shape " + Arrays.toString(ne) + " expected for " + config.arch() + ")");
        long[] have = t.desc().ne();
        if (!Arrays.equals(trim(have), trim(ne))) {
            throw new HearthException(file.path() + ": tensor " + name + " has shape " + Arrays.toString(have) + ", expected " + Arrays.toString(ne));
        }
        DType type = t.desc().type();
        if (!Codecs.has(type)) {
            throw new HearthException(file.path() + ": " + name + ": type " + type + " is not supported (supported: " + DType.supportedNames() + ")");
        }
        return new TensorDesc(name, type, trim(have));
    }

    private void bind(String name, TensorDesc desc, String source, long offset) {
        bound.put(name, new Binding(desc, source, offset));
        descs.put(name, desc);
    }

    private static long[] trim(long[] ne) {
        int n = ne.length;
        while (n > 1 && ne[n - 1] == 1) n--;
        return Arrays.copyOf(ne, n);
    }

    public GgufFile file() {
        return file;
    }

    public ModelConfig config() {
        return config;
    }

    public boolean has(String name) {
        return descs.containsKey(name);
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
        for (String n : descs.keySet()) if (layerOf(n) == layer && !n.equals(ROPE_FREQS)) names.add(n);
        if (layer >= config.layers() && descs.containsKey(ROPE_FREQS)) names.add(ROPE_FREQS);
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

    /** The file tensor whose bytes a weight is: itself, the embedding for a tied output head, or the fused tensor of a slice. */
    public String source(String name) {
        Binding b = bound.get(name);
        return b == null ? name : b.source();
    }

    /** The byte offset of a weight in its {@link #source} tensor (0 but for slices of a fused tensor). */
    public long offset(String name) {
        Binding b = bound.get(name);
        return b == null ? 0 : b.offset();
    }

    /** True for a weight bound a second time from a tensor that is bound itself (the tied output head). */
    public boolean isAlias(String name) {
        String s = source(name);
        return !s.equals(name) && descs.containsKey(s);
    }

    /** Bytes of the file's tensors the weights read, each counted once (a fused tensor whole). */
    public long fileBytes() {
        long total = 0;
        for (String s : sources()) total += file.tensor(s).desc().bytes();
        return total;
    }

    /** Parameters: the elements of the file's tensors the weights read, each counted once. */
    public long parameters() {
        long total = 0;
        for (String s : sources()) total += file.tensor(s).desc().elements();
        return total;
    }

    private java.util.Set<String> sources() {
        java.util.Set<String> s = new java.util.LinkedHashSet<>();
        for (Binding b : bound.values()) s.add(b.source());
        return s;
    }

    /**
     * Bytes of weights one generated token reads: everything but the embedding, of which it reads
     * one row, and of a mixture-of-experts model's expert tensors the share of the experts it uses.
     */
    public long bytesPerToken() {
        var f = config.features();
        double share = f.experts() > 0 ? (double) f.expertsUsed() / f.experts() : 1;
        long total = 0;
        for (var e : descs.entrySet()) {
            if (e.getKey().equals(EMBED)) continue;
            total += isExpert(e.getKey()) ? Math.round(e.getValue().bytes() * share) : e.getValue().bytes();
        }
        return total;
    }

    public long bytes(String name) {
        return desc(name).bytes();
    }
}
