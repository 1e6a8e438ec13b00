package dev.hearth.backend.cpu;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.backend.BackendProvider;
import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.backend.MemoryInfo;
import dev.hearth.runtime.backend.Stream;
import dev.hearth.runtime.backend.TensorRef;
import dev.hearth.runtime.dtype.CacheTypes;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.tensor.TensorDesc;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;

/**
 * The host's cores as one device. Memory is the host's: {@link #allocate} takes zeroed, 64-byte
 * aligned memory from the OS and {@link #wrapHost} computes straight from a mapped model file.
 * Streams share one pool of {@link #threads()} threads (system property {@code hearth.threads},
 * else the available processors), which {@link #setThreads} changes. Q4_0, Q8_0, Q4_K and Q6_K
 * weights are repacked for speed unless {@code hearth.cpu.repack=false} ({@link #setRepack}).
 */
public final class CpuDevice implements Device {
    private static final long MIB = 1L << 20;

    /** Types that mul_mat and get_rows read as weights. */
    static final Set<DType> WEIGHT_TYPES = EnumSet.of(DType.F32, DType.F16, DType.BF16, DType.Q4_0, DType.Q4_1,
            DType.Q5_0, DType.Q5_1, DType.Q8_0, DType.Q4_K, DType.Q5_K, DType.Q6_K, DType.MXFP4);
    /** Types the other ops read and write, besides F32. */
    private static final Set<DType> FLOAT_TYPES = EnumSet.of(DType.F32, DType.F16, DType.BF16);

    private final BackendProvider provider;
    private volatile CpuPool pool;
    private volatile boolean repack = !"false".equals(System.getProperty("hearth.cpu.repack"));

    public CpuDevice(BackendProvider provider, int threads) {
        this.provider = provider;
        this.pool = new CpuPool(threads);
    }

    /** A device of its own with {@code threads} threads (tests, benchmarks). */
    public CpuDevice(int threads) {
        this(new CpuProvider(), threads);
    }

    /** {@code hearth.threads} where set, else the available processors. */
    static int defaultThreads() {
        String p = System.getProperty("hearth.threads");
        if (p != null && !p.isBlank()) {
            try {
                int n = Integer.parseInt(p.trim());
                if (n >= 1) return n;
            } catch (NumberFormatException ignored) {
                // fall through to the message below
            }
            throw new HearthException("hearth.threads=" + p + " is not a positive whole number");
        }
        return Runtime.getRuntime().availableProcessors();
    }

    public int threads() {
        return pool.threads();
    }

