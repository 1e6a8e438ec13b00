package dev.hearth.llama;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.backend.TensorRef;
import dev.hearth.runtime.dtype.CacheTypes;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.gguf.GgufFile;
import dev.hearth.runtime.sched.Executor;
import dev.hearth.runtime.sched.Schedule;
import dev.hearth.runtime.sched.Scheduler;
import dev.hearth.runtime.tensor.TensorDesc;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;


/**
 * A loaded model on its devices: weights bound (mapped, or uploaded once), the KV cache
 * allocated, and one executor per batch shape, built on first use and kept. {@link #eval}
 * runs tokens at positions and returns logits; nothing is allocated per token.
 */
public final class Engine implements AutoCloseable {
    private final ModelWeights weights;
    private final ModelConfig config;
    private final Placement placement;
    private final int ctx;
    private final int batch;
    private final DType cacheType;
    private final Map<String, TensorRef> leaves = new HashMap<>();
    private final List<Buffer> owned = new ArrayList<>();
    private final Map<Long, ModelGraph> graphs = new HashMap<>();
    private final Map<Long, Executor> executors = new LinkedHashMap<>();
    private final float[] lastLogits;
    private int[] posScratch = new int[0];
    private final int[] lastIndex = new int[1];
    /** See {@link #ringSlack}: fixed by the config, the context and the batch. */
    private final int ringSlack;

    /** Progress of long work at load (uploads, then weight preparation): bytes done of total. */
    public interface Progress {
        void update(long done, long total);

        /** A new phase begins, its updates follow: what it does, in a few words. */
        default void phase(String what) {
        }
    }

