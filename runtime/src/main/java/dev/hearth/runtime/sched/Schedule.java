package dev.hearth.runtime.sched;

import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.backend.TensorRef;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Where each node runs, the splits, and the layout of each device's compute buffer: an offset
 * for every value a device computes or imports. Values share space once their last reader has
 * run (as ggml-alloc does), so the buffer is the peak, not the sum.
 */
public final class Schedule {
    static final long ALIGN = 256;

    private final Graph graph;
    private final Map<Node, Device> where;
    private final List<Split> splits;
    /** Offsets of computed values, per device. */
    private final Map<Device, Map<Node, Long>> own = new LinkedHashMap<>();
    /** Offsets of imported copies, per split (index) then node. */
    private final List<Map<Node, Long>> importSlots = new ArrayList<>();
    /** Inputs and weights imported to a device: one slot each for the whole run. */
    private final Map<Device, Map<Node, Long>> staticSlots = new LinkedHashMap<>();
    private final Map<Device, Long> computeBytes = new LinkedHashMap<>();

    Schedule(Graph graph, Map<Node, Device> where, List<Split> splits) {
        this.graph = graph;
        this.where = where;
        this.splits = List.copyOf(splits);
        layout();
    }

    public Graph graph() {
        return graph;
    }

    public List<Split> splits() {
        return splits;
    }

    /** The device that computes {@code n} (or holds it, for weights and state); null for host inputs. */
    public Device deviceOf(Node n) {
        return where.get(n);
    }

    /** Bytes of compute buffer each device needs for this graph. */
    public Map<Device, Long> computeBytes() {
        return Collections.unmodifiableMap(computeBytes);
    }

    /** Values copied between devices (or from the host) per run, excluding one-time weight copies. */
    public int copiesPerRun() {
        int n = 0;
        for (Split s : splits) for (Node i : s.imports()) if (!(i.op() instanceof Op.Weight)) n++;
        return n;
    }

    Map<Node, Long> ownOffsets(Device d) {
        return own.getOrDefault(d, Map.of());
    }

    Map<Node, Long> importOffsets(int split) {
        return importSlots.get(split);
    }

    Map<Node, Long> staticOffsets(Device d) {
        return staticSlots.getOrDefault(d, Map.of());
    }

    /** Allocates compute buffers and binds leaves; {@code leafRef} gives each Weight and State its tensor. */
    public Executor instantiate(Function<Node, TensorRef> leafRef) {
        return new Executor(this, leafRef);
    }

    private static boolean isStatic(Node n) {
        return n.op() instanceof Op.Input || n.op() instanceof Op.Weight;
    }

