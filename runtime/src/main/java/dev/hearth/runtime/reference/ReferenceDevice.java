package dev.hearth.runtime.reference;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.backend.BackendProvider;
import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.backend.HostBuffer;
import dev.hearth.runtime.backend.MemoryInfo;
import dev.hearth.runtime.backend.Stream;
import dev.hearth.runtime.dtype.CacheTypes;
import dev.hearth.runtime.dtype.Codecs;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;

/**
 * The reference device: host memory and scalar Java. It supports every op of {@link Op} on every
 * tensor type that has a reference codec ({@link Codecs#has}); KV caches are F32, F16, Q8_0 or Q4_0.
 */
public final class ReferenceDevice implements Device {
    private static final long MIB = 1L << 20;

    private final BackendProvider provider;
    private final String name;

    /** A reference device of its own, apart from the one the provider lists (tests compare two). */
    public ReferenceDevice() {
        this(new ReferenceProvider(), "reference");
    }

    public ReferenceDevice(BackendProvider provider, String name) {
        this.provider = provider;
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public BackendProvider provider() {
        return provider;
    }

    @Override
    public MemoryInfo memory() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return new MemoryInfo(os.getFreeMemorySize(), os.getTotalMemorySize());
        }
        Runtime rt = Runtime.getRuntime();
        return new MemoryInfo(rt.maxMemory() - rt.totalMemory() + rt.freeMemory(), rt.maxMemory());
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
        return why != null ? why : name + " supports " + node;
    }

    /** The reason this device cannot compute {@code node}, or null where it can. */
    private String whyNotOrNull(Node node) {
        String op = node.op().getClass().getSimpleName();
        if (node.isLeaf()) return null;
        if (!(node.op() instanceof Op.TopK) && !Codecs.has(node.desc().type())) return name + ": " + op + " cannot write " + node.desc().type() + " (no reference codec)";
        for (Node in : node.inputs()) {
            DType t = in.desc().type();
            if (isIndex(node.op(), in)) {
                if (t != DType.I32) return name + ": " + op + " needs I32 " + in.name() + ", not " + t;
            } else if (!Codecs.has(t)) {
                return name + ": " + op + " cannot read " + in.name() + " of type " + t + " (no reference codec)";
            }
        }
        return switch (node.op()) {
            case Op.KvStore k -> cacheType(op, k.cache());
            case Op.Attention a -> {
                String why = cacheType(op, a.kCache());
                yield why != null ? why : cacheType(op, a.vCache());
            }
            default -> null;
        };
    }

    /** Whether {@code in} is the token ids or positions of {@code op}. */
    private static boolean isIndex(Op op, Node in) {
        return switch (op) {
            case Op.GetRows g -> in == g.ids();
            case Op.Rope r -> in == r.pos();
            case Op.KvStore k -> in == k.pos();
            case Op.Attention a -> in == a.pos();
            case Op.Gather g -> in == g.ids();
            case Op.MulMatId m -> in == m.ids();
            case Op.AddId a -> in == a.ids();
            default -> false;
        };
    }

    private String cacheType(String op, Node cache) {
        String why = CacheTypes.whyNot(cache.desc().type(), cache.desc().rowLength());
        return why == null ? null : name + ": " + op + ": " + why;
    }

    @Override
    public Buffer allocate(long bytes, BufferUsage usage) {
        if (bytes < 0) throw new IllegalArgumentException("negative size " + bytes);
        MemoryInfo mem = memory();
        if (bytes > mem.total()) {
            throw new HearthException(name + ": needs " + bytes / MIB + " MiB of host memory, the machine has "
                    + mem.total() / MIB + " MiB in all: use a smaller model or context");
        }
        Arena arena = Arena.ofShared();
        try {
            MemorySegment seg = arena.allocate(Math.max(bytes, 1), 64); // zeroed
            return new HostBuffer(this, usage, seg.asSlice(0, bytes), arena);
        } catch (OutOfMemoryError e) {
            arena.close();
            throw new HearthException(name + ": cannot allocate " + bytes / MIB + " MiB of host memory ("
                    + mem.free() / MIB + " MiB free): close other programs or use a smaller model or context", e);
        }
    }

    @Override
    public Buffer wrapHost(MemorySegment host, BufferUsage usage) {
        return new HostBuffer(this, usage, host, null);
    }

    @Override
    public Stream openStream() {
        return new ReferenceStream();
    }

    @Override
    public String toString() {
        return name;
    }
}
