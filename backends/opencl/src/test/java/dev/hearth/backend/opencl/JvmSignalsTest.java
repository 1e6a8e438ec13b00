package dev.hearth.backend.opencl;

import dev.hearth.runtime.dtype.DType;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * After the driver is loaded and has compiled a program, the JVM's own handlers are still in
 * place: HotSpot handles SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGXFSZ with the one function it
 * installs for SIGPIPE too (which no driver here touches), and SIGUSR2 (thread suspension) with
 * another. PoCL's LLVM installs one crash handler for all of them, so without {@link JvmSignals}
 * these equalities break.
 */
@Tag("opencl")
class JvmSignalsTest {
    @Test
    void driverLeavesTheJvmHandlersInPlace() {
        OpenClDevice d = OpenClTesting.device();
        Assumptions.assumeTrue(JvmSignals.available(), "sigaction is not reachable here (not Linux, or libjsig chains the signals)");
        d.build("signals_probe.cl", "kernel void signals_probe(global int* x) { x[get_global_id(0)] /= 3; }\n");
        try (var c = new OpenClTesting.Case(5)) { // and the driver's worker threads have run kernels
            c.out(c.graph.rmsNorm("norm", c.input("x", DType.F32, 64, 3, 1f), null, 1e-5f));
            OpenClTesting.assertMatchesReference(c, 1e-5);
        }
        long jvm = JvmSignals.handler(JvmSignals.SIGPIPE);
        assertNotEquals(0L, jvm);
        for (int sig : new int[] {JvmSignals.SIGSEGV, JvmSignals.SIGBUS, JvmSignals.SIGILL, JvmSignals.SIGFPE, JvmSignals.SIGXFSZ}) {
            assertEquals(jvm, JvmSignals.handler(sig), "handler of signal " + sig);
        }
        long suspend = JvmSignals.handler(JvmSignals.SIGUSR2);
        assertNotEquals(0L, suspend);
        assertNotEquals(jvm, suspend, "SIGUSR2 keeps the JVM's suspend handler");
    }
}
