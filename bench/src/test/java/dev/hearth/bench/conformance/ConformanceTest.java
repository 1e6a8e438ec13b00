package dev.hearth.bench.conformance;

import dev.hearth.runtime.backend.BackendProvider;
import dev.hearth.runtime.backend.Backends;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.conformance.ConformanceRunner;
import dev.hearth.runtime.conformance.ConformanceRunner.Result;
import dev.hearth.runtime.conformance.ConformanceRunner.Status;
import dev.hearth.runtime.conformance.OpCase;
import dev.hearth.runtime.conformance.OpCases;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * Every conformance case on every device that the backends on the class path find (the reference
 * device itself excepted), against the reference backend. A case a device does not support is
 * skipped with the device's reason, never passed.
 */
class ConformanceTest {
    private static final ConformanceRunner RUNNER = new ConformanceRunner();

    @TestFactory
    Stream<DynamicNode> everyCaseOnEveryDevice() {
        List<Device> devices = Backends.allDevices().stream().filter(d -> !d.provider().name().equals("reference")).toList();
        if (devices.isEmpty()) {
            String why = Backends.providers().stream().filter(p -> !p.name().equals("reference"))
                    .map(BackendProvider::unavailableReason).collect(Collectors.joining("; "));
            return Stream.of(dynamicTest("no backend device", () -> assumeTrue(false, "no device to check: " + why)));
        }
        return devices.stream().map(d -> dynamicContainer(d.name(),
                OpCases.all().stream().map(c -> dynamicTest(c.name(), () -> check(c, d)))));
    }

    private static void check(OpCase c, Device d) {
        Result r = RUNNER.run(c, d);
        assumeTrue(r.status() != Status.SKIP, r.detail());
        assertEquals(Status.PASS, r.status(), r.toString());
    }
}
