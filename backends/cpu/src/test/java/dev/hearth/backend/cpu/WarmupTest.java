package dev.hearth.backend.cpu;

import dev.hearth.runtime.dtype.DType;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The warm-up runs every weight type's products, both layouts, without failing. */
class WarmupTest {
    @Test
    void everyWeightTypeRuns() {
        for (DType t : CpuDevice.WEIGHT_TYPES) {
            for (boolean repack : new boolean[] {true, false}) {
                int rounds = Warmup.run(t, repack, 50_000_000L);
                assertTrue(rounds >= 1, t + (repack ? " repacked" : "") + ": the warm-up failed (" + rounds + ")");
            }
        }
    }
}
