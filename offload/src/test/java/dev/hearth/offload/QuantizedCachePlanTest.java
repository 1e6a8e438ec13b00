package dev.hearth.offload;

import dev.hearth.llama.ModelConfig;
import dev.hearth.llama.ModelWeights;
import dev.hearth.llama.synth.SyntheticModel;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.gguf.GgufFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A quantized KV cache in the memory profile and the plan: a synthetic model of kv dim 32 (the
 * "tiny" shape) profiled with F16, Q8_0 and Q4_0 caches, then planned onto GPUs of every size
 * between nothing and all layers with an F16 cache: a smaller cache never fits fewer layers, and
 * at some sizes fits more.
 */
class QuantizedCachePlanTest {
    private static final int CTX = 512;

    @Test
    void aQuantizedCacheFitsMoreLayers(@TempDir Path dir) {
        Path file = dir.resolve("tiny.gguf");
        SyntheticModel.write(SyntheticModel.shape("tiny"), DType.Q8_0, null, 1, file);
        try (GgufFile f = GgufFile.open(file)) {
            ModelConfig c = ModelConfig.fromGguf(f);
            ModelWeights w = new ModelWeights(f, c);
            assertEquals(32, c.kvDim());
            MemoryProfile f16 = MemoryProfile.of(w, DType.F16, CTX, 64);
            MemoryProfile q8 = MemoryProfile.of(w, DType.Q8_0, CTX, 64);
            MemoryProfile q4 = MemoryProfile.of(w, DType.Q4_0, CTX, 64);
            // K and V rows of 32: 64 bytes each in F16, one block of 34 (Q8_0) or 18 (Q4_0) bytes
            assertEquals(2 * 64, f16.kvBytesPerTokenPerLayer());
            assertEquals(2 * 34, q8.kvBytesPerTokenPerLayer());
            assertEquals(2 * 18, q4.kvBytesPerTokenPerLayer());
            assertEquals(2L * 2 * 34 * CTX, q8.totalKvBytes(CTX));

            long all = layersAndKv(f16) + f16.headWeights() + f16.computeBytes() + (1 << 20);
            int more = 0;
            for (long free = 0; free <= all; free += 4096) {
                int a = layers(f16, free), b = layers(q8, free), d = layers(q4, free);
                assertTrue(b >= a && d >= b, free + " bytes: f16 " + a + ", q8_0 " + b + ", q4_0 " + d + " layers");
                if (b > a) more++;
            }
            assertTrue(more > 0, "no GPU size fits more layers with a Q8_0 cache than with F16");
        }
    }

    private static long layersAndKv(MemoryProfile p) {
        long t = 0;
        for (int l = 0; l < p.layers(); l++) t += p.layerWeights()[l] + p.kvBytes(l, CTX);
        return t;
    }

    /** Layers on one GPU of {@code free} bytes at a context of CTX (never shrunk), with no margin. */
    private static int layers(MemoryProfile p, long free) {
        PlanRequest r = new PlanRequest(p, List.of(new PlanRequest.GpuInfo("gpu", free)), CTX, CTX, 0, PlanRequest.AUTO, null, null, 64L << 30);
        try {
            return Planner.plan(r).gpuLayerCount();
        } catch (dev.hearth.runtime.HearthException e) {
            return 0;
        }
    }
}
