package dev.hearth.backend.cuda;

import dev.hearth.runtime.HearthException;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;

/**
 * The kernels of one device: each PTX module is read from the class path and loaded (the driver
 * compiles it for the GPU, and caches the result on disk) the first time one of its kernels is
 * needed. The tensor-core modules (Kernel.SM80_MODULES) load only on devices of compute capability
 * 8.0 or more; callers ask {@link #tensorCores()} first. Loaded modules are entered in the
 * device's ledger and unloaded by {@link #close}.
 */
final class CudaModules {
    private final CudaDevice device;
    private final Map<String, CUmodule> modules = new HashMap<>();
    private final Map<Kernel, CUfunction> functions = new EnumMap<>(Kernel.class);
    private Boolean tensorCores;

    CudaModules(CudaDevice device) {
        this.device = device;
    }

    synchronized CUfunction function(Kernel k) {
        CUfunction f = functions.get(k);
        if (f == null) {
            CUmodule m = modules.get(k.module);
            if (m == null) {
                m = load(k.module);
                modules.put(k.module, m);
            }
            f = new CUfunction();
            Cuda.check(JCudaDriver.cuModuleGetFunction(f, m, k.entry), "cuModuleGetFunction " + k.entry);
            functions.put(k, f);
        }
        return f;
    }

    /** Whether the device runs the sm_80 modules: compute capability 8.0 (Ampere) or more. */
    synchronized boolean tensorCores() {
        if (tensorCores == null) {
            device.makeCurrent();
            CUdevice d = new CUdevice();
            Cuda.check(JCudaDriver.cuCtxGetDevice(d), "cuCtxGetDevice");
            int[] major = new int[1];
            Cuda.check(JCudaDriver.cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d),
                    "cuDeviceGetAttribute");
            tensorCores = major[0] >= 8;
        }
        return tensorCores;
    }

    private CUmodule load(String module) {
        if (Kernel.SM80_MODULES.contains(module) && !tensorCores()) {
            throw new IllegalStateException(module + ".ptx needs compute capability 8.0 or more, which " + device.name() + " lacks");
        }
        byte[] ptx = ptx(module);
        device.makeCurrent();
        CUmodule m = new CUmodule();
        int rc = JCudaDriver.cuModuleLoadData(m, Arrays.copyOf(ptx, ptx.length + 1)); // NUL-terminated
        if (rc == CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION || rc == CUresult.CUDA_ERROR_INVALID_PTX) {
            throw new HearthException(device.name() + ": the NVIDIA driver cannot load Hearth's CUDA kernels (" + Cuda.name(rc)
                    + "; they are PTX ISA 7.8, which needs driver 520 or newer): update the NVIDIA driver, or run on the CPU (--gpu-layers 0)");
        }
        Cuda.check(rc, "cuModuleLoadData " + module + ".ptx");
        device.ledger().opened(CudaLedger.Kind.MODULE, m);
        return m;
    }

    /** Unloads every loaded module (the device is current); their functions are gone with them. */
    synchronized void close() {
        for (CUmodule m : modules.values()) {
            Cuda.check(JCudaDriver.cuModuleUnload(m), "cuModuleUnload");
            device.ledger().closed(CudaLedger.Kind.MODULE, m);
        }
        modules.clear();
        functions.clear();
    }

    /** The PTX text of a module, from the class path. */
    static byte[] ptx(String module) {
        try (InputStream in = CudaModules.class.getResourceAsStream(Kernel.resource(module))) {
            if (in == null) throw new IllegalStateException("missing " + Kernel.resource(module) + " (hearth-kernels jar not on the class path?)");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + Kernel.resource(module), e);
        }
    }
}
