package dev.hearth.backend.cpu;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.backend.Backends;
import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.backend.MemoryInfo;
import dev.hearth.runtime.backend.TensorRef;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.tensor.TensorDesc;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuDeviceTest {
    @Test
    void foundThroughTheServiceLoader() {
        assertNotNull(Backends.provider("cpu"), "cpu provider not registered");
        Device d = Backends.provider("cpu").devices().getFirst();
        assertTrue(d.isHost());
        assertFalse(d.isGpu());
        assertEquals("cpu", d.name());
    }

    @Test
    void memoryComesFromTheOs() {
        MemoryInfo m = new CpuDevice(1).memory();
        assertTrue(m.total() > 0 && m.free() > 0 && m.free() <= m.total(), m.toString());
    }

    @Test
    void allocationIsZeroedAlignedAndChecked() {
        CpuDevice d = new CpuDevice(1);
        try (Buffer b = d.allocate(1000, BufferUsage.COMPUTE)) {
            MemorySegment s = b.hostSegment();
            assertEquals(1000, b.size());
            assertEquals(0, s.address() % 64);
            for (long i = 0; i < 1000; i++) assertEquals(0, s.get(ValueLayout.JAVA_BYTE, i));
            try (Arena a = Arena.ofConfined()) {
                MemorySegment src = a.allocate(8);
                src.set(ValueLayout.JAVA_LONG, 0, 0x1122334455667788L);
                b.write(992, src);
                MemorySegment dst = a.allocate(8);
                b.read(992, dst);
                assertEquals(0x1122334455667788L, dst.get(ValueLayout.JAVA_LONG, 0));
            }
        }
        long tooMuch = d.memory().total() * 4;
        HearthException e = assertThrows(HearthException.class, () -> d.allocate(tooMuch, BufferUsage.WEIGHTS));
        assertTrue(e.getMessage().contains("MiB"), e.getMessage());
    }

    @Test
    void wrapHostIsZeroCopy() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment host = a.allocate(64);
            Buffer b = new CpuDevice(1).wrapHost(host, BufferUsage.WEIGHTS);
            host.set(ValueLayout.JAVA_INT, 4, 42);
            assertEquals(42, b.hostSegment().get(ValueLayout.JAVA_INT, 4));
            b.close();
            assertTrue(host.scope().isAlive(), "closing a wrapped buffer must leave the caller's memory alone");
        }
    }

    @Test
    void preparesRepackableMatricesInWeightBuffersOnly() {
        CpuDevice d = new CpuDevice(1);
        try (Arena a = Arena.ofShared()) {
            MemorySegment host = a.allocate(DType.Q4_0.bytesFor(256) * 16, 64);
            TensorDesc q16 = TensorDesc.of("w", DType.Q4_0, 256, 16), q4 = TensorDesc.of("w", DType.Q4_0, 256, 4);
            try (Buffer w = d.wrapHost(host, BufferUsage.WEIGHTS); Buffer c = d.wrapHost(host, BufferUsage.COMPUTE)) {
                assertEquals(q16.bytes(), d.prepareWeight(new TensorRef(q16, w, 0)));
                assertEquals(0, d.prepareWeight(new TensorRef(q4, w, 0)), "fewer than 8 rows: the row kernels");
                assertEquals(0, d.prepareWeight(new TensorRef(q16, c, 0)), "not a weight buffer");
                TensorDesc f = TensorDesc.of("f", DType.F32, 64, 16);
                assertEquals(0, d.prepareWeight(new TensorRef(f, w, 0)), "float weights need nothing");
                d.setRepack(false);
                try (Buffer w2 = d.wrapHost(host, BufferUsage.WEIGHTS)) {
                    assertEquals(0, d.prepareWeight(new TensorRef(q16, w2, 0)), "repacking switched off");
                }
            }
        }
    }

    @Test
    void buffersOverTheSameMemoryShareOneRepackedCopy() {
        CpuDevice d = new CpuDevice(1);
        try (Arena a = Arena.ofShared()) {
            MemorySegment host = a.allocate(DType.Q8_0.bytesFor(256) * 16, 64);
            TensorDesc w = TensorDesc.of("w", DType.Q8_0, 256, 16);
            CpuBuffer b1 = (CpuBuffer) d.wrapHost(host, BufferUsage.WEIGHTS), b2 = (CpuBuffer) d.wrapHost(host, BufferUsage.WEIGHTS);
            Repack.Copy p1 = b1.packed(DType.Q8_0, 0, 256, 16, d.pool()), p2 = b2.packed(DType.Q8_0, 0, 256, 16, d.pool());
            assertSame(p1, p2, "one copy for both engines");
            assertEquals(1, d.packCount());
            b1.close();
            assertEquals(1, d.packCount(), "still used by the second buffer");
            assertEquals(w.bytes(), d.prepareWeight(new TensorRef(w, b2, 0)));
            assertSame(p2, b2.packed(DType.Q8_0, 0, 256, 16, d.pool()), "the same copy, not a second one");
            b2.close();
            assertEquals(0, d.packCount(), "dropped with its last user");
        }
    }

    @Test
    void supportsEveryOpAndTheListedWeightTypes() {
        CpuDevice d = new CpuDevice(1);
        Graph g = new Graph();
        Node x = g.input("x", DType.F32, 256, 2);
        for (DType t : CpuDevice.WEIGHT_TYPES) {
            assertTrue(d.supports(g.mulMat("m" + t, g.weight(TensorDesc.of("w" + t, t, 256, 4)), x)), t.name());
        }
        Node q2k = g.mulMat("q2k", g.weight(TensorDesc.of("wq2k", DType.Q2_K, 256, 4)), x);
        assertFalse(d.supports(q2k));
        assertTrue(d.whyNot(q2k).contains("Q2_K"), d.whyNot(q2k));
        Node pos = g.input("pos", DType.I32, 2);
        for (DType t : new DType[]{DType.F32, DType.F16, DType.Q8_0, DType.Q4_0}) {
            assertTrue(d.supports(g.kvStore("kv" + t, g.state(TensorDesc.of("cache" + t, t, 256, 8)), x, pos)), t + " cache");
        }
        Node q41 = g.kvStore("kvq41", g.state(TensorDesc.of("cacheq41", DType.Q4_1, 256, 8)), x, pos);
        assertFalse(d.supports(q41));
        assertTrue(d.whyNot(q41).contains("f16, f32, q8_0, q4_0"), d.whyNot(q41));
        assertTrue(d.supports(g.swiglu("s", x, x)));
        assertTrue(d.supports(g.softmax("sm", x)));
    }

    @Test
    void mappedWeightsComputeAndClosedBuffersAreCaught(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        CpuDevice d = new CpuDevice(2);
        int k = 256, n = 40;
        float[] wv = GraphRun.gaussian(new java.util.Random(3), k * n, 0.1f);
        MemorySegment bytes = dev.hearth.runtime.dtype.Codecs.quantize(DType.Q8_0, wv);
        java.nio.file.Path file = dir.resolve("w.bin");
        java.nio.file.Files.write(file, bytes.toArray(ValueLayout.JAVA_BYTE));
        Graph g = new Graph();
        Node w = g.weight(TensorDesc.of("w", DType.Q8_0, k, n));
        Node x = g.input("x", DType.F32, k);
        Node y = g.mulMat("y", w, x);
        try (Arena mapping = Arena.ofShared(); var ch = java.nio.channels.FileChannel.open(file)) {
            MemorySegment mapped = ch.map(java.nio.channels.FileChannel.MapMode.READ_ONLY, 0, bytes.byteSize(), mapping);
            java.util.Map<Node, dev.hearth.runtime.backend.TensorRef> refs = new java.util.IdentityHashMap<>();
            Buffer wb = d.wrapHost(mapped, BufferUsage.WEIGHTS);
            Buffer xb = d.allocate(4L * k, BufferUsage.COMPUTE), yb = d.allocate(4L * n, BufferUsage.COMPUTE);
            refs.put(w, new dev.hearth.runtime.backend.TensorRef(w.desc(), wb, 0));
            refs.put(x, new dev.hearth.runtime.backend.TensorRef(x.desc(), xb, 0));
            refs.put(y, new dev.hearth.runtime.backend.TensorRef(y.desc(), yb, 0));
            float[] xv = GraphRun.gaussian(new java.util.Random(4), k, 1f);
            MemorySegment.copy(xv, 0, xb.hostSegment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, k);
            var stream = d.openStream();
            var split = new dev.hearth.runtime.backend.Subgraph(d, g.nodes(), refs);
            stream.compute(split);
            float[] wq = dev.hearth.runtime.dtype.Codecs.dequantize(DType.Q8_0, bytes, 0, k * n);
            float[] ref = new float[n];
            for (int r = 0; r < n; r++) ref[r] = (float) dev.hearth.runtime.reference.ReferenceOps.dot(wq, r * k, xv, 0, k);
            float[] got = new float[n];
            MemorySegment.copy(yb.hostSegment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, got, 0, n);
            assertTrue(GraphRun.nmse(got, ref) < 1e-3, "nmse " + GraphRun.nmse(got, ref));
            xb.close();
            assertThrows(IllegalStateException.class, () -> stream.compute(split));
            yb.close();
        }
    }

    @Test
    void threadsFollowTheSetter() {
        CpuDevice d = new CpuDevice(3);
        assertEquals(3, d.threads());
        d.setThreads(1);
        assertEquals(1, d.threads());
        assertThrows(IllegalArgumentException.class, () -> d.setThreads(0));
    }
}
