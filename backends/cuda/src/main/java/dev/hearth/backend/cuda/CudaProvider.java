package dev.hearth.backend.cuda;

import dev.hearth.runtime.backend.BackendProvider;
import dev.hearth.runtime.backend.Device;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.JCudaDriver;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The CUDA backend: one device per GPU that the NVIDIA driver (libcuda) reports, through JCuda's
 * driver API. Kernels come as PTX inside the hearth-kernels jar, so no CUDA toolkit is needed.
 * Where the driver or a GPU is missing, {@link #devices()} is empty and
 * {@link #unavailableReason()} says why; nothing throws.
 */
public final class CudaProvider implements BackendProvider {
    private volatile List<Device> devices;
    private volatile String reason = "no CUDA driver or device found";

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public int priority() {
        return 10;
    }

    @Override
    public List<Device> devices() {
        List<Device> d = devices;
        if (d == null) {
            synchronized (this) {
                d = devices;
                if (d == null) devices = d = discover();
            }
        }
        return d;
    }

    @Override
    public String unavailableReason() {
        devices();
        return reason;
    }

    private List<Device> discover() {
        String step = "libcuda not loaded";
        try {
            JCudaDriver.setExceptionsEnabled(false); // loads JCuda's native library, which links libcuda
            step = "cuInit failed";
            int rc = JCudaDriver.cuInit(0);
            if (rc != 0) return none(step + ": " + Cuda.name(rc));
            step = "device query failed";
            int[] count = new int[1];
            rc = JCudaDriver.cuDeviceGetCount(count);
            if (rc != 0) return none(step + ": " + Cuda.name(rc));
            if (count[0] == 0) return none("the driver reports no GPU");
            List<Device> found = new ArrayList<>();
            for (int i = 0; i < count[0]; i++) found.add(open(i));
            return List.copyOf(found);
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Throwable t) {
            return none(step + ": " + (step.startsWith("libcuda") ? Cuda.loadFailure(t) : Cuda.oneLine(t)));
        }
    }

    private List<Device> none(String why) {
        reason = "no CUDA driver or device found (" + why + ")";
        return List.of();
    }

    private CudaDevice open(int ordinal) {
        CUdevice dev = new CUdevice();
        Cuda.check(JCudaDriver.cuDeviceGet(dev, ordinal), "cuDeviceGet");
        byte[] raw = new byte[256];
        Cuda.check(JCudaDriver.cuDeviceGetName(raw, raw.length, dev), "cuDeviceGetName");
        int len = 0;
        while (len < raw.length && raw[len] != 0) len++;
        String gpu = new String(raw, 0, len, StandardCharsets.UTF_8).strip();
        CUcontext ctx = new CUcontext();
        Cuda.check(JCudaDriver.cuDevicePrimaryCtxRetain(ctx, dev), "cuDevicePrimaryCtxRetain");
        return new CudaDevice(this, ordinal, gpu, ctx);
    }
}
