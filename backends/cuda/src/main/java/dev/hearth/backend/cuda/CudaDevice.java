package dev.hearth.backend.cuda;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.backend.BackendProvider;
import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.backend.MemoryInfo;
import dev.hearth.runtime.backend.Stream;
import dev.hearth.runtime.graph.Node;
import jcuda.driver.CUcontext;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * One GPU, with its primary context (shared with any other user of the driver in the process).
 * Every call that touches the driver first makes the context current on the calling thread.
 */
final class CudaDevice implements Device {
    private static final long MIB = 1L << 20;

    private final CudaProvider provider;
    private final int ordinal;
    private final String name;
    private final CUcontext context;
    private final CudaModules modules;
    private final Staging staging;

    CudaDevice(CudaProvider provider, int ordinal, String gpu, CUcontext context) {
        this.provider = provider;
        this.ordinal = ordinal;
        this.name = "cuda:" + ordinal + " " + gpu;
        this.context = context;
        this.modules = new CudaModules(this);
        this.staging = new Staging(this);
    }

    @Override
    public String name() {
        return name;
    }

    int ordinal() {
        return ordinal;
    }

    @Override
    public BackendProvider provider() {
        return provider;
    }

    /** Makes this device's context current on the calling thread. */
    void makeCurrent() {
        Cuda.check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    CudaModules modules() {
        return modules;
    }

    Staging staging() {
        return staging;
    }

    @Override
    public MemoryInfo memory() {
        makeCurrent();
        long[] free = new long[1];
        long[] total = new long[1];
        Cuda.check(JCudaDriver.cuMemGetInfo(free, total), "cuMemGetInfo");
        return new MemoryInfo(free[0], total[0]);
    }

    @Override
    public boolean supports(Node node) {
        return CudaSupport.whyNot(node) == null;
    }

    @Override
    public String whyNot(Node node) {
        String why = CudaSupport.whyNot(node);
        return why != null ? name + ": " + why : name + " supports " + node;
    }

    @Override
    public boolean isGpu() {
        return true;
    }

    @Override
    public Buffer allocate(long bytes, BufferUsage usage) {
        if (bytes < 0) throw new IllegalArgumentException("negative size " + bytes);
        makeCurrent();
        DevicePointer ptr = new DevicePointer();
        int rc = JCudaDriver.cuMemAlloc(ptr, Math.max(bytes, 1));
        if (rc == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            long free = memory().free();
            throw new HearthException(name + ": needs " + mib(bytes) + " MiB of GPU memory for " + usage.name().toLowerCase()
                    + ", " + mib(free) + " MiB free: put fewer layers on the GPU (--gpu-layers) or use a smaller context");
        }
        Cuda.check(rc, "cuMemAlloc of " + bytes + " bytes");
        synchronized (staging) { // the legacy stream, see CudaPlan.record
            rc = JCudaDriver.cuMemsetD8(ptr, (byte) 0, Math.max(bytes, 1));
        }
        if (rc != 0) {
            JCudaDriver.cuMemFree(ptr);
            Cuda.check(rc, "cuMemsetD8");
        }
        return new CudaBuffer(this, ptr, bytes, usage);
    }

    private static long mib(long bytes) {
        return (bytes + MIB - 1) / MIB;
    }

    @Override
    public Stream openStream() {
        return new CudaStream(this, CudaStream.graphsEnabled());
    }

    @Override
    public String toString() {
        return name;
    }
}
