package dev.hearth.backend.cuda;

import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.backend.TensorRef;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.sched.Executor;
import dev.hearth.runtime.sched.Schedule;
import dev.hearth.runtime.sched.Scheduler;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A device of its own (not the one GpuTesting shares) runs a plan with split attention (scratch)
 * three times (a CUDA graph from the second run), uploads through the pinned staging buffers,
 * and keeps a stream and a buffer open; closing it must leave its ledger empty.
 */
@Tag("gpu")
class CudaLedgerGpuTest {
    @Test
    void closingTheDeviceFreesEverything() {
        CudaProvider provider = new CudaProvider();
        List<Device> devices = provider.devices();
        assumeTrue(!devices.isEmpty(), provider.unavailableReason());
        CudaDevice device = (CudaDevice) devices.getFirst();
        CudaLedger ledger = device.ledger();
        List<Buffer> buffers = new ArrayList<>();
        try {
            GpuTesting.Case c = new GpuTesting.Case(11);
            Node w = c.weight("w", DType.Q8_0, 1f, 256, 512);
            Node x = c.input("x", DType.F32, 1f, 256, 1);
            Node q = c.graph.mulMat("q", w, x);
            Node k = c.state("k", DType.F16, 1f, 2 * 64, 4096);
            Node v = c.state("v", DType.F16, 1f, 2 * 64, 4096);
            c.output(c.graph.attention("att", q, k, v, c.ints("pos", 4000), 8, 2, 64, 0.125f));
            Map<Node, TensorRef> leaves = new IdentityHashMap<>();
            for (Node n : c.graph.nodes()) {
                if (!(n.op() instanceof Op.Weight) && !(n.op() instanceof Op.State)) continue;
                Buffer b = device.allocate(n.desc().bytes(), n.op() instanceof Op.Weight ? BufferUsage.WEIGHTS : BufferUsage.KV);
                buffers.add(b);
                // a heap copy goes through the pinned staging buffers
                b.write(0, MemorySegment.ofArray(c.data.get(n.name()).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)));
                leaves.put(n, new TensorRef(n.desc(), b, 0));
            }
            Schedule s = Scheduler.schedule(c.graph, n -> device, List.of(device));
            try (Executor ex = s.instantiate(leaves::get)) {
                ex.setInput("x", c.data.get("x"));
                ex.setInput("pos", c.data.get("pos"));
                for (int i = 0; i < 3; i++) ex.run();
                assertTrue(ledger.count(CudaLedger.Kind.STREAM) >= 1, ledger.toString());
                assertTrue(ledger.count(CudaLedger.Kind.EVENT) == 2, ledger.toString());
                if (CudaStream.graphsEnabled()) assertTrue(ledger.count(CudaLedger.Kind.GRAPH_EXEC) >= 1, ledger.toString());
                assertTrue(ledger.count(CudaLedger.Kind.MODULE) >= 1, "the kernels' modules are loaded: " + ledger);
            }
            assertEquals(0, ledger.count(CudaLedger.Kind.STREAM), "the executor closed its streams: " + ledger);
            assertEquals(0, ledger.count(CudaLedger.Kind.GRAPH), "and their plans' graphs: " + ledger);
            assertEquals(buffers.size(), ledger.count(CudaLedger.Kind.DEVICE_MEMORY), "the plans' scratch is freed: " + ledger);
            // left open for the device to close
            device.openStream();
            buffers.add(device.allocate(1 << 20, BufferUsage.COMPUTE));
        } finally {
            device.close();
        }
        assertTrue(ledger.isEmpty(), ledger.toString());
        assertThrows(IllegalStateException.class, () -> buffers.getFirst().write(0, MemorySegment.ofArray(new byte[4])));
        assertThrows(IllegalStateException.class, () -> device.allocate(16, BufferUsage.KV));
    }
}
