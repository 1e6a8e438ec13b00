package dev.hearth.backend.opencl;

import dev.hearth.runtime.HearthException;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_program;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Builds OpenCL programs and keeps their binaries on disk, so a second start loads the binary
 * instead of compiling (drivers such as PoCL take seconds per program). A binary's file name
 * holds the device name and a hash of the device name, platform, driver version, build options
 * and the whole source, so any change to one of them builds afresh. A binary the driver refuses
 * is deleted and rebuilt from source. The folder is {@code -Dhearth.cache} or {@code $HEARTH_CACHE}
 * followed by {@code /opencl}, else {@code ~/.cache/hearth/opencl}.
 */
final class ProgramCache {
    private static final System.Logger LOG = System.getLogger(ProgramCache.class.getName());

    private final Path dir;
    private final AtomicInteger sourceBuilds = new AtomicInteger();
    private final AtomicInteger binaryLoads = new AtomicInteger();

    ProgramCache(Path dir) {
        this.dir = dir;
    }

    static Path defaultDir() {
        String root = System.getProperty("hearth.cache");
        if (root == null || root.isBlank()) root = System.getenv("HEARTH_CACHE");
        if (root != null && !root.isBlank()) return Path.of(root, "opencl");
        return Path.of(System.getProperty("user.home"), ".cache", "hearth", "opencl");
    }

    Path dir() {
        return dir;
    }

    /** Programs compiled from source so far. */
    int sourceBuilds() {
        return sourceBuilds.get();
    }

    /** Programs loaded from a cached binary so far. */
    int binaryLoads() {
        return binaryLoads.get();
    }

    /** A built program for {@code source}; {@code label} names it in messages. */
    cl_program build(cl_context context, cl_device_id device, DeviceInfo info, String label, String source, String options) {
        try {
            return buildOrLoad(context, device, info, label, source, options);
        } finally {
            JvmSignals.restore(); // a driver's compiler may install crash handlers of its own
        }
    }

    private cl_program buildOrLoad(cl_context context, cl_device_id device, DeviceInfo info, String label, String source, String options) {
        String key = hash(info.name() + '\0' + info.platform() + '\0' + info.driverVersion() + '\0' + info.version()
                + '\0' + options + '\0' + source);
        Path file = dir.resolve(safe(info.name()) + "-" + key.substring(0, 40) + ".bin");
        if (Files.isRegularFile(file)) {
            cl_program p = fromBinary(context, device, file, options);
            if (p != null) {
                binaryLoads.incrementAndGet();
                return p;
            }
        }
        long start = System.nanoTime();
        cl_program p = CL.clCreateProgramWithSource(context, 1, new String[] {source}, null, null);
        try {
            CL.clBuildProgram(p, 1, new cl_device_id[] {device}, options, null, null);
        } catch (CLException e) {
            String log = buildLog(p, device);
            CL.clReleaseProgram(p);
            throw new HearthException("OpenCL kernel " + label + " failed to build on " + info.name() + " ("
                    + Cl.status(e.getStatus()) + ", options '" + options + "'); build log:\n" + log, e);
        }
        sourceBuilds.incrementAndGet();
        LOG.log(System.Logger.Level.DEBUG, () -> String.format("built %s for %s in %.1f s", label, info.name(), (System.nanoTime() - start) / 1e9));
        save(p, file);
        return p;
    }

    private static cl_program fromBinary(cl_context context, cl_device_id device, Path file, String options) {
        cl_program p = null;
        try {
            byte[] bin = Files.readAllBytes(file);
            int[] status = new int[1];
            p = CL.clCreateProgramWithBinary(context, 1, new cl_device_id[] {device}, new long[] {bin.length},
                    new byte[][] {bin}, status, null);
            CL.clBuildProgram(p, 1, new cl_device_id[] {device}, options, null, null);
            return p;
        } catch (IOException | CLException e) {
            if (p != null) CL.clReleaseProgram(p);
            LOG.log(System.Logger.Level.INFO, "cached OpenCL binary " + file + " was refused (" + e.getMessage() + "); rebuilding");
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // a stale file is rebuilt over next time
            }
            return null;
        }
    }

    private void save(cl_program p, Path file) {
        try {
            long[] sizes = new long[1];
            CL.clGetProgramInfo(p, CL.CL_PROGRAM_BINARY_SIZES, Sizeof.size_t, Pointer.to(sizes), null);
            if (sizes[0] <= 0) return;
            byte[] bin = new byte[Math.toIntExact(sizes[0])];
            CL.clGetProgramInfo(p, CL.CL_PROGRAM_BINARIES, Sizeof.POINTER, Pointer.to(Pointer.to(bin)), null);
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, "build-", ".tmp");
            Files.write(tmp, bin);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | CLException | ArithmeticException e) {
            LOG.log(System.Logger.Level.INFO, "cannot cache OpenCL binary in " + dir + ": " + e.getMessage());
        }
    }

    static String buildLog(cl_program p, cl_device_id device) {
        try {
            long[] size = new long[1];
            CL.clGetProgramBuildInfo(p, device, CL.CL_PROGRAM_BUILD_LOG, 0, null, size);
            byte[] b = new byte[(int) size[0]];
            CL.clGetProgramBuildInfo(p, device, CL.CL_PROGRAM_BUILD_LOG, b.length, Pointer.to(b), null);
            int n = 0;
            while (n < b.length && b[n] != 0) n++;
            String log = new String(b, 0, n, StandardCharsets.UTF_8).strip();
            return log.isEmpty() ? "(the driver gave no build log)" : log;
        } catch (CLException e) {
            return "(no build log: " + e.getMessage() + ")";
        }
    }

    private static String safe(String name) {
        String s = name.replaceAll("[^A-Za-z0-9._-]+", "_");
        return s.length() > 60 ? s.substring(0, 60) : s;
    }

    private static String hash(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
