package dev.hearth.runtime.sched;

import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.backend.TensorRef;
import dev.hearth.runtime.dtype.Codecs;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** Weights and states of a test graph, each in a buffer of the device that holds it. */
final class Leaves implements AutoCloseable {
    private final Map<Node, TensorRef> refs = new IdentityHashMap<>();
    private final List<Buffer> buffers = new ArrayList<>();

    /** Allocates each weight and state on {@code where.apply(leaf)} and writes {@code values.get(name)} (encoded) into it. */
    Leaves(Graph g, Function<Node, Device> where, Map<String, float[]> values) {
        for (Node n : g.nodes()) {
            if (!(n.op() instanceof Op.Weight) && !(n.op() instanceof Op.State)) continue;
            float[] v = values.get(n.name());
            if (v == null) throw new IllegalArgumentException("no values for " + n.name());
            Buffer b = where.apply(n).allocate(n.desc().bytes(), n.op() instanceof Op.State ? BufferUsage.KV : BufferUsage.WEIGHTS);
            buffers.add(b);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment s = a.allocate(n.desc().bytes());
                int k = (int) n.desc().rowLength();
                for (int r = 0; r < n.desc().rows(); r++) Codecs.of(n.desc().type()).quantizeRow(v, r * k, s, r * n.desc().rowBytes(), k);
                b.write(0, s);
            }
            refs.put(n, new TensorRef(n.desc(), b, 0));
        }
    }

    TensorRef ref(Node n) {
        return refs.get(n);
    }

    @Override
    public void close() {
        for (Buffer b : buffers) b.close();
    }
}
