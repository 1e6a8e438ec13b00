package dev.hearth.backend.cuda;

import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Subgraph;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

import java.util.List;

/**
 * A subgraph compiled for one device: its kernel launches with their arguments fixed (tensor
 * addresses, shapes) and the scratch memory they share, which launches use one after another in
 * stream order. Everything that changes from token to token (token ids, positions) is read by
 * the kernels from device memory, so the same launches, or a CUDA graph recorded from them,
 * compute every later run of the subgraph.
 */
final class CudaPlan implements AutoCloseable {
    private final List<Launch> launches;
    private final CudaBuffer scratch;
    private final CudaLedger ledger;
    private int runs;
    private CUgraph graph;
    private CUgraphExec exec;
    private boolean graphFailed;

    private CudaPlan(List<Launch> launches, CudaBuffer scratch, CudaLedger ledger) {
        this.launches = launches;
        this.scratch = scratch;
        this.ledger = ledger;
    }

    static CudaPlan build(CudaDevice device, Subgraph s) {
        Fusion fusion = Fusion.of(s.nodes());
        long scratchBytes = fusion.scratchBytes();
        CudaBuffer scratch = scratchBytes > 0 ? (CudaBuffer) device.allocate(scratchBytes, BufferUsage.COMPUTE) : null;
        try {
            CudaModules modules = device.modules();
            var target = new KernelCalls.Target(modules::function, modules.tensorCores(), device.multiprocessors(),
                    node -> s.ref(node).buffer() instanceof CudaBuffer b && b.isRepacked(s.ref(node).offset()),
                    scratch != null ? scratch.address(0) : 0, fusion);
            List<Launch> launches = KernelCalls.launches(s.nodes(), node -> KernelCalls.address(s, node), target);
            return new CudaPlan(List.copyOf(launches), scratch, device.ledger());
        } catch (RuntimeException e) {
            if (scratch != null) scratch.close();
            throw e;
        }
    }

    List<Launch> launches() {
        return launches;
    }

    /** Queues the launches one by one. */
    void launchAll(CUstream stream) {
        for (Launch l : launches) l.launch(stream);
    }

    /**
     * Queues the work: from the second run on (a subgraph run once, such as a prompt batch, is not
     * worth recording), as one CUDA graph recorded from the launches, where {@code graphs} is on.
     */
    void run(CUstream stream, boolean graphs, Object legacyLock) {
        runs++;
        if (graphs && exec == null && !graphFailed && runs >= 2 && !launches.isEmpty()) record(stream, legacyLock);
        if (graphs && exec != null) {
            Cuda.check(JCudaDriver.cuGraphLaunch(exec, stream), "cuGraphLaunch");
        } else {
            launchAll(stream);
        }
    }

    /** Whether a CUDA graph has been recorded and is used. */
    boolean recorded() {
        return exec != null;
    }

    /**
     * Records the launches into a CUDA graph; on any failure, runs go on launching directly. While
     * a blocking stream records, the legacy default stream cannot be used, so recording holds
     * {@code legacyLock}, which the device's copies and memsets on that stream also take.
     */
    void record(CUstream stream, Object legacyLock) {
        synchronized (legacyLock) {
            recordLocked(stream);
        }
    }

    private void recordLocked(CUstream stream) {
        CUgraph g = new CUgraph();
        int rc = JCudaDriver.cuStreamBeginCapture(stream, jcuda.driver.CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
        if (rc != 0) {
            graphFailed = true;
            return;
        }
        RuntimeException failure = null;
        try {
            launchAll(stream);
        } catch (RuntimeException e) {
            failure = e;
        }
        rc = JCudaDriver.cuStreamEndCapture(stream, g);
        if (failure != null || rc != 0) {
            if (rc == 0) JCudaDriver.cuGraphDestroy(g);
            graphFailed = true;
            if (failure != null) throw failure;
            return;
        }
        CUgraphExec e = new CUgraphExec();
        rc = JCudaDriver.cuGraphInstantiate(e, g, 0);
        if (rc != 0) {
            JCudaDriver.cuGraphDestroy(g);
            graphFailed = true;
            return;
        }
        graph = g;
        exec = e;
        ledger.opened(CudaLedger.Kind.GRAPH, g);
        ledger.opened(CudaLedger.Kind.GRAPH_EXEC, e);
    }

    /** Frees the graph, its executable and the scratch memory. */
    @Override
    public void close() {
        if (exec != null) {
            JCudaDriver.cuGraphExecDestroy(exec);
            ledger.closed(CudaLedger.Kind.GRAPH_EXEC, exec);
        }
        if (graph != null) {
            JCudaDriver.cuGraphDestroy(graph);
            ledger.closed(CudaLedger.Kind.GRAPH, graph);
        }
        exec = null;
        graph = null;
        if (scratch != null) scratch.close();
    }
}
