package dev.hearth.runtime.conformance;

import dev.hearth.runtime.backend.BackendProvider;
import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.backend.MemoryInfo;
import dev.hearth.runtime.backend.Stream;
import dev.hearth.runtime.backend.Subgraph;
import dev.hearth.runtime.backend.TensorRef;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.reference.ReferenceDevice;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.function.Predicate;

/**
 * A device with a deliberate bug for testing the runner: it is the reference device, except that
 * its add subtracts (or every compute throws). It supports only the nodes {@code filter} accepts.
 */
final class WrongDevice implements Device {
    private final Device inner = new ReferenceDevice();
    private final Predicate<Node> filter;
    private final boolean throwing;

    WrongDevice(Predicate<Node> filter) {
        this(filter, false);
    }

    /** With {@code throwing}, every compute fails as a kernel launch might. */
    WrongDevice(Predicate<Node> filter, boolean throwing) {
        this.filter = filter;
        this.throwing = throwing;
    }

    @Override
    public String name() {
        return "wrong";
    }

    @Override
    public BackendProvider provider() {
        return inner.provider();
    }

    @Override
    public MemoryInfo memory() {
        return inner.memory();
    }

    @Override
    public boolean supports(Node node) {
        return filter.test(node) && inner.supports(node);
    }

    @Override
    public String whyNot(Node node) {
        return "wrong has no " + node.op().getClass().getSimpleName();
    }

    @Override
    public Buffer allocate(long bytes, BufferUsage usage) {
        return inner.allocate(bytes, usage);
    }

    @Override
    public boolean isHost() {
        return true;
    }

    @Override
    public Stream openStream() {
        Stream s = inner.openStream();
        return new Stream() {
            @Override
            public void compute(Subgraph split) {
                if (throwing) throw new IllegalStateException("kernel launch failed");
                for (Node n : split.nodes()) {
                    if (n.op() instanceof Op.Add a) {
                        subtract(split.ref(a.a()), split.ref(a.b()), split.ref(n));
                    } else {
                        s.compute(new Subgraph(split.device(), List.of(n), split.tensors()));
                    }
                }
            }

            @Override
            public void synchronize() {
                s.synchronize();
            }
        };
    }

    private static void subtract(TensorRef a, TensorRef b, TensorRef out) {
        long n = a.desc().elements();
        long bn = b.desc().elements();
        var f = ValueLayout.JAVA_FLOAT_UNALIGNED;
        MemorySegment as = a.buffer().hostSegment();
        MemorySegment bs = b.buffer().hostSegment();
        MemorySegment os = out.buffer().hostSegment();
        for (long i = 0; i < n; i++) {
            float x = as.get(f, a.offset() + 4 * i);
            float y = bs.get(f, b.offset() + 4 * (i % bn));
            os.set(f, out.offset() + 4 * i, x - y);
        }
    }
}
