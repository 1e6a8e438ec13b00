package dev.hearth.runtime.reference;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.backend.BackendProvider;
import dev.hearth.runtime.backend.Backends;
import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.backend.Stream;
import dev.hearth.runtime.backend.Subgraph;
import dev.hearth.runtime.backend.TensorRef;
import dev.hearth.runtime.dtype.Codecs;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.tensor.TensorDesc;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReferenceDeviceTest {
    private final ReferenceDevice device = new ReferenceDevice();

    @Test
    void foundByServiceLoaderAndSortedLast() {
        BackendProvider p = Backends.provider("reference");
        assertNotNull(p, "META-INF/services lists the reference provider");
        assertEquals(p, Backends.providers().getLast());
        Device d = p.devices().getFirst();
        assertTrue(d.isHost());
        assertFalse(d.isGpu());
        assertTrue(d.memory().total() > 0 && d.memory().free() <= d.memory().total());
    }

    @Test
    void allocatesZeroedAlignedMemory() {
        try (Buffer b = device.allocate(1000, BufferUsage.COMPUTE)) {
            MemorySegment s = b.hostSegment();
            assertEquals(1000, b.size());
            assertEquals(0, s.address() % 64);
            for (long i = 0; i < 1000; i++) assertEquals(0, s.get(ValueLayout.JAVA_BYTE, i));
            try (Arena a = Arena.ofConfined()) {
                MemorySegment src = a.allocate(8);
                src.set(ValueLayout.JAVA_LONG, 0, 0x1234_5678_9abc_def0L);
                b.write(100, src);
                MemorySegment dst = a.allocate(8);
                b.read(100, dst);
                assertEquals(0x1234_5678_9abc_def0L, dst.get(ValueLayout.JAVA_LONG, 0));
                b.clear(100, 8);
                b.read(100, dst);
                assertEquals(0, dst.get(ValueLayout.JAVA_LONG, 0));
            }
        }
    }

    @Test
    void tooLargeSaysSo() {
        var e = assertThrows(HearthException.class, () -> device.allocate(Long.MAX_VALUE / 2, BufferUsage.KV));
        assertTrue(e.getMessage().contains("MiB"), e.getMessage());
    }

    @Test
    void wrapsHostMemoryWithoutCopy() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment host = a.allocate(64);
            Buffer b = device.wrapHost(host, BufferUsage.WEIGHTS);
            assertEquals(host.address(), b.hostSegment().address());
            host.set(ValueLayout.JAVA_INT, 0, 42);
            assertEquals(42, b.hostSegment().get(ValueLayout.JAVA_INT, 0));
            b.close();
            assertEquals(42, host.get(ValueLayout.JAVA_INT, 0), "closing a wrapped buffer leaves the memory alone");
        }
    }

    @Test
    void supportsEveryTypeWithACodecAndNoOther() {
        for (DType t : DType.values()) {
            if (t.retired) continue;
            Graph g = new Graph();
            Node w = g.weight(TensorDesc.of("w", t, 256, 4));
            Node x = g.input("x", DType.F32, 256, 1);
            Node y = g.mulMat("y", w, x);
            assertEquals(Codecs.has(t), device.supports(y), t.name());
            if (!Codecs.has(t)) assertTrue(device.whyNot(y).contains(t.name()), device.whyNot(y));
        }
        Graph g = new Graph();
        Node q = g.input("q", DType.F32, 64, 1);
        Node pos = g.input("pos", DType.I32, 1);
        Node kq = g.state(TensorDesc.of("k", DType.Q8_0, 64, 8));
        assertTrue(device.supports(g.attention("a", q, kq, kq, pos, 2, 2, 32, 1)), "a Q8_0 cache");
        Node k1 = g.state(TensorDesc.of("k1", DType.Q4_1, 64, 8));
        Node att = g.attention("b", q, k1, k1, pos, 2, 2, 32, 1);
        assertFalse(device.supports(att), "caches are F32, F16, Q8_0 or Q4_0");
        assertTrue(device.whyNot(att).contains("q8_0, q4_0"), device.whyNot(att));
    }

    /** get_rows and mul_mat on an F16 table, through a subgraph built by hand. */
    @Test
    void streamComputesASubgraph() {
        Graph g = new Graph();
        Node table = g.weight(TensorDesc.of("table", DType.F16, 4, 3));
        Node ids = g.input("ids", DType.I32, 2);
        Node rows = g.getRows("rows", table, ids);
        Node y = g.mulMat("y", table, rows);
        float[] tv = {1, 2, 3, 4, 0.5f, 0, 0, 0, -1, 1, -1, 1};
        try (Arena a = Arena.ofConfined(); Buffer buf = device.allocate(1024, BufferUsage.COMPUTE); Stream s = device.openStream()) {
            MemorySegment t16 = a.allocate(24);
            Codecs.of(DType.F16).quantizeRow(tv, 0, t16, 0, 12);
            Map<Node, TensorRef> refs = new IdentityHashMap<>();
            refs.put(table, new TensorRef(table.desc(), device.wrapHost(t16, BufferUsage.WEIGHTS), 0));
            refs.put(ids, new TensorRef(ids.desc(), buf, 0));
            refs.put(rows, new TensorRef(rows.desc(), buf, 256));
            refs.put(y, new TensorRef(y.desc(), buf, 512));
            buf.hostSegment().set(ValueLayout.JAVA_INT, 0, 2);
            buf.hostSegment().set(ValueLayout.JAVA_INT, 4, 0);
            s.compute(new Subgraph(device, List.of(rows, y), refs));
            s.synchronize();
            float[] out = new float[8];
            MemorySegment.copy(buf.hostSegment(), ValueLayout.JAVA_FLOAT, 256, out, 0, 8);
            assertArrayEquals(new float[]{-1, 1, -1, 1, 1, 2, 3, 4}, out);
            float[] yv = new float[6];
            MemorySegment.copy(buf.hostSegment(), ValueLayout.JAVA_FLOAT, 512, yv, 0, 6);
            // token 0 = [-1,1,-1,1]: dots with the table rows; token 1 = [1,2,3,4].
            assertArrayEquals(new float[]{2, -0.5f, 4, 30, 0.5f, 2}, yv, Arrays.toString(yv));
        }
    }

    @Test
    void positionsPastTheCacheWrapAndAttendingPastItIsAnError() {
        Graph g = new Graph();
        Node cache = g.state(TensorDesc.of("cache", DType.F16, 4, 2));
        Node src = g.input("src", DType.F32, 4, 1);
        Node pos = g.input("pos", DType.I32, 1);
        Node st = g.kvStore("st", cache, src, pos);
        Node q = g.input("q", DType.F32, 4, 1);
        Node att = g.attention("att", q, st, st, pos, 1, 1, 4, 0.5f);
        try (Buffer kv = device.allocate(16, BufferUsage.KV); Buffer buf = device.allocate(1024, BufferUsage.COMPUTE)) {
            Map<Node, TensorRef> refs = new IdentityHashMap<>();
            refs.put(cache, new TensorRef(cache.desc(), kv, 0));
            refs.put(st, new TensorRef(st.desc(), kv, 0));
            refs.put(src, new TensorRef(src.desc(), buf, 0));
            refs.put(pos, new TensorRef(pos.desc(), buf, 256));
            refs.put(q, new TensorRef(q.desc(), buf, 512));
            refs.put(att, new TensorRef(att.desc(), buf, 768));
            buf.hostSegment().set(ValueLayout.JAVA_INT, 256, 3);
            buf.hostSegment().set(ValueLayout.JAVA_FLOAT, 0, 7f);
            // kv_store: position 3 of a 2-row cache is row 1 (a ring)
            device.openStream().compute(new Subgraph(device, List.of(st), refs));
            float[] row = new float[4];
            Codecs.of(DType.F16).dequantizeRow(kv.hostSegment(), 8, row, 0, 4);
            assertEquals(7f, row[0], 0f);
            // attention at position 3 without a window needs 4 positions at once: more than the 2 rows
            var e = assertThrows(HearthException.class, () -> device.openStream().compute(new Subgraph(device, List.of(att), refs)));
            assertTrue(e.getMessage().contains("position 3"), e.getMessage());
        }
    }
}
