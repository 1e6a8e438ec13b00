package dev.hearth.backend.cpu;

import dev.hearth.runtime.conformance.ConformanceRunner;
import dev.hearth.runtime.conformance.OpCase;
import dev.hearth.runtime.conformance.OpCases;
import dev.hearth.runtime.dtype.DType;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The conformance cases of Q8_0 and Q4_0 KV caches (kv_store and attention, head dims of 64, 32
 * and 8, a ring) on the CPU device against the reference device.
 */
class QuantizedCacheTest {
    private static final CpuDevice DEVICE = new CpuDevice(2);
    private static final ConformanceRunner RUNNER = new ConformanceRunner();

    static List<OpCase> cases() {
        return OpCases.all().stream()
                .filter(c -> c.type() == DType.Q8_0 || c.type() == DType.Q4_0)
                .filter(c -> c.op().equals("kv_store") || c.op().equals("attention"))
                .toList();
    }

    @Test
    void everyQuantizedCacheCaseIsThere() {
        List<OpCase> all = cases();
        for (DType t : new DType[]{DType.Q8_0, DType.Q4_0}) {
            assertTrue(all.stream().anyMatch(c -> c.type() == t && c.op().equals("kv_store")), t + " kv_store");
            assertTrue(all.stream().anyMatch(c -> c.type() == t && c.op().equals("attention") && c.name().contains("head_dim=8 ")), t + " head_dim=8");
        }
    }

    @TestFactory
    Stream<DynamicTest> matchesTheReference() {
        return cases().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            ConformanceRunner.Result r = RUNNER.run(c, DEVICE);
            assertEquals(ConformanceRunner.Status.PASS, r.status(), r.toString());
        }));
    }
}
