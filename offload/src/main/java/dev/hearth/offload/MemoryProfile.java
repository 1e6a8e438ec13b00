package dev.hearth.offload;

import dev.hearth.llama.ModelGraph;
import dev.hearth.llama.ModelWeights;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.sched.Schedule;
import dev.hearth.runtime.sched.Scheduler;

import java.util.List;

/**
 * What a model needs in memory, by layer: weight bytes of each block (index 0..n-1; of which
 * {@code layerExperts} are a mixture-of-experts model's expert tensors, of which a generated token
 * reads {@code expertShare}: experts used / experts present), of the
 * embedding and of the output head; KV-cache bytes per token per block for the cache type; and
 * the compute-buffer bytes the scheduler lays out for the worst-case graph (a full batch) on a
 * device that holds the whole model. Pure numbers: the planner takes them as they are.
 */
public record MemoryProfile(int layers, long[] layerWeights, long embeddingWeights, long headWeights,
                            long kvBytesPerTokenPerLayer, long computeBytes, long[] layerExperts, double expertShare,
                            int[] layerRing) {
    public MemoryProfile(int layers, long[] layerWeights, long embeddingWeights, long headWeights, long kvBytesPerTokenPerLayer,
                         long computeBytes) {
        this(layers, layerWeights, embeddingWeights, headWeights, kvBytesPerTokenPerLayer, computeBytes, new long[layers], 1, new int[layers]);
    }

    public MemoryProfile(int layers, long[] layerWeights, long embeddingWeights, long headWeights, long kvBytesPerTokenPerLayer,
                         long computeBytes, long[] layerExperts) {
        this(layers, layerWeights, embeddingWeights, headWeights, kvBytesPerTokenPerLayer, computeBytes, layerExperts, 1, new int[layers]);
    }

    /** KV-cache bytes of block {@code l} at a context of {@code ctx}: a row per position, or a sliding-window layer's ring ({@code layerRing[l]} rows) where smaller. */
    public long kvBytes(int l, int ctx) {
        int ring = layerRing[l];
        return kvBytesPerTokenPerLayer * (ring > 0 ? Math.min(ctx, ring) : ctx);
    }

    /** KV-cache bytes of every block at a context of {@code ctx}. */
    public long totalKvBytes(int ctx) {
        long t = 0;
        for (int l = 0; l < layers; l++) t += kvBytes(l, ctx);
        return t;
    }

    /** Weight bytes of block {@code l} one generated token reads: its dense part, and of its experts the share a token uses. */
    public long tokenBytes(int l) {
        return layerWeights[l] - layerExperts[l] + Math.round(layerExperts[l] * expertShare);
    }

    public static MemoryProfile of(ModelWeights w, DType cacheType, int ctx, int batch) {
        int n = w.config().layers();
        long[] per = new long[n];
        long[] experts = new long[n];
        long embd = 0;
        long head = 0;
        for (var d : w.all().values()) {
            int l = w.layerOf(d.name());
            if (d.name().equals(ModelWeights.ROPE_FREQS)) {
                head += d.bytes(); // small; kept with the head so every device that needs it can have a copy
            } else if (l < 0) {
                embd += d.bytes();
            } else if (l >= n) {
                head += d.bytes();
            } else {
                per[l] += d.bytes();
                if (ModelWeights.isExpert(d.name())) experts[l] += d.bytes();
            }
        }
        long kv = 2L * cacheType.bytesFor(w.config().kvDim());
        var f = w.config().features();
        double share = f.experts() > 0 ? (double) f.expertsUsed() / f.experts() : 1;
        int[] ring = new int[n];
        for (int l = 0; l < n; l++) {
            int rows = ModelGraph.cacheRows(w.config(), l, Integer.MAX_VALUE, batch);
            ring[l] = rows == Integer.MAX_VALUE ? 0 : rows;
        }
        return new MemoryProfile(n, per, embd, head, kv, computeBytes(w, cacheType, ctx, batch), experts, share, ring);
    }

    /** Compute-buffer bytes of the largest graph (a full batch, last-token logits) on one device. */
    public static long computeBytes(ModelWeights w, DType cacheType, int ctx, int batch) {
        Device d = SizingDevice.INSTANCE;
        ModelGraph g = ModelGraph.build(w, Math.max(1, Math.min(batch, ctx)), ctx, Math.max(1, batch), cacheType, false);
        Schedule s = Scheduler.schedule(g.graph, node -> d, List.of(d));
        return s.computeBytes().getOrDefault(d, 0L);
    }

    /** KV-cache bytes of a block that keeps every position (one without a sliding window). */
    public long kvBytes(int ctx) {
        return kvBytesPerTokenPerLayer * ctx;
    }

    public long totalWeights() {
        long t = embeddingWeights + headWeights;
        for (long b : layerWeights) t += b;
        return t;
    }
}
