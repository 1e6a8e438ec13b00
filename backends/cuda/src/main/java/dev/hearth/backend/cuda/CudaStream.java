package dev.hearth.backend.cuda;

import dev.hearth.runtime.backend.Stream;
import dev.hearth.runtime.backend.Subgraph;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A CUDA stream of one device. {@link #compute} queues a subgraph's kernels and returns without
 * waiting; each subgraph is compiled once into a {@link CudaPlan} (kept per subgraph object, as
 * the scheduler hands the same object for every run of a plan) and, from its second run on,
 * replayed as a CUDA graph, which costs one launch instead of one per kernel. System property
 * {@code hearth.cuda.graphs=false} turns graphs off. The stream is a blocking one, so the
 * synchronous copies of {@link CudaBuffer} wait for its work. Closing it frees its plans; the
 * device closes the streams still open when it closes.
 */
final class CudaStream implements Stream {
    /** Plans kept per stream; the least recently used beyond this are freed. */
    static final int MAX_PLANS = 64;

    private final CudaDevice device;
    private final boolean graphs;
    private final CUstream stream = new CUstream();
    private final Map<Key, CudaPlan> plans = new LinkedHashMap<>(16, 0.75f, true);
    private boolean closed;

    /** Identity of a subgraph (a record, whose own equals compares contents). */
    private record Key(Subgraph s) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.s == s;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(s);
        }
    }

    CudaStream(CudaDevice device, boolean graphs) {
        this.device = device;
        this.graphs = graphs;
        device.makeCurrent();
        Cuda.check(JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_DEFAULT), "cuStreamCreate");
        device.ledger().opened(CudaLedger.Kind.STREAM, stream);
    }

    /** Whether CUDA graphs are on: system property hearth.cuda.graphs, true unless "false". */
    static boolean graphsEnabled() {
        return !"false".equalsIgnoreCase(System.getProperty("hearth.cuda.graphs", "true"));
    }

    @Override
    public synchronized void compute(Subgraph split) {
        if (closed) throw new IllegalStateException("stream on " + device.name() + " is closed");
        if (split.device() != device) throw new IllegalArgumentException("a subgraph of " + split.device().name() + " sent to " + device.name());
        device.makeCurrent();
        plan(split).run(stream, graphs, device.staging());
    }

    /** The plan of a subgraph, built on first use. */
    synchronized CudaPlan plan(Subgraph split) {
        Key key = new Key(split);
        CudaPlan p = plans.get(key);
        if (p == null) {
            device.makeCurrent();
            p = CudaPlan.build(device, split);
            plans.put(key, p);
            if (plans.size() > MAX_PLANS) {
                var eldest = plans.entrySet().iterator().next();
                synchronize(); // its scratch may still be in use
                eldest.getValue().close();
                plans.remove(eldest.getKey());
            }
        }
        return p;
    }

    @Override
    public synchronized void synchronize() {
        if (closed) return;
        device.makeCurrent();
        Cuda.check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        device.makeCurrent();
        JCudaDriver.cuStreamSynchronize(stream);
        for (CudaPlan p : plans.values()) p.close();
        plans.clear();
        JCudaDriver.cuStreamDestroy(stream);
        device.ledger().closed(CudaLedger.Kind.STREAM, stream);
        closed = true;
        device.closed(this);
    }
}
