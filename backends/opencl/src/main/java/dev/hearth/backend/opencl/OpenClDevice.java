package dev.hearth.backend.opencl;

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
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_platform_id;
import org.jocl.cl_program;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One OpenCL device: a context, one in-order command queue that streams and buffer copies share,
 * and the programs built for it (each kernel file once per process, binaries cached on disk by
 * {@link ProgramCache}). Memory is counted per allocation, so free memory is known where the
 * driver cannot tell it. Weights are not filled before their upload writes them; other buffers
 * are zeroed. {@link #close} releases every OpenCL object the device made (counted in
 * {@link LiveObjects}).
 */
public final class OpenClDevice implements Device, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(OpenClDevice.class.getName());
    private static final long MIB = 1L << 20;

    /** Told of each chunk written to a WEIGHTS buffer: bytes written so far, bytes of weights allocated. */
    @FunctionalInterface
    public interface UploadListener {
        void uploaded(long done, long total);
    }

    private final OpenClProvider provider;
    private final int index;
    private final cl_device_id id;
    private final DeviceInfo info;
    private final cl_context context;
    private final cl_command_queue queue;
    private final ProgramCache cache;
    private final Map<String, cl_program> programs = new HashMap<>();
    private final Map<String, cl_kernel> kernels = new HashMap<>();
    private final Map<cl_kernel, Long> kernelLimits = new HashMap<>();
    /** Programs built from a label and source of the caller's ({@link #build}), not a kernel file. */
    private final java.util.List<cl_program> adHocPrograms = new java.util.ArrayList<>();
    private final java.util.Set<OpenClBuffer> buffers = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final LiveObjects live = new LiveObjects();
    private boolean closed;
    private final AtomicLong allocated = new AtomicLong();
    private final AtomicLong weightsAllocated = new AtomicLong();
    private final AtomicLong weightsWritten = new AtomicLong();
    private String subgroupOptions;
    private String dotOptions;
    private volatile UploadListener uploadListener;

    OpenClDevice(OpenClProvider provider, int index, cl_platform_id platform, cl_device_id id, DeviceInfo info, ProgramCache cache) {
        this.provider = provider;
        this.index = index;
        this.id = id;
        this.info = info;
        this.cache = cache;
        this.subgroupOptions = info.subgroupOptions();
        this.dotOptions = info.dotOptions();
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL.CL_CONTEXT_PLATFORM, platform);
        this.context = CL.clCreateContext(props, 1, new cl_device_id[] {id}, null, null, null);
        live.created("context");
        try {
            this.queue = CL.clCreateCommandQueue(context, id, 0, null);
        } catch (CLException e) {
            CL.clReleaseContext(context);
            throw e;
        }
        live.created("queue");
    }

    /** The OpenCL objects this device holds now. */
    LiveObjects live() {
        return live;
    }

    /**
     * Releases every OpenCL object of this device: buffers still open, kernels, programs, the
     * queue and the context, after the queued work finishes. The device cannot be used after.
     */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        CL.clFinish(queue);
        for (OpenClBuffer b : List.copyOf(buffers)) b.close();
        for (cl_kernel k : kernels.values()) {
            CL.clReleaseKernel(k);
            live.released("kernel");
        }
        kernels.clear();
        kernelLimits.clear();
        for (cl_program p : programs.values()) releaseProgram(p);
        programs.clear();
        for (cl_program p : adHocPrograms) releaseProgram(p);
        adHocPrograms.clear();
        CL.clReleaseCommandQueue(queue);
        live.released("queue");
        CL.clReleaseContext(context);
        live.released("context");
    }

    private void releaseProgram(cl_program p) {
        CL.clReleaseProgram(p);
        live.released("program");
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException(name() + " is closed");
    }

    @Override
    public String name() {
        return "opencl:" + index + " " + info.name() + " (" + info.platform() + ")";
    }

    @Override
    public BackendProvider provider() {
        return provider;
    }

    DeviceInfo info() {
        return info;
    }

    cl_command_queue queue() {
        return queue;
    }

    ProgramCache cache() {
        return cache;
    }

    @Override
    public boolean isGpu() {
        return info.gpu();
    }

    @Override
    public MemoryInfo memory() {
        long total = info.globalMemory();
        if (info.has("cl_amd_device_attribute_query")) {
            try {
                long[] kib = new long[2];
                long[] size = new long[1];
                CL.clGetDeviceInfo(id, Cl.CL_DEVICE_GLOBAL_FREE_MEMORY_AMD, 2L * Sizeof.size_t, Pointer.to(kib), size);
                if (kib[0] > 0) return new MemoryInfo(Math.min(total, kib[0] * 1024), total);
            } catch (CLException e) {
                // fall back to counting
            }
        }
        return new MemoryInfo(Math.max(0, total - allocated.get()), total);
    }

    @Override
    public boolean supports(Node node) {
        return whyNotOrNull(node) == null;
    }

    @Override
    public String whyNot(Node node) {
        String why = whyNotOrNull(node);
        return name() + (why != null ? ": " + why : " supports " + node);
    }

    private String whyNotOrNull(Node node) {
        if (node.op() instanceof dev.hearth.runtime.graph.Op.Attention && info.maxWorkGroup() < OpenClSupport.ATTENTION_GROUP) {
            return "attention needs work-groups of " + OpenClSupport.ATTENTION_GROUP + ", the device allows " + info.maxWorkGroup();
        }
        return OpenClSupport.whyNot(node);
    }

    /** Sets who hears of weight uploads (a progress bar); null for none. */
    public void setUploadListener(UploadListener listener) {
        this.uploadListener = listener;
    }

    void uploaded(long bytes) {
        long done = weightsWritten.addAndGet(bytes);
        long total = Math.max(done, weightsAllocated.get());
        UploadListener l = uploadListener;
        if (l != null) l.uploaded(done, total);
        LOG.log(System.Logger.Level.DEBUG, () -> String.format("%s: uploaded %d of %d MiB of weights", name(), done / MIB, total / MIB));
    }

    @Override
    public Buffer allocate(long bytes, BufferUsage usage) {
        if (bytes < 0) throw new IllegalArgumentException("negative size " + bytes);
        long size = Math.max(bytes, 4);
        if (size > info.maxAlloc()) {
            throw new HearthException(String.format("%s: a %s buffer of %s is larger than the largest single buffer this "
                            + "device allows (%s, CL_DEVICE_MAX_MEM_ALLOC_SIZE); it cannot live on this device in one piece: "
                            + "put fewer layers on it (--gpu-layers) or use a smaller context", name(),
                    usage.name().toLowerCase(), mib(size), mib(info.maxAlloc())));
        }
        MemoryInfo mem = memory();
        if (size > mem.free()) throw outOfMemory(size, usage, mem, null);
        cl_mem m;
        synchronized (this) {
            checkOpen();
            try {
                m = CL.clCreateBuffer(context, CL.CL_MEM_READ_WRITE, size, null, null);
            } catch (CLException e) {
                throw outOfMemory(size, usage, mem, e);
            }
            live.created("mem");
        }
        OpenClBuffer b = new OpenClBuffer(this, m, bytes, usage);
        buffers.add(b);
        allocated.addAndGet(size);
        if (usage == BufferUsage.WEIGHTS) {
            weightsAllocated.addAndGet(size);
        } else {
            try { // zeroes it, and makes the driver commit the memory now rather than at first use
                synchronized (this) {
                    CL.clEnqueueFillBuffer(queue, m, Pointer.to(new byte[] {0}), 1, 0, size, 0, null, null);
                    CL.clFinish(queue);
                }
            } catch (CLException e) {
                b.close();
                throw outOfMemory(size, usage, mem, e);
            }
        }
        return b;
    }

    private HearthException outOfMemory(long size, BufferUsage usage, MemoryInfo mem, CLException cause) {
        String how = cause != null ? " (" + Cl.status(cause.getStatus()) + ")" : "";
        return new HearthException(String.format("%s: needs %s for a %s buffer, %s free of %s%s: put fewer layers on "
                        + "this device (--gpu-layers) or use a smaller context", name(), mib(size), usage.name().toLowerCase(),
                mib(mem.free()), mib(mem.total()), how), cause);
    }

    static String mib(long bytes) {
        return bytes >= 10 * MIB ? bytes / MIB + " MiB" : bytes + " bytes";
    }

    /**
     * Repacks a Q4_0 or Q8_0 matrix whose rows are a multiple of 256 long (WeightRepack), in place
     * in its weights buffer, where its offset is 16-byte aligned: the bytes come to the host, are
     * rearranged and go back, and the buffer records the range, so that mul_mat's kernels (and
     * get_rows, for a tied output head that shares the embeddings' bytes) read the repacked
     * layout with 16-byte loads (and reads of the buffer still give the GGUF one). A range
     * already repacked is left alone, and nothing is repacked where the system property
     * hearth.opencl.repack is false. Returns the bytes repacked.
     */
    @Override
    public long prepareWeight(TensorRef weight) {
        TensorDesc d = weight.desc();
        if (!WeightRepack.enabled("hearth.opencl.repack") || !WeightRepack.repacks(d) || !(weight.buffer() instanceof OpenClBuffer b)
                || b.device() != this || b.usage() != BufferUsage.WEIGHTS || weight.offset() % 16 != 0 || b.isRepacked(weight.offset())) {
            return 0;
        }
        return WeightRepack.inPlace(d, b, weight.offset(), b::writeRepacked);
    }

    void released(OpenClBuffer b) {
        live.released("mem");
        buffers.remove(b);
        long size = Math.max(b.size(), 4);
        allocated.addAndGet(-size);
        if (b.usage() == BufferUsage.WEIGHTS) weightsAllocated.addAndGet(-size);
    }

    @Override
    public Stream openStream() {
        return new OpenClStream(this);
    }

    /** The program of kernel file {@code file}, built once per device. */
    synchronized cl_program program(String file) {
        cl_program p = programs.get(file);
        if (p == null) {
            p = buildProgram(file, KernelSources.load(file));
            programs.put(file, p);
        }
        return p;
    }

    /** Builds {@code source} as {@link #program} builds a kernel file; the device releases it when it closes. */
    synchronized cl_program build(String label, String source) {
        cl_program p = buildProgram(label, source);
        adHocPrograms.add(p);
        return p;
    }

    private cl_program buildProgram(String label, String source) {
        checkOpen();
        cl_program p = buildWithOptions(label, source);
        live.created("program");
        return p;
    }

    /**
     * Builds {@code source}; tries sub-group reductions and int8 dot products
     * (cl_khr_integer_dot_product) first where the device has them, and plain local-memory
     * reductions and int multiply-adds where those do not build. Options in
     * {@code -Dhearth.opencl.buildOptions} are added (the tests use -cl-opt-disable on PoCL,
     * which compiles several times faster).
     */
    private cl_program buildWithOptions(String label, String source) {
        String extra = System.getProperty("hearth.opencl.buildOptions", "").trim();
        String special = (subgroupOptions + " " + dotOptions).trim();
        if (!special.isEmpty()) {
            try {
                return cache.build(context, id, info, label, source, (special + " " + extra).trim());
            } catch (HearthException e) {
                LOG.log(System.Logger.Level.INFO, name() + ": kernels with '" + special
                        + "' did not build, using local-memory reductions and int multiply-adds: " + e.getMessage());
                subgroupOptions = "";
                dotOptions = "";
            }
        }
        return cache.build(context, id, info, label, source, extra);
    }

    /** Kernel {@code name} of file {@code file}. */
    synchronized cl_kernel kernel(String file, String name) {
        String key = file + ":" + name;
        cl_kernel k = kernels.get(key);
        if (k == null) {
            k = CL.clCreateKernel(program(file), name, null);
            live.created("kernel");
            kernels.put(key, k);
            kernelLimits.put(k, Cl.kernelWorkGroupSize(k, id));
        }
        return k;
    }

    /** The largest power of two at most {@code want} that kernel {@code k} may run as one work-group. */
    synchronized int workGroup(cl_kernel k, int want) {
        long limit = Math.min(kernelLimits.getOrDefault(k, info.maxWorkGroup()), info.maxWorkGroup());
        int wg = 1;
        while (wg * 2 <= want && wg * 2 <= limit) wg *= 2;
        return wg;
    }

    /** The work-group limit of kernel {@code k} on this device. */
    synchronized long kernelLimit(cl_kernel k) {
        return Math.min(kernelLimits.getOrDefault(k, info.maxWorkGroup()), info.maxWorkGroup());
    }

    @Override
    public String toString() {
        return name();
    }
}