    /** Uses {@code n} threads from the next compute on; streams that are computing finish first. */
    public synchronized void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be at least 1: " + n);
        if (n == pool.threads()) return;
        CpuPool old = pool;
        pool = new CpuPool(n);
        old.close();
    }

    CpuPool pool() {
        return pool;
    }

    /**
     * Whether Q4_0, Q8_0, Q4_K and Q6_K weights in WEIGHTS buffers are repacked on first use for
     * faster matrix-vector products (a copy of each such tensor, freed with its buffer; skipped
     * when memory is short; the mapped file's pages are handed back once the copy exists).
     * System property {@code hearth.cpu.repack}, default true.
     */
    public boolean repack() {
        return repack;
    }

    /** Sets {@link #repack()} for splits planned from now on. */
    public void setRepack(boolean on) {
        repack = on;
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public BackendProvider provider() {
        return provider;
    }

    @Override
    public MemoryInfo memory() {
        long[] m = meminfo();
        if (m != null) return new MemoryInfo(m[0], m[1]);
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return new MemoryInfo(os.getFreeMemorySize(), os.getTotalMemorySize());
        }
        Runtime rt = Runtime.getRuntime();
        return new MemoryInfo(rt.maxMemory() - rt.totalMemory() + rt.freeMemory(), rt.maxMemory());
    }

    /** MemAvailable and MemTotal from /proc/meminfo in bytes, or null where there is none. */
    private static long[] meminfo() {
        Path p = Path.of("/proc/meminfo");
        if (!Files.isReadable(p)) return null;
        try {
            long avail = -1, total = -1;
            for (String line : Files.readAllLines(p)) {
                if (line.startsWith("MemAvailable:")) avail = kib(line);
                else if (line.startsWith("MemTotal:")) total = kib(line);
            }
            return avail >= 0 && total >= 0 ? new long[]{avail, total} : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static long kib(String line) {
        String[] f = line.trim().split("\\s+");
        return Long.parseLong(f[1]) * 1024;
    }

    @Override
    public boolean isHost() {
        return true;
    }

    @Override
    public boolean supports(Node node) {
        return whyNotOrNull(node) == null;
    }

    @Override
    public String whyNot(Node node) {
        String why = whyNotOrNull(node);
        return why != null ? why : "cpu supports " + node;
    }

    private static String whyNotOrNull(Node node) {
        String op = node.op().getClass().getSimpleName();
        return switch (node.op()) {
            case Op.Leaf leaf -> null;
            case Op.MulMat m -> WEIGHT_TYPES.contains(m.w().desc().type()) ? null
                    : "cpu: MulMat does not support weights of type " + m.w().desc().type() + " (supported: " + WEIGHT_TYPES + ")";
            case Op.MulMatId m -> WEIGHT_TYPES.contains(m.w().desc().type()) ? null
                    : "cpu: MulMatId does not support experts of type " + m.w().desc().type() + " (supported: " + WEIGHT_TYPES + ")";
            case Op.GetRows g -> WEIGHT_TYPES.contains(g.table().desc().type()) ? null
                    : "cpu: GetRows does not support tables of type " + g.table().desc().type() + " (supported: " + WEIGHT_TYPES + ")";
            case Op.KvStore k -> cache(op, k.cache());
            case Op.Attention a -> {
                String w = cache(op, a.kCache());
                yield w != null ? w : cache(op, a.vCache());
            }
            case Op.Convert c -> FLOAT_TYPES.contains(c.x().desc().type()) || WEIGHT_TYPES.contains(c.x().desc().type()) ? null
                    : "cpu: Convert does not read " + c.x().desc().type();
            default -> {
                for (Node in : node.inputs()) {
                    DType t = in.desc().type();
                    if (t != DType.I32 && !FLOAT_TYPES.contains(t)) yield "cpu: " + op + " does not read " + in.name() + " of type " + t;
                }
                yield null;
            }
        };
    }

    private static String cache(String op, Node cache) {
        String why = CacheTypes.whyNot(cache.desc().type(), cache.desc().rowLength());
        return why == null ? null : "cpu: " + op + ": " + why;
    }

    @Override
    public Buffer allocate(long bytes, BufferUsage usage) {
        if (bytes < 0) throw new IllegalArgumentException("negative size " + bytes);
        MemoryInfo mem = memory();
        if (bytes > mem.free()) {
            throw new HearthException("cpu: needs " + mib(bytes) + " of host memory, " + mib(mem.free()) + " available (of "
                    + mib(mem.total()) + "): close other programs, or use a smaller model or context");
        }
        Arena arena = Arena.ofShared();
        try {
            MemorySegment seg = arena.allocate(Math.max(bytes, 1), 64); // zeroed
            return new CpuBuffer(this, usage, seg.asSlice(0, bytes), arena);
        } catch (OutOfMemoryError e) {
            arena.close();
            throw new HearthException("cpu: cannot allocate " + mib(bytes) + " of host memory (" + mib(mem.free())
                    + " available): close other programs, or use a smaller model or context", e);
        }
    }

    private static String mib(long bytes) {
        return bytes >= 10 * MIB ? bytes / MIB + " MiB" : bytes + " bytes";
    }

    /** Which repacked copy: the original's address, type and shape. */
    record PackKey(long address, DType type, int k, int n) {
    }

    private static final class Pack {
        final Repack.Copy copy;
        final Arena arena;
        int users;

        Pack(Repack.Copy copy, Arena arena) {
            this.copy = copy;
            this.arena = arena;
        }
    }

    /** Whether a weight was left unrepacked for want of memory (said once). */
    private boolean warnedShort;

    /** Repacked copies by original, shared by every buffer over the same memory (a server's engines share a mapped file). */
    private final java.util.Map<PackKey, Pack> packs = new java.util.HashMap<>();

    /**
     * The x8 form ({@link Repack}) of {@code src}, made by the first buffer that asks and freed
     * when the last one that asked releases it (then the garbage collector frees it); null where
     * memory (the machine's, or the Java heap's) is short.
     */
    synchronized Repack.Copy acquirePack(PackKey key, MemorySegment src, CpuPool pool) {
        Pack p = packs.get(key);
        if (p == null) {
            int nb = key.k() / key.type().blockSize, n = key.n();
            long bytes = Repack.bytes(key.type(), nb, n);
            Runtime rt = Runtime.getRuntime();
            long heap = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
            boolean onHeap = !Repack.Copy.isNative(key.type());
            String shortOf = memory().free() < bytes + 512 * MIB ? String.format("%,d MiB of memory free", memory().free() >> 20)
                    : onHeap && bytes > Repack.MAX_BYTES ? "more than a Java array holds"
                    : onHeap && heap < bytes + 256 * MIB ? String.format("%,d MiB of Java heap left (HEARTH_JAVA_OPTS=-Xmx... gives more)", heap >> 20)
                    : null;
            if (shortOf != null) {
                if (!warnedShort) {
                    warnedShort = true;
                    System.getLogger(CpuDevice.class.getName()).log(System.Logger.Level.WARNING, String.format(
                            "cpu: %s: too little to repack a %s weight of %,d MiB for the faster kernels; it and any other weight"
                                    + " that does not fit use the row kernels (slower)", shortOf, key.type(), bytes >> 20));
                }
                return null;
            }
            Arena arena = onHeap ? null : Arena.ofShared();
            Repack.Copy dst = Repack.Copy.allocate(key.type(), bytes, arena);
            int groups = n / 8, chunk = 64;
            pool.run((groups + chunk - 1) / chunk, (i, w) -> Repack.repack(key.type(), src, nb, dst, i * chunk, Math.min(groups, (i + 1) * chunk)));
            // The kernels read the copy from now on: hand the mapped file's pages back to the page
            // cache, so resident memory holds the model once (read again from the file if touched).
            if (src.isMapped()) src.unload();
            p = new Pack(dst, arena);
            packs.put(key, p);
        }
        p.users++;
        return p.copy;
    }

    synchronized void releasePack(PackKey key) {
        Pack p = packs.get(key);
        if (p != null && --p.users == 0) {
            packs.remove(key);
            if (p.arena != null) p.arena.close();
        }
    }

    /** Number of repacked copies alive (for tests). */
    synchronized int packCount() {
        return packs.size();
    }

    /** Repacks Q4_0, Q8_0, Q4_K and Q6_K matrices of 8 rows or more in weight buffers (see {@link #repack()}). */
    @Override
    public long prepareWeight(TensorRef weight) {
        TensorDesc d = weight.desc();
        if (!repack() || !Repack.repacks(d.type()) || d.rows() < 8 || d.rowLength() % d.type().blockSize != 0
                || !(weight.buffer() instanceof CpuBuffer cb) || cb.usage() != BufferUsage.WEIGHTS) {
            return 0;
        }
        return cb.packed(d.type(), weight.offset(), (int) d.rowLength(), (int) d.rows(), pool()) != null ? d.bytes() : 0;
    }

    @Override
    public Buffer wrapHost(MemorySegment host, BufferUsage usage) {
        return new CpuBuffer(this, usage, host, null);
    }

    @Override
    public Stream openStream() {
        return new CpuStream(this);
    }

    @Override
    public String toString() {
        return name();
    }
}
