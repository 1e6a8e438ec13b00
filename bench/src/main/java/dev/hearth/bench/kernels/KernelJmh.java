package dev.hearth.bench.kernels;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.backend.Device;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs kernel cases through JMH ({@link KernelBenchmark}) instead of the built-in timer: one JMH
 * run (a forked JVM, warm-up and measured iterations) per case and device. The time of a result
 * is the median of the iterations' mean times, its minimum the fastest iteration's mean.
 */
public final class KernelJmh {
    private KernelJmh() {
    }

    /** The last lines of JMH's log, for an error message. */
    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join(" / ", lines.subList(Math.max(0, lines.size() - 5), lines.size())).strip();
        } catch (IOException | RuntimeException e) {
            return "no log";
        }
    }

    /**
     * @param iterationSeconds the length of each warm-up and measured iteration
     * @param threads          CPU threads for the forked JVM (hearth.threads), or 0 to leave the default
     */
    public static List<KernelResult> run(List<Device> devices, List<KernelCase> cases, double iterationSeconds, int threads,
                                         boolean rotate, KernelBench.Listener listener) {
        List<KernelResult> results = new ArrayList<>();
        long ms = Math.max(10, Math.round(iterationSeconds * 1000));
        for (Device d : devices) {
            List<KernelCase> runnable = new ArrayList<>();
            for (KernelCase c : cases) {
                String why = c.unsupported(d);
                if (why == null) runnable.add(c);
                else listener.skipped(c, d, why);
            }
            if (runnable.isEmpty()) continue;
            BandwidthProbe.Result probe = BandwidthProbe.measure(d, KernelBench.threadsOf(d));
            listener.probe(probe);
            for (KernelCase c : runnable) {
                OptionsBuilder ob = new OptionsBuilder();
                ob.include(KernelBenchmark.class.getName() + ".run$")
                        .param("shape", c.shapeName())
                        .param("type", c.typeLabel())
                        .param("backend", KernelResult.deviceFamily(d.name()))
                        .param("rotate", Boolean.toString(rotate))
                        .forks(1)
                        .warmupIterations(3).warmupTime(TimeValue.milliseconds(Math.max(ms, 1000)))
                        .measurementIterations(5).measurementTime(TimeValue.milliseconds(ms))
                        .shouldFailOnError(true)
                        .verbosity(VerboseMode.SILENT);
                int t = threads > 0 ? threads : KernelBench.threadsOf(d);
                if (t > 0) ob.jvmArgsAppend("-Dhearth.threads=" + t);
                RunResult rr;
                Path log = null;
                try {
                    log = Files.createTempFile("hearth-jmh", ".log");
                    ob.output(log.toString()); // JMH's own report and the forked JVM's messages
                    rr = new Runner(ob.build()).runSingle();
                } catch (RunnerException | IOException | RuntimeException e) {
                    String more = log == null ? "" : " (" + tail(log) + ")";
                    listener.failed(c, d, new HearthException("JMH failed: " + e.getMessage() + more));
                    continue;
                } finally {
                    if (log != null) {
                        try {
                            Files.deleteIfExists(log);
                        } catch (IOException ignored) {
                            // a temporary file left behind
                        }
                    }
                }
                Result<?> primary = rr.getPrimaryResult();
                var stats = primary.getStatistics();
                KernelResult r = KernelBench.result(c, d, probe, stats.getPercentile(50), stats.getMin(), (int) stats.getN(),
                        rotate ? BoundCase.rotationCopies(c) : 1, "jmh");
                results.add(r);
                listener.result(r);
            }
        }
        return results;
    }
}
