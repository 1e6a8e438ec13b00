package dev.hearth.backend.cuda;

import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a subgraph's launches share or fuse, decided from its nodes alone, and the scratch layout
 * that follows:
 * <ul>
 * <li>q8_1 activations: every tensor x that matrix-vector kernels read as q8_1 (quantized weights,
 * at most {@link KernelCalls#VEC_MAX_TOKENS} tokens; mul_mat_id too) is quantized once, into a
 * region of the scratch that stays valid from its quantization to its last reader (q, k and v
 * share their normed input's; gate and up theirs). Regions whose lives do not overlap share
 * memory (first fit in node order).</li>
 * <li>An rms_norm or swiglu whose result is read as q8_1 writes the q8_1 blocks itself
 * (rms_norm_q8_1, swiglu_q8_1) as well as its F32 rows, which readers outside the subgraph may
 * need: no quantize launch (the attention and feed-forward inputs, the down projection's).</li>
 * <li>A residual add right before such an rms_norm (leaves aside), of as many elements on both sides and at most
 * {@link KernelCalls#VEC_MAX_TOKENS} rows, is done by the norm (add_rms_norm_q8_1), which writes
 * the sum too.</li>
 * <li>A kv_store of a rope's result into an F32 or F16 cache is done by the rope (rope_store),
 * where no node in between reads the cache or stores into any cache (as the OpenCL Planner does)
 * and the store's positions are not computed in between.</li>
 * </ul>
 * The scratch holds, from offset 0, the bytes a single node needs for itself (attention's
 * splits), then the q8_1 regions.
 */
final class Fusion {
    /** q8_1 regions start on this alignment. */
    private static final long ALIGN = 256;

    private final Map<Node, Long> q8Offsets = new IdentityHashMap<>();
    private final Map<Node, Node> firstReader = new IdentityHashMap<>();
    private final Map<Node, Boolean> writesQ8 = new IdentityHashMap<>();
    private final Map<Node, Node> addOfNorm = new IdentityHashMap<>();
    private final Map<Node, Boolean> addedByNorm = new IdentityHashMap<>();
    private final Map<Node, Node> storeOfRope = new IdentityHashMap<>();
    private final Map<Node, Boolean> storedByRope = new IdentityHashMap<>();
    private long scratchBytes;

    private Fusion() {
    }

    /** The x a node reads as q8_1 activations, or null. */
    static Node q8Input(Node n) {
        return switch (n.op()) {
            case Op.MulMat m when m.w().desc().type().isQuantized() && m.x().desc().rows() <= KernelCalls.VEC_MAX_TOKENS -> m.x();
            case Op.MulMatId m when m.w().desc().type().isQuantized() -> m.x();
            default -> null;
        };
    }

    /** The q8_1 bytes of x: a block of 32 per 32 elements of each row. */
    static long q8Bytes(Node x) {
        return x.desc().rows() * (x.desc().rowLength() / 32) * KernelCalls.Q8_1_BYTES;
    }

    static Fusion of(List<Node> nodes) {
        Fusion f = new Fusion();
        Map<Node, Integer> index = new IdentityHashMap<>();
        for (int i = 0; i < nodes.size(); i++) index.put(nodes.get(i), i);
        long single = 0;
        // each q8_1 source: where its region's life starts (its quantization) and ends (its last reader)
        Map<Node, int[]> life = new IdentityHashMap<>();
        List<Node> sources = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            if (n.op() instanceof Op.Attention) single = Math.max(single, KernelCalls.scratchBytes(n));
            Node x = q8Input(n);
            if (x == null) continue;
            int[] span = life.get(x);
            if (span == null) {
                boolean byProducer = (x.op() instanceof Op.RmsNorm || x.op() instanceof Op.Swiglu) && index.containsKey(x)
                        && x.desc().rowLength() % 32 == 0;
                if (byProducer) f.writesQ8.put(x, true);
                else f.firstReader.put(x, n);
                life.put(x, new int[]{byProducer ? index.get(x) : i, i});
                sources.add(x);
            } else {
                span[1] = i;
            }
        }
        sources.sort((a, b) -> Integer.compare(life.get(a)[0], life.get(b)[0]));
        long base = align(single);
        long top = base;
        List<long[]> live = new ArrayList<>(); // {offset, bytes, last reader}
        for (Node x : sources) {
            int[] span = life.get(x);
            long bytes = q8Bytes(x);
            live.removeIf(r -> r[2] < span[0]);
            live.sort((a, b) -> Long.compare(a[0], b[0]));
            long at = base;
            for (long[] r : live) {
                if (at + bytes <= r[0]) break;
                at = Math.max(at, align(r[0] + r[1]));
            }
            live.add(new long[]{at, bytes, span[1]});
            f.q8Offsets.put(x, at);
            top = Math.max(top, at + bytes);
        }
        f.scratchBytes = sources.isEmpty() ? single : top;
        for (int i = 1; i < nodes.size(); i++) {
            Node n = nodes.get(i), prev = computedBefore(nodes, i);
            if (n.op() instanceof Op.RmsNorm r && f.writesQ8(n) && r.x() == prev && prev.op() instanceof Op.Add a
                    && a.a().desc().elements() == prev.desc().elements() && a.b().desc().elements() == prev.desc().elements()
                    && a.a().desc().type() == DType.F32 && a.b().desc().type() == DType.F32
                    && prev.desc().rows() <= KernelCalls.VEC_MAX_TOKENS) {
                f.addOfNorm.put(n, prev);
                f.addedByNorm.put(prev, true);
            }
        }
        for (int i = 0; i < nodes.size(); i++) {
            Node store = storeOfRope(nodes, i);
            if (store != null) {
                f.storeOfRope.put(nodes.get(i), store);
                f.storedByRope.put(store, true);
            }
        }
        return f;
    }

    /** The last node before {@code nodes[i]} that is computed (no leaf, such as the norm's weight), or null. */
    private static Node computedBefore(List<Node> nodes, int i) {
        for (int j = i - 1; j >= 0; j--) {
            if (!nodes.get(j).isLeaf()) return nodes.get(j);
        }
        return null;
    }

    private static long align(long bytes) {
        return (bytes + ALIGN - 1) / ALIGN * ALIGN;
    }

    /** The kv_store that rope node {@code nodes[i]} can do itself, or null. */
    private static Node storeOfRope(List<Node> nodes, int i) {
        Node n = nodes.get(i);
        if (!(n.op() instanceof Op.Rope)) return null;
        for (int j = i + 1; j < nodes.size(); j++) {
            Node m = nodes.get(j);
            if (m.op() instanceof Op.KvStore k && k.src() == n) {
                DType type = k.cache().desc().type();
                if (type != DType.F32 && type != DType.F16) return null; // a quantized block needs its 32 values at once
                if (k.cache().desc().rowLength() != n.desc().rowLength()) return null;
                for (int b = i + 1; b < j; b++) {
                    Node mid = nodes.get(b);
                    // a store's positions or cache computed in between would not exist at the rope's turn (leaves always do)
                    if (!mid.isLeaf() && (mid == k.pos() || mid == k.cache()) || mid.op() instanceof Op.KvStore) return null;
                    for (Node in : mid.inputs()) {
                        if (in == k.cache() || in.op() instanceof Op.KvStore) return null;
                    }
                }
                return m;
            }
        }
        return null;
    }

    /** Scratch bytes the plan allocates. */
    long scratchBytes() {
        return scratchBytes;
    }

    /** Offset in the scratch of x's q8_1 blocks; x must be a q8_1 source of the subgraph. */
    long q8Offset(Node x) {
        Long at = q8Offsets.get(x);
        if (at == null) throw new IllegalStateException("no q8_1 region for " + x.name());
        return at;
    }

    /** Whether {@code reader} quantizes its x (the first reader of an x whose producer does not). */
    boolean quantizesInput(Node reader, Node x) {
        return firstReader.get(x) == reader;
    }

    /** Whether rms_norm or swiglu node {@code n} also writes its q8_1 blocks. */
    boolean writesQ8(Node n) {
        return writesQ8.containsKey(n);
    }

    /** The add that rms_norm node {@code n} does first (its input, computed right before it), or null. */
    Node addOf(Node n) {
        return addOfNorm.get(n);
    }

    /** Whether add node {@code n} is done by the rms_norm after it (it has no launch of its own). */
    boolean addedByNorm(Node n) {
        return addedByNorm.containsKey(n);
    }

    /** The kv_store rope node {@code n} does itself, or null. */
    Node storeOf(Node n) {
        return storeOfRope.get(n);
    }

    /** Whether kv_store node {@code n} is done by its rope (it has no launch of its own). */
    boolean storedByRope(Node n) {
        return storedByRope.containsKey(n);
    }
}
