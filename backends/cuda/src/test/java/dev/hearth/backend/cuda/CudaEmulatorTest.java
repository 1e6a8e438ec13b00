package dev.hearth.backend.cuda;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The CUDA kernels run on the CPU: src/test/emu/run.sh builds the emulator tests with g++ (see
 * emu.h) and runs them against double-precision references. Skipped, with a message, where g++
 * is not on the PATH; otherwise any FAIL line of the emulator fails this test with those lines.
 */
class CudaEmulatorTest {
    private static final Path RUN = Path.of("src/test/emu/run.sh");

    @Test
    void kernelsMatchTheReferencesOnTheEmulator() throws Exception {
        boolean gpp = onPath("g++");
        if (!gpp) System.out.println("CudaEmulatorTest skipped: g++ is not on the PATH, so the CUDA emulator cannot be built");
        assumeTrue(gpp, "g++ not on the PATH: the CUDA emulator tests were not run");
        long start = System.nanoTime();
        Path log = Files.createTempFile("hearth-cuda-emu", ".txt");
        Process p = new ProcessBuilder("bash", RUN.toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean exited = p.waitFor(20, TimeUnit.MINUTES);
        if (!exited) p.destroyForcibly().waitFor();
        String output = Files.readString(log, StandardCharsets.UTF_8);
        Files.delete(log);
        List<String> lines = output.lines().toList();
        List<String> failures = lines.stream().filter(l -> l.startsWith("FAIL") || l.startsWith("emu:")).toList();
        long oks = lines.stream().filter(l -> l.startsWith("ok")).count();
        System.out.printf("CUDA emulator: %d ok, %d FAIL, %s, %.1f s%n", oks, failures.size(),
                String.join("; ", lines.stream().filter(l -> l.matches("\\d+ failed")).toList()), (System.nanoTime() - start) / 1e9);
        assertTrue(exited, "run.sh did not finish in 20 minutes");
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        assertEquals(0, p.exitValue(), "run.sh failed:\n" + output);
        assertTrue(oks > 0, "run.sh ran no test:\n" + output);
    }

    private static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) return false;
        for (String dir : path.split(File.pathSeparator)) if (Files.isExecutable(Path.of(dir, tool))) return true;
        return false;
    }
}
