package dev.hearth.backend.cuda;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.backend.BackendProvider;
import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.backend.MemoryInfo;
import dev.hearth.runtime.backend.Stream;
import dev.hearth.runtime.backend.TensorRef;
import dev.hearth.runtime.backend.WeightRepack;
import dev.hearth.runtime.tensor.TensorDesc;
import dev.hearth.runtime.graph.Node;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * One GPU, with its primary context (shared with any other user of the driver in the process).
 * Every call that touches the driver first makes the context current on the calling thread.
 * The driver objects the device creates are entered in its {@link CudaLedger}; {@link #close}
 * frees what is still open (streams with their plans, buffers, the staging buffers) and
 * releases the primary context.
 */
final class CudaDevice implements Device, AutoCloseable {
    private static final long MIB = 1L << 20;

    private final CudaProvider provider;
    private final int ordinal;
    private final String name;
    private final CUcontext context;
    private final CudaModules modules;
    private final Staging staging;
    private final CudaLedger ledger = new CudaLedger();
    private final Set<CudaStream> streams = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Set<CudaBuffer> buffers = Collections.newSetFromMap(new IdentityHashMap<>());
    private boolean closed;
    private int multiprocessors;

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

    /** The device's streaming multiprocessors (read once), by which mul_mat sizes its grids (KernelCalls.vecSplit). */
    synchronized int multiprocessors() {
        if (multiprocessors == 0) {
            CUdevice d = new CUdevice();
            Cuda.check(JCudaDriver.cuDeviceGet(d, ordinal), "cuDeviceGet");
            int[] count = new int[1];
            Cuda.check(JCudaDriver.cuDeviceGetAttribute(count, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, d),
                    "cuDeviceGetAttribute");
            multiprocessors = count[0];
        }
        return multiprocessors;
    }

    Staging staging() {
        return staging;
    }

    CudaLedger ledger() {
        return ledger;
    }

    private synchronized void checkOpen() {
        if (closed) throw new IllegalStateException(name + " is closed");
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

    /**
     * GPU memory of {@code bytes}. KV and COMPUTE buffers are zeroed; WEIGHTS buffers are not, as
     * every caller writes them whole right after (the model loader, the conformance and kernel
     * bench runners).
     */
    @Override
    public Buffer allocate(long bytes, BufferUsage usage) {
        if (bytes < 0) throw new IllegalArgumentException("negative size " + bytes);
        checkOpen();
        makeCurrent();
        DevicePointer ptr = new DevicePointer();
        int rc = JCudaDriver.cuMemAlloc(ptr, Math.max(bytes, 1));
        if (rc == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            long free = memory().free();
            throw new HearthException(name + ": needs " + mib(bytes) + " MiB of GPU memory for " + usage.name().toLowerCase()
                    + ", " + mib(free) + " MiB free: put fewer layers on the GPU (--gpu-layers) or use a smaller context");
        }
        Cuda.check(rc, "cuMemAlloc of " + bytes + " bytes");
        if (usage != BufferUsage.WEIGHTS) {
            synchronized (staging) { // the legacy stream, see CudaPlan.record
                rc = JCudaDriver.cuMemsetD8(ptr, (byte) 0, Math.max(bytes, 1));
            }
            if (rc != 0) {
                JCudaDriver.cuMemFree(ptr);
                Cuda.check(rc, "cuMemsetD8");
            }
        }
        ledger.opened(CudaLedger.Kind.DEVICE_MEMORY, ptr);
        CudaBuffer b = new CudaBuffer(this, ptr, bytes, usage);
        synchronized (this) {
            buffers.add(b);
        }
        return b;
    }

    /**
     * Repacks a Q4_0 or Q8_0 matrix whose rows are a multiple of 256 long (WeightRepack), in place
     * in its weights buffer, where its address is 16-byte aligned: the bytes come to the host, are
     * rearranged and go back, and the buffer records the range, so that mul_mat's kernels (and
     * get_rows, for a tied output head that shares the embeddings' bytes) read the repacked
     * layout (and reads of the buffer still give the GGUF one). A range already repacked is left
     * alone, and nothing is repacked where the system property hearth.cuda.repack is false.
     * Returns the bytes repacked.
     */
    @Override
    public long prepareWeight(TensorRef weight) {
        TensorDesc d = weight.desc();
        if (!WeightRepack.enabled("hearth.cuda.repack") || !WeightRepack.repacks(d) || !(weight.buffer() instanceof CudaBuffer b) || b.cudaDevice() != this
                || b.usage() != BufferUsage.WEIGHTS || b.address(weight.offset()) % 16 != 0 || b.isRepacked(weight.offset())) {
            return 0;
        }
        return WeightRepack.inPlace(d, b, weight.offset(), b::writeRepacked);
    }

    /** Called by a buffer that has freed its memory. */
    synchronized void closed(CudaBuffer b) {
        buffers.remove(b);
    }

    /** Called by a stream that has destroyed itself. */
    synchronized void closed(CudaStream s) {
        streams.remove(s);
    }

    private static long mib(long bytes) {
        return (bytes + MIB - 1) / MIB;
    }

    @Override
    public Stream openStream() {
        checkOpen();
        CudaStream s = new CudaStream(this, CudaStream.graphsEnabled());
        synchronized (this) {
            streams.add(s);
        }
        return s;
    }

    /**
     * Frees what the device still holds: open streams (with their plans' graphs and scratch),
     * then buffers, then the staging buffers and events, then the kernel modules; releases the
     * primary context. Later calls do nothing.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        makeCurrent();
        List<CudaStream> openStreams;
        List<CudaBuffer> openBuffers;
        synchronized (this) {
            openStreams = new ArrayList<>(streams);
        }
        for (CudaStream s : openStreams) s.close();
        synchronized (this) {
            openBuffers = new ArrayList<>(buffers);
        }
        for (CudaBuffer b : openBuffers) b.close();
        staging.close();
        modules.close();
        CUdevice dev = new CUdevice();
        if (JCudaDriver.cuDeviceGet(dev, ordinal) == 0) JCudaDriver.cuDevicePrimaryCtxRelease(dev);
    }

    @Override
    public String toString() {
        return name;
    }
}