    private void layout() {
        Map<Device, Allocator> alloc = new LinkedHashMap<>();
        for (Split s : splits) alloc.computeIfAbsent(s.device(), d -> new Allocator());
        // Static slots first: host inputs and weights that another device holds.
        for (Split s : splits) {
            Map<Node, Long> st = staticSlots.computeIfAbsent(s.device(), d -> new LinkedHashMap<>());
            for (Node i : s.imports()) {
                if (isStatic(i) && !st.containsKey(i)) st.put(i, alloc.get(s.device()).take(i.desc().bytes()));
            }
        }
        // Last step (split index, node index) at which each (device, value) is read.
        Map<Device, Map<Node, Integer>> lastUse = new HashMap<>();
        Map<Node, Integer> lastCopy = new IdentityHashMap<>();
        int step = 0;
        Map<Node, Integer> stepOf = new IdentityHashMap<>();
        List<Integer> splitStart = new ArrayList<>();
        for (Split s : splits) {
            splitStart.add(step);
            for (Node i : s.imports()) lastCopy.put(i, step);
            step++;
            for (Node n : s.nodes()) {
                stepOf.put(n, step);
                for (Node in : n.inputs()) {
                    Map<Node, Integer> lu = lastUse.computeIfAbsent(s.device(), d -> new IdentityHashMap<>());
                    lu.put(in, step);
                    // a read of a view on the viewed value's device is a read of that value
                    Node root = viewed(in);
                    if (root != in && where.get(root) == s.device()) lu.put(root, step);
                }
                step++;
            }
        }
        // A copy of a view to another device reads the viewed value.
        for (var e : new ArrayList<>(lastCopy.entrySet())) {
            Node root = viewed(e.getKey());
            if (root != e.getKey()) lastCopy.merge(root, e.getValue(), Math::max);
        }
        java.util.Set<Node> outputs = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        outputs.addAll(graph.outputs());
        for (Node o : graph.outputs()) outputs.add(viewed(o));
        // Release events: step -> (device, offset, size).
        TreeMap<Integer, List<Runnable>> releases = new TreeMap<>();
        for (int si = 0; si < splits.size(); si++) {
            Split s = splits.get(si);
            Allocator a = alloc.get(s.device());
            int start = splitStart.get(si);
            flush(releases, start - 1);
            Map<Node, Long> imp = new LinkedHashMap<>();
            for (Node i : s.imports()) {
                if (isStatic(i)) continue;
                long off = a.take(i.desc().bytes());
                imp.put(i, off);
                int last = lastUse.get(s.device()).get(i);
                long bytes = i.desc().bytes();
                releases.computeIfAbsent(last, k -> new ArrayList<>()).add(() -> a.give(off, bytes));
            }
            importSlots.add(imp);
            Map<Node, Long> mine = own.computeIfAbsent(s.device(), d -> new LinkedHashMap<>());
            for (Node n : s.nodes()) {
                int at = stepOf.get(n);
                flush(releases, at - 1);
                if (n.op() instanceof Op.KvStore) continue; // writes the cache in place
                if (n.op() instanceof Op.Reshape) continue; // a view of its input's memory (Executor)
                long bytes = n.desc().bytes();
                long off = a.take(bytes);
                mine.put(n, off);
                if (outputs.contains(n)) continue;
                int last = at;
                Map<Node, Integer> lu = lastUse.get(s.device());
                if (lu != null && lu.containsKey(n)) last = Math.max(last, lu.get(n));
                if (lastCopy.containsKey(n)) last = Math.max(last, lastCopy.get(n));
                releases.computeIfAbsent(last, k -> new ArrayList<>()).add(() -> a.give(off, bytes));
            }
        }
        alloc.forEach((d, a) -> computeBytes.put(d, a.peak()));
    }

    /** The value a chain of reshapes views, or {@code n} itself. */
    static Node viewed(Node n) {
        while (n.op() instanceof Op.Reshape r) n = r.x();
        return n;
    }

    private static void flush(TreeMap<Integer, List<Runnable>> releases, int upTo) {
        while (!releases.isEmpty() && releases.firstKey() <= upTo) {
            for (Runnable r : releases.pollFirstEntry().getValue()) r.run();
        }
    }

    /** First-fit allocation of aligned ranges, merging freed neighbours; tracks the peak. */
    static final class Allocator {
        private final TreeMap<Long, Long> free = new TreeMap<>(); // offset -> size
        private long top;
        private long peak;

        long take(long bytes) {
            long size = Math.max(ALIGN, (bytes + ALIGN - 1) / ALIGN * ALIGN);
            for (var e : free.entrySet()) {
                // Read the entry before removing it: TreeMap may reuse the entry for its successor.
                long off = e.getKey();
                long have = e.getValue();
                if (have >= size) {
                    free.remove(off);
                    if (have > size) free.put(off + size, have - size);
                    return off;
                }
            }
            // Grow from the top, reusing a free block that ends at the top.
            var last = free.lastEntry();
            long off = top;
            if (last != null && last.getKey() + last.getValue() == top) {
                off = last.getKey();
                free.remove(last.getKey());
            }
            top = off + size;
            peak = Math.max(peak, top);
            return off;
        }

        void give(long off, long bytes) {
            long size = Math.max(ALIGN, (bytes + ALIGN - 1) / ALIGN * ALIGN);
            var next = free.ceilingEntry(off);
            if (next != null && next.getKey() == off + size) {
                size += next.getValue();
                free.remove(next.getKey());
            }
            var prev = free.floorEntry(off);
            if (prev != null && prev.getKey() + prev.getValue() == off) {
                off = prev.getKey();
                size += prev.getValue();
                free.remove(prev.getKey());
            }
            if (off + size == top) {
                top = off;
            } else {
                free.put(off, size);
            }
        }

        long peak() {
            return peak;
        }
    }
}
