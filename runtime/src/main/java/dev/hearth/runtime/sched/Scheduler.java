package dev.hearth.runtime.sched;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Decides where each node of a graph runs, splits the graph at device boundaries, and lays out
 * each device's compute buffer, all without running anything.
 *
 * <p>Rules: a Weight or State leaf lives where its buffer is ({@code leafDevice}). A node that
 * reads its "own" weight (mul_mat's matrix, get_rows' table, rms_norm's weight, the cache of
 * kv_store and attention) runs on that weight's device if the device supports it. Any other
 * node runs where the node before it in the graph ran, so a layer's cheap ops stay with its
 * matrices. A node its chosen device cannot compute goes to the first device of
 * {@code fallbacks} that can. A kv_store always runs where its cache is. A reshape is a view: it
 * lives where the value it views is, and takes no memory of its own ({@link Schedule}).
 */
public final class Scheduler {
    private Scheduler() {
    }

    public static Schedule schedule(Graph graph, Function<Node, Device> leafDevice, List<Device> fallbacks) {
        if (fallbacks.isEmpty()) throw new IllegalArgumentException("no fallback device");
        Map<Node, Device> where = new IdentityHashMap<>();
        for (Node n : graph.nodes()) {
            if (n.op() instanceof Op.Weight || n.op() instanceof Op.State) {
                Device d = leafDevice.apply(n);
                if (d == null) throw new HearthException("no device holds " + n.name());
                where.put(n, d);
            }
        }
        Device current = null;
        for (Node n : graph.nodes()) {
            if (n.isLeaf()) continue;
            if (n.op() instanceof Op.Reshape r) {
                where.put(n, where.get(r.x())); // a view lives with the value it views; it keeps the run going
                continue;
            }
            Node own = ownWeight(n);
            Device d = own != null ? where.get(own) : null;
            if (n.op() instanceof Op.KvStore) {
                if (!d.supports(n)) throw new HearthException(d.name() + " cannot store into the KV cache " + own.name() + ": " + d.whyNot(n));
            } else {
                if (d == null || !d.supports(n)) d = current;
                if (d == null || !d.supports(n)) d = fallback(n, fallbacks);
            }
            where.put(n, d);
            current = d;
        }
        List<Split> splits = new ArrayList<>();
        List<Node> run = new ArrayList<>();
        Device runDevice = null;
        for (Node n : graph.nodes()) {
            if (n.isLeaf()) continue;
            Device d = where.get(n);
            if (d != runDevice && !run.isEmpty()) {
                splits.add(split(runDevice, run, where));
                run = new ArrayList<>();
            }
            runDevice = d;
            run.add(n);
        }
        if (!run.isEmpty()) splits.add(split(runDevice, run, where));
        return new Schedule(graph, where, splits);
    }

    private static Device fallback(Node n, List<Device> fallbacks) {
        for (Device f : fallbacks) if (f.supports(n)) return f;
        throw new HearthException("no device computes " + n + ": " + fallbacks.getLast().whyNot(n));
    }

    private static Split split(Device d, List<Node> nodes, Map<Node, Device> where) {
        LinkedHashSet<Node> imports = new LinkedHashSet<>();
        for (Node n : nodes) {
            for (Node in : n.inputs()) {
                Device src = where.get(in);
                if (src != d) imports.add(in); // host input (no device) or another device's value
            }
        }
        return new Split(d, List.copyOf(nodes), List.copyOf(imports));
    }

    /** The weight that decides where a node runs, or null. */
    static Node ownWeight(Node n) {
        return switch (n.op()) {
            case Op.MulMat m -> m.w();
            case Op.MulMatId m -> m.w();
            case Op.GetRows g -> g.table();
            case Op.RmsNorm r -> r.weight();
            case Op.KvStore k -> k.cache();
            case Op.Attention a -> a.kCache();
            default -> null;
        };
    }

    /** Devices of a schedule in the order they first compute. */
    static List<Device> devices(List<Split> splits) {
        Map<Device, Boolean> m = new LinkedHashMap<>();
        for (Split s : splits) m.put(s.device(), true);
        return List.copyOf(m.keySet());
    }
}
