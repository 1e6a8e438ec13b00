package dev.hearth.backend.opencl;

import dev.hearth.runtime.backend.BackendProvider;
import dev.hearth.runtime.backend.Device;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The OpenCL backend: every device of every platform that JOCL finds. The provider that
 * ServiceLoader makes shares one set of devices per process (so each program is built once per
 * process); {@link #OpenClProvider(Path)} makes devices of its own, with their own program
 * cache folder.
 */
public final class OpenClProvider implements BackendProvider {
    private static final System.Logger LOG = System.getLogger(OpenClProvider.class.getName());
    /** The drivers to install for the common cases, in one line. */
    static final String DRIVERS = "NVIDIA: the NVIDIA driver (Debian/Ubuntu: nvidia-opencl-icd); AMD: ROCm (rocm-opencl-runtime) "
            + "or mesa-opencl-icd; Intel: intel-opencl-icd; any CPU: pocl-opencl-icd";
    static final String NO_PLATFORM = "no OpenCL platform found (no driver registered in /etc/OpenCL/vendors): install one: " + DRIVERS;

    private record Found(List<Device> devices, String reason) {
    }

    private static Found shared;

    private final Path cacheDir;
    private Found own;

    /** The process-wide devices, caching programs in {@link ProgramCache#defaultDir()}. */
    public OpenClProvider() {
        this.cacheDir = null;
    }

    /** Devices of this provider's own, caching program binaries in {@code cacheDir}. */
    public OpenClProvider(Path cacheDir) {
        this.cacheDir = cacheDir;
    }

    @Override
    public String name() {
        return "opencl";
    }

    @Override
    public List<Device> devices() {
        return found().devices();
    }

    @Override
    public String unavailableReason() {
        Found f = found();
        return f.reason() != null ? f.reason() : "no OpenCL device found";
    }

    private Found found() {
        if (cacheDir == null) {
            synchronized (OpenClProvider.class) {
                if (shared == null) shared = guarded(this, new ProgramCache(ProgramCache.defaultDir()));
                return shared;
            }
        }
        synchronized (this) {
            if (own == null) own = guarded(this, new ProgramCache(cacheDir));
            return own;
        }
    }

    /** What to install where no OpenCL ICD loader could be loaded: one line, the common drivers named. */
    static final String INSTALL_HINT = "install an OpenCL driver and the ICD loader libOpenCL.so.1 (Debian/Ubuntu: "
            + "ocl-icd-libopencl1): " + DRIVERS;

    /**
     * Why JOCL could not load the OpenCL ICD loader. JOCL 2.0.6 opens {@code libOpenCL.so.1} (what
     * every driver's loader package installs) and then {@code libOpenCL.so}, through the dynamic
     * linker's usual search (LD_LIBRARY_PATH, the ld.so cache, /lib, /usr/lib); on macOS the
     * OpenCL framework.
     */
    static String loaderProblem(LinkageError e, String printed) {
        String found = null;
        for (String dir : new String[] {"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib",
                "/usr/local/lib", "/lib/x86_64-linux-gnu", "/lib64"}) {
            if (java.nio.file.Files.exists(Path.of(dir, "libOpenCL.so.1"))) {
                found = dir + "/libOpenCL.so.1";
                break;
            }
        }
        if (found != null) {
            // JOCL's first line names the file and the dynamic linker's reason.
            String why = printed.lines().filter(l -> l.contains("libOpenCL.so.1")).findFirst().orElse(e.getMessage());
            return "the OpenCL loader " + found + " is there but does not load (" + why.strip()
                    + "): reinstall ocl-icd-libopencl1 or the driver";
        }
        return "no OpenCL loader (libOpenCL.so.1) found: " + INSTALL_HINT;
    }

    /** {@link #discover} with the JVM's signal handlers kept ({@link JvmSignals}): loading a driver may replace them. */
    private static Found guarded(OpenClProvider provider, ProgramCache cache) {
        JvmSignals.save();
        try {
            return discover(provider, cache);
        } finally {
            JvmSignals.restore();
        }
    }

    private static Found discover(OpenClProvider provider, ProgramCache cache) {
        cl_platform_id[] platforms;
        // JOCL loads its native library and the ICD loader while class CL initializes, printing
        // each failed attempt to stderr: that goes into this provider's one-line reason instead.
        LinkageError[] failed = new LinkageError[1];
        String printed = CapturedOutput.during(() -> {
            try {
                Class.forName(CL.class.getName(), true, OpenClProvider.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                failed[0] = new NoClassDefFoundError(e.getMessage());
            } catch (LinkageError e) {
                failed[0] = e;
            }
        });
        if (failed[0] != null) return new Found(List.of(), loaderProblem(failed[0], printed));
        try {
            CL.setExceptionsEnabled(true);
            int[] count = new int[1];
            CL.clGetPlatformIDs(0, null, count);
            if (count[0] == 0) return new Found(List.of(), NO_PLATFORM);
            platforms = new cl_platform_id[count[0]];
            CL.clGetPlatformIDs(platforms.length, platforms, null);
        } catch (LinkageError e) {
            return new Found(List.of(), loaderProblem(e, ""));
        } catch (CLException e) {
            return new Found(List.of(), NO_PLATFORM + ": " + Cl.status(e.getStatus()));
        }
        List<Device> devices = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (cl_platform_id p : platforms) {
            String platformName = "?";
            try {
                platformName = Cl.platformString(p, CL.CL_PLATFORM_NAME);
                int[] count = new int[1];
                try {
                    CL.clGetDeviceIDs(p, CL.CL_DEVICE_TYPE_ALL, 0, null, count);
                } catch (CLException e) {
                    if (e.getStatus() == CL.CL_DEVICE_NOT_FOUND) {
                        problems.add("platform " + platformName + " has no device");
                        continue;
                    }
                    throw e;
                }
                cl_device_id[] ids = new cl_device_id[count[0]];
                CL.clGetDeviceIDs(p, CL.CL_DEVICE_TYPE_ALL, ids.length, ids, null);
                for (cl_device_id id : ids) {
                    try {
                        DeviceInfo info = DeviceInfo.query(p, id);
                        devices.add(new OpenClDevice(provider, devices.size(), p, id, info, cache));
                    } catch (CLException e) {
                        problems.add("a device of " + platformName + " could not be opened: " + Cl.status(e.getStatus()));
                    }
                }
            } catch (CLException e) {
                problems.add("platform " + platformName + ": " + Cl.status(e.getStatus()));
            }
        }
        for (String s : problems) LOG.log(System.Logger.Level.INFO, "OpenCL: " + s);
        String reason = devices.isEmpty()
                ? "OpenCL platform(s) found but no usable device: " + String.join("; ", problems) : null;
        return new Found(List.copyOf(devices), reason);
    }
}
