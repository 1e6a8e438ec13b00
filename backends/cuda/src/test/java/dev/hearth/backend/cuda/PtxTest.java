package dev.hearth.backend.cuda;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The PTX that ships in the hearth-kernels jar, checked without a GPU: every module is on the class
 * path with the ISA and target the driver requirement rests on (7.8; sm_75, or sm_80 for the
 * tensor-core modules, Kernel.SM80_MODULES, which ci/build-ptx.sh agrees on); every kernel the
 * backend launches is an entry of its module; each file was built from the current sources (the
 * SHA-256 stamp that ci/build-ptx.sh writes, over the .cu, common.cuh and, for the sm_80 modules,
 * mma.cuh); it assembles with ptxas for its target, sm_86, sm_89 and sm_90; and, where an nvcc of
 * the release it was built with is present, a rebuild gives the same bytes. Steps whose tools or sources are missing are skipped with a message.
 */
class PtxTest {
    private static final Path SOURCES = Path.of("../../kernels/src/main/resources/kernels/cuda");
    private static final Path BUILD_SCRIPT = Path.of("../../ci/build-ptx.sh");
    /** Where every module must assemble besides its own target. */
    private static final String[] ARCHS = {"sm_86", "sm_89", "sm_90"};

    private static String ptx(String module) {
        return new String(CudaModules.ptx(module), StandardCharsets.UTF_8);
    }

    @Test
    void everyModuleShipsWithTheExpectedIsaAndTarget() {
        for (String m : Kernel.MODULES) {
            String text = ptx(m);
            assertTrue(text.lines().anyMatch(".version 7.8"::equals), m + ".ptx must be PTX ISA 7.8 (drivers R520+)");
            String target = ".target " + Kernel.target(m);
            assertTrue(text.lines().anyMatch(target::equals), m + ".ptx must have " + target);
        }
    }

    @Test
    void everyLaunchedKernelIsAnEntryOfItsModule() {
        for (Kernel k : Kernel.values()) {
            assertTrue(Kernel.MODULES.contains(k.module), k + ": unknown module " + k.module);
            Pattern entry = Pattern.compile("\\.visible \\.entry " + Pattern.quote(k.entry) + "\\(");
            assertTrue(entry.matcher(ptx(k.module)).find(), k.entry + " is not an entry of " + k.module + ".ptx");
        }
    }

    @Test
    void ptxWasBuiltFromTheCurrentSources() throws IOException, NoSuchAlgorithmException {
        assumeTrue(Files.isDirectory(SOURCES), "kernel sources not found at " + SOURCES.toAbsolutePath());
        List<String> modules = new ArrayList<>();
        try (var files = Files.list(SOURCES)) {
            files.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".cu")).sorted()
                    .forEach(f -> modules.add(f.substring(0, f.length() - 3)));
        }
        assertEquals(Kernel.MODULES, modules, "every .cu file is a module the backend knows, and no other");
        byte[] common = Files.readAllBytes(SOURCES.resolve("common.cuh"));
        byte[] mma = Files.readAllBytes(SOURCES.resolve("mma.cuh"));
        Pattern stamp = Pattern.compile("^// hearth source sha256 ([0-9a-f]{64})$", Pattern.MULTILINE);
        for (String m : modules) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(Files.readAllBytes(SOURCES.resolve(m + ".cu")));
            sha.update(common);
            if (Kernel.SM80_MODULES.contains(m)) sha.update(mma);
            String want = HexFormat.of().formatHex(sha.digest());
            Matcher got = stamp.matcher(ptx(m));
            assertTrue(got.find(), m + ".ptx has no source stamp: run ci/build-ptx.sh");
            assertEquals(want, got.group(1), m + ".ptx is older than " + m + ".cu or its headers: run ci/build-ptx.sh");
        }
    }

    @Test
    void ptxAssemblesForItsTargetAmpereAdaAndHopper() throws Exception {
        String ptxas = find("ptxas");
        assumeTrue(ptxas != null, "ptxas not found on the PATH or in /usr/local/cuda/bin: assembly not checked");
        Path dir = Files.createTempDirectory("hearth-ptx");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (String m : Kernel.MODULES) {
                Path file = dir.resolve(m + ".ptx");
                Files.write(file, CudaModules.ptx(m));
                List<String> archs = new ArrayList<>(List.of(ARCHS));
                archs.addFirst(Kernel.target(m));
                for (String arch : archs) {
                    results.add(pool.submit(() -> {
                        Result r = exec(List.of(ptxas, "-arch=" + arch, file.toString(), "-o", "/dev/null"), 120);
                        return r.code == 0 ? null : m + ".ptx for " + arch + ": " + r.output;
                    }));
                }
            }
            List<String> failures = new ArrayList<>();
            for (Future<String> f : results) if (f.get() != null) failures.add(f.get());
            assertTrue(failures.isEmpty(), String.join("\n", failures));
        } finally {
            pool.shutdownNow();
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) Files.deleteIfExists(p);
            }
            Files.deleteIfExists(dir);
        }
    }

    @Test
    void buildScriptGivesEachModuleItsTarget() throws Exception {
        assumeTrue(Files.isRegularFile(BUILD_SCRIPT), "ci/build-ptx.sh not found");
        for (String m : Kernel.MODULES) {
            Result r = exec(List.of("bash", BUILD_SCRIPT.toString(), "--target", m), 60);
            assertEquals(0, r.code, r.output);
            assertEquals(Kernel.target(m), r.output.strip(), m + ": ci/build-ptx.sh's SM80_MODULES and Kernel.SM80_MODULES disagree");
        }
    }

    @Test
    void rebuildGivesTheSameBytes() throws Exception {
        assumeTrue(Files.isRegularFile(BUILD_SCRIPT) && Files.isDirectory(SOURCES), "ci/build-ptx.sh or the sources not found");
        Result which = exec(List.of("bash", BUILD_SCRIPT.toString(), "--which"), 60);
        assumeTrue(which.code == 0, "no nvcc of the release the PTX was built with, rebuild not compared: " + which.output.strip());
        Path dir = Files.createTempDirectory("hearth-ptx-rebuild");
        try {
            Result build = exec(List.of("bash", BUILD_SCRIPT.toString(), dir.toString()), 600);
            assertEquals(0, build.code, "ci/build-ptx.sh failed: " + build.output);
            for (String m : Kernel.MODULES) {
                byte[] rebuilt = Files.readAllBytes(dir.resolve(m + ".ptx"));
                assertTrue(java.util.Arrays.equals(CudaModules.ptx(m), rebuilt),
                        m + ".ptx differs from a rebuild with " + which.output.strip() + ": run ci/build-ptx.sh and commit");
            }
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) Files.deleteIfExists(p);
            }
            Files.deleteIfExists(dir);
        }
    }

    private record Result(int code, String output) {
    }

    private static Result exec(List<String> cmd, int timeoutSeconds) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, "timed out: " + cmd);
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    private static String find(String tool) {
        String path = System.getenv("PATH");
        List<String> dirs = new ArrayList<>(path != null ? List.of(path.split(File.pathSeparator)) : List.of());
        dirs.add("/usr/local/cuda/bin");
        for (String d : dirs) {
            Path p = Path.of(d, tool);
            if (Files.isExecutable(p)) return p.toString();
        }
        return null;
    }

    @Test
    void modulesListMatchesTheResources() {
        for (String m : Kernel.MODULES) assertNotNull(CudaModules.class.getResource(Kernel.resource(m)), m);
    }
}