    public Engine(ModelWeights weights, Placement placement, int ctx, int batch, DType cacheType, Progress progress) {
        this.weights = weights;
        this.config = weights.config();
        this.placement = placement;
        this.ctx = ctx;
        this.batch = Math.max(1, batch);
        this.cacheType = cacheType;
        this.lastLogits = new float[config.vocabSize()];
        int slack = Integer.MAX_VALUE;
        for (int l = 0; l < config.layers(); l++) {
            int rows = ModelGraph.cacheRows(config, l, ctx, this.batch);
            if (rows < ctx) slack = Math.min(slack, rows - config.window(l));
        }
        this.ringSlack = slack;
        CacheTypes.check(cacheType, config.kvDim());
        try {
            Progress p = progress == null ? (d, t) -> { } : progress;
            bindWeights(p);
            prepareWeights(p);
            List<TensorDesc> caches = ModelGraph.caches(config, cacheType, ctx, this.batch);
            for (int i = 0; i < caches.size(); i++) {
                TensorDesc desc = caches.get(i);
                Device d = placement.device(i / 2); // K and V of each layer, in layer order
                Buffer b = d.allocate(desc.bytes(), BufferUsage.KV);
                owned.add(b);
                leaves.put(desc.name(), new TensorRef(desc, b, 0));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private void bindWeights(Progress progress) {
        GgufFile f = weights.file();
        long total = 0;
        for (var e : weights.all().entrySet()) {
            if (!placement.device(e.getKey(), weights.layerOf(e.getKey())).isHost()) total += e.getValue().bytes();
        }
        long done = 0;
        for (var e : weights.all().entrySet()) {
            String name = e.getKey();
            TensorDesc desc = e.getValue();
            Device d = placement.device(name, weights.layerOf(name));
            MemorySegment data = f.data(weights.source(name)).asSlice(weights.offset(name), desc.bytes());
            Buffer b = d.wrapHost(data, BufferUsage.WEIGHTS);
            if (b == null) {
                b = d.allocate(desc.bytes(), BufferUsage.WEIGHTS);
                b.write(0, data);
                done += desc.bytes();
                progress.update(done, total);
            }
            owned.add(b);
            leaves.put(name, new TensorRef(desc, b, 0));
        }
    }

    /**
     * Lets each device prepare the matrices mul_mat reads from it ({@link Device#prepareWeight}),
     * now rather than at the first token; the embedding table only feeds row lookups (where the
     * embeddings are tied, the head is bound on its own under {@link ModelWeights#OUTPUT}).
     */
    private void prepareWeights(Progress progress) {
        List<String> names = new ArrayList<>();
        long total = 0;
        for (var e : weights.all().entrySet()) {
            if (e.getKey().equals(ModelWeights.EMBED) || e.getValue().rank() < 2) continue;
            names.add(e.getKey());
            total += e.getValue().bytes();
        }
        long done = 0, reported = -1;
        for (String name : names) {
            TensorRef ref = leaves.get(name);
            long prepared = placement.device(name, weights.layerOf(name)).prepareWeight(ref);
            done += ref.desc().bytes();
            if (prepared > 0) {
                if (reported < 0) progress.phase("preparing weights");
                progress.update(done, total);
                reported = done;
            }
        }
        if (reported >= 0 && reported < total) progress.update(total, total); // the rest needed nothing
    }

    /** The type of the KV cache (F32, F16, Q8_0 or Q4_0). */
    public DType cacheType() {
        return cacheType;
    }

    public ModelConfig config() {
        return config;
    }

    public ModelWeights weights() {
        return weights;
    }

    public int contextLength() {
        return ctx;
    }

    public int batchSize() {
        return batch;
    }

    /**
     * How many of the latest positions a session may take back and still reuse the cache before
     * them: a sliding-window layer's ring of R rows keeps the window before a position intact while
     * at most R - window later positions were written (unbounded without ring caches).
     */
    public int ringSlack() {
        return ringSlack;
    }

    public Placement placement() {
        return placement;
    }

    /**
     * Bytes this engine holds on {@code d}: its weights (copies, not mappings of the file), its KV
     * cache, and the largest compute buffer of the batch shapes built so far.
     */
    public long allocatedBytes(Device d) {
        long total = 0;
        for (Buffer b : owned) if (b.device() == d && !isMapped(b)) total += b.size();
        long compute = 0;
        for (Executor e : executors.values()) compute = Math.max(compute, e.schedule().computeBytes().getOrDefault(d, 0L));
        return total + compute;
    }

    private boolean isMapped(Buffer b) {
        MemorySegment host = b.hostSegment();
        if (host == null) return false;
        MemorySegment file = weights.file().mapping();
        return host.address() >= file.address() && host.address() < file.address() + file.byteSize();
    }

    /** The schedule for a batch shape, e.g. to report compute-buffer bytes. */
    public Schedule schedule(int tokens, boolean allLogits) {
        return executor(tokens, allLogits).schedule();
    }

    /**
     * Runs {@code tokens} at positions {@code start..start+n-1}, in batches. Returns the last
     * token's logits (a shared array, valid until the next call), or with {@code allLogits} every
     * token's, [n * vocab].
     */
    public float[] eval(int[] tokens, int start, boolean allLogits) {
        if (tokens.length == 0) throw new IllegalArgumentException("no tokens");
        if (start + tokens.length > ctx) {
            throw new HearthException("the context is full: " + (start + tokens.length) + " tokens need more than the context of " + ctx + " (try --ctx)");
        }
        int vocab = config.vocabSize();
        float[] all = allLogits ? new float[tokens.length * vocab] : null;
        for (int off = 0; off < tokens.length; off += batch) {
            int n = Math.min(batch, tokens.length - off);
            boolean every = allLogits && n > 1;
            Executor ex = executor(n, every);
            if (posScratch.length != n) posScratch = new int[n];
            for (int i = 0; i < n; i++) posScratch[i] = start + off + i;
            ex.setInput(ModelGraph.TOKENS, tokens, off, n);
            ex.setInput(ModelGraph.POSITIONS, posScratch);
            if (n > 1 && !every) {
                lastIndex[0] = n - 1;
                ex.setInput(ModelGraph.LAST, lastIndex);
            }
            ex.run();
            ModelGraph lg = graphs.get(key(n, every));
            if (allLogits) {
                float[] part = every ? new float[n * vocab] : lastLogits;
                ex.read(lg.logits, part);
                System.arraycopy(part, 0, all, off * vocab, n * vocab);
            } else if (off + n == tokens.length) {
                ex.read(lg.logits, lastLogits);
            }
        }
        return allLogits ? all : lastLogits;
    }

    private static long key(int n, boolean all) {
        return n * 2L + (all ? 1 : 0);
    }

    private Executor executor(int n, boolean all) {
        long k = key(n, all);
        Executor ex = executors.get(k);
        if (ex != null) return ex;
        // Keep the one-token graph and the most recent other shape; drop the rest.
        if (executors.size() >= 3) {
            for (var it = executors.entrySet().iterator(); it.hasNext(); ) {
                var e = it.next();
                if (e.getKey() != key(1, false)) {
                    e.getValue().close();
                    graphs.remove(e.getKey());
                    it.remove();
                    break;
                }
            }
        }
        ModelGraph lg = ModelGraph.build(weights, n, ctx, batch, cacheType, all);
        Schedule s = Scheduler.schedule(lg.graph, this::deviceOf, placement.fallbacks());
        ex = s.instantiate(node -> leaves.get(leafName(node)));
        graphs.put(k, lg);
        executors.put(k, ex);
        return ex;
    }

    private static String leafName(Node n) {
        return switch (n.op()) {
            case Op.Weight w -> w.name();
            case Op.State s -> s.name();
            default -> throw new IllegalArgumentException(n.toString());
        };
    }

    private Device deviceOf(Node leaf) {
        TensorRef r = leaves.get(leafName(leaf));
        return r == null ? null : r.buffer().device();
    }

    @Override
    public void close() {
        for (Executor e : executors.values()) e.close();
        executors.clear();
        for (Buffer b : owned) b.close();
        owned.clear();
    }

}
