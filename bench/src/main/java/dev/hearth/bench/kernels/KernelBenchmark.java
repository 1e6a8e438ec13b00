package dev.hearth.bench.kernels;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.backend.Device;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The kernel cases as a JMH benchmark: one run of a {@link KernelCase} on a device, weights
 * uploaded once per trial (after a small case of the kind has run for a second, to compile the
 * kernel), each invocation waited for. Parameters: {@code shape} (a case without
 * its type, {@link KernelCase#shapeName}), {@code type} ("q4_0", "f32"...) and {@code backend}
 * ("cpu", "opencl:0", "cuda:0", "reference"), {@code rotate} (true: go round copies of the weights
 * so that they come from memory). For example:
 * <pre>
 * java -jar bench/target/benchmarks.jar KernelBenchmark -p shape="mul_mat 1b attn_q k=2048 n=2048 t=1" -p type=q4_0,q8_0 -p backend=cpu
 * </pre>
 * or {@code hearth bench --kernels --jmh} with the usual filters. A pair that names no case, or a
 * case the device does not support, fails its trial with the reason.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xss8m"})
public class KernelBenchmark {
    @Param({"mul_mat 1b attn_q k=2048 n=2048 t=1"})
    public String shape;

    @Param({"q4_0"})
    public String type;

    @Param({"cpu"})
    public String backend;

    /** Whether the runs go round copies of the weights, as {@link BoundCase#rotationCopies} says, or stay on one. */
    @Param({"true"})
    public boolean rotate;

    private BoundCase bound;

    @Setup(Level.Trial)
    public void setUp() {
        KernelCase c = KernelCases.byName(shape + " " + type);
        if (c == null) throw new HearthException("no kernel case '" + shape + " " + type + "' (list them with: hearth bench --kernels --list)");
        Device d = KernelBench.devices(backend, 0).getFirst();
        KernelBench.prewarm(c, d);
        bound = BoundCase.bind(c, d, rotate ? BoundCase.rotationCopies(c) : 1);
    }

    @Benchmark
    public void run() {
        bound.run();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (bound != null) bound.close();
    }
}
