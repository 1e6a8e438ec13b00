package dev.hearth.backend.cuda;

import dev.hearth.runtime.conformance.ConformanceRunner;
import dev.hearth.runtime.conformance.OpCase;
import dev.hearth.runtime.conformance.OpCases;
import dev.hearth.runtime.dtype.DType;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestFactory;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The conformance cases of Q8_0 and Q4_0 KV caches (kv_store and attention, head dims of 64, 32
 * and 8, a ring) on the CUDA device against the reference device.
 */
@Tag("gpu")
class QuantizedCacheGpuTest {
    private static final ConformanceRunner RUNNER = new ConformanceRunner();

    @TestFactory
    Stream<DynamicTest> matchesTheReference() {
        return OpCases.all().stream()
                .filter(c -> c.type() == DType.Q8_0 || c.type() == DType.Q4_0)
                .filter(c -> c.op().equals("kv_store") || c.op().equals("attention"))
                .map(c -> DynamicTest.dynamicTest(c.name(), () -> check(c)));
    }

    private static void check(OpCase c) {
        ConformanceRunner.Result r = RUNNER.run(c, GpuTesting.device());
        assertEquals(ConformanceRunner.Status.PASS, r.status(), r.toString());
    }
}
