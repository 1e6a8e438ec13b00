package dev.hearth.backend.opencl;

import dev.hearth.runtime.backend.Device;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The OpenCL ICD loader loads under its versioned name, libOpenCL.so.1, as drivers install it,
 * without the development symlink libOpenCL.so (Debian's ocl-icd-opencl-dev). A child JVM runs
 * with LD_LIBRARY_PATH pointed at a folder that holds only a copy of libOpenCL.so.1: the loader
 * it maps must be that copy (an unversioned name would have been found elsewhere), and it must
 * find the OpenCL devices the test JVM finds.
 */
class LoaderTest {
    private static final List<String> DIRS = List.of("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu",
            "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib");

    /** The child: prints the loader it mapped and the devices it found, one line each. */
    public static void main(String[] args) throws IOException {
        OpenClProvider p = new OpenClProvider();
        List<Device> ds = p.devices();
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            if (line.contains("libOpenCL")) {
                System.out.println("loader " + line.substring(line.indexOf('/')));
                break;
            }
        }
        if (ds.isEmpty()) System.out.println("reason " + p.unavailableReason());
        for (Device d : ds) System.out.println("device " + d.name());
    }

    @Test
    void loadsTheVersionedLoaderWithoutTheDevelopmentSymlink(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(System.getProperty("os.name").startsWith("Linux"), "the ICD loader's file names are Linux's");
        Path so1 = DIRS.stream().map(d -> Path.of(d, "libOpenCL.so.1")).filter(Files::exists).findFirst().orElse(null);
        if (so1 == null) {
            if ("true".equals(System.getenv("CI"))) fail("CI needs an OpenCL ICD loader (libOpenCL.so.1)");
            Assumptions.abort("no libOpenCL.so.1 here");
        }
        List<Device> here = new OpenClProvider().devices();
        Path copy = dir.resolve("libOpenCL.so.1");
        Files.copy(so1, copy, StandardCopyOption.COPY_ATTRIBUTES);

        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), LoaderTest.class.getName());
        pb.environment().put("LD_LIBRARY_PATH", dir.toString());
        pb.redirectErrorStream(true);
        Process proc = pb.start();
        String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(proc.waitFor(2, TimeUnit.MINUTES), "the child JVM did not finish");
        assertEquals(0, proc.exitValue(), out);
        assertTrue(out.contains("loader " + copy.toRealPath()), "the child did not map " + copy + ":\n" + out);
        for (Device d : here) assertTrue(out.contains("device " + d.name()), "the child did not find " + d.name() + ":\n" + out);
        if ("true".equals(System.getenv("CI"))) assertTrue(out.contains("device "), "no OpenCL device in the child:\n" + out);
    }
}
