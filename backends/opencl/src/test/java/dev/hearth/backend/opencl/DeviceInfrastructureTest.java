package dev.hearth.backend.opencl;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.backend.MemoryInfo;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The device around the kernels: discovery through ServiceLoader, the on-disk program cache,
 * build errors, out-of-memory messages, buffer copies, upload progress and supports().
 */
@Tag("opencl")
class DeviceInfrastructureTest {
    @Test
    void foundThroughServiceLoaderWithAClearName() {
        OpenClDevice d = OpenClTesting.device();
        boolean listed = false;
        for (var p : ServiceLoader.load(dev.hearth.runtime.backend.BackendProvider.class)) {
            if (p.name().equals("opencl")) listed = !p.devices().isEmpty();
        }
        assertTrue(listed, "the opencl provider is registered and finds the device");
        assertTrue(d.name().startsWith("opencl:0 "), d.name());
        assertTrue(d.name().contains("(" + d.info().platform() + ")"), d.name());
        MemoryInfo m = d.memory();
        assertTrue(m.total() > 0 && m.free() <= m.total(), m.toString());
    }

    @Test
    void secondStartLoadsProgramsFromTheDiskCache(@TempDir Path dir) throws IOException {
        OpenClTesting.device();
        OpenClDevice first = (OpenClDevice) new OpenClProvider(dir).devices().getFirst();
        first.program("softmax.cl");
        assertEquals(1, first.cache().sourceBuilds());
        assertEquals(0, first.cache().binaryLoads());
        List<Path> files;
        try (var s = Files.list(dir)) {
            files = s.filter(f -> f.toString().endsWith(".bin")).toList();
        }
        assertEquals(1, files.size(), "one binary cached");

        OpenClDevice second = (OpenClDevice) new OpenClProvider(dir).devices().getFirst();
        assertTrue(second != first);
        second.program("softmax.cl");
        assertEquals(0, second.cache().sourceBuilds(), "a fresh provider must not compile again");
        assertEquals(1, second.cache().binaryLoads());
        // The program loaded from the binary computes.
        try (var c = new OpenClTesting.Case(5)) {
            c.out(c.graph.softmax("p", c.input("x", DType.F32, 33, 2, 1f)));
            float[] got = OpenClTesting.run(c, second)[0];
            float[] want = OpenClTesting.run(c, OpenClTesting.REFERENCE)[0];
            assertTrue(OpenClTesting.nmse(got, want) < 1e-10);
        }

        Files.write(files.getFirst(), new byte[] {1, 2, 3}); // a corrupt binary is rebuilt from source
        OpenClDevice third = (OpenClDevice) new OpenClProvider(dir).devices().getFirst();
        third.program("softmax.cl");
        assertEquals(1, third.cache().sourceBuilds());
        assertTrue(Files.size(files.getFirst()) > 3, "the corrupt binary is replaced");
    }

    @Test
    void brokenKernelReportsTheBuildLog() {
        OpenClDevice d = OpenClTesting.device();
        HearthException e = assertThrows(HearthException.class,
                () -> d.build("broken.cl", "kernel void broken(global float* x) { x[0] = not_declared_anywhere; }\n"));
        assertTrue(e.getMessage().contains("broken.cl") && e.getMessage().contains("build log"), e.getMessage());
        assertTrue(e.getMessage().contains("not_declared_anywhere"), "the driver's log names the error: " + e.getMessage());
    }

    @Test
    void hugeAllocationsSayWhatIsNeeded(@TempDir Path dir) {
        OpenClTesting.device();
        OpenClDevice d = (OpenClDevice) new OpenClProvider(dir).devices().getFirst();
        long max = d.info().maxAlloc();
        HearthException tooBig = assertThrows(HearthException.class, () -> d.allocate(max + (64L << 20), BufferUsage.KV));
        assertTrue(tooBig.getMessage().contains("largest single buffer") && tooBig.getMessage().contains(OpenClDevice.mib(max)),
                tooBig.getMessage());

        // Fill the device's memory with (untouched) weight buffers until one more cannot fit.
        long total = d.memory().total();
        long chunk = Math.min(max, total / 3);
        List<Buffer> held = new ArrayList<>();
        try {
            while (d.memory().free() >= chunk) {
                long before = d.memory().free();
                held.add(d.allocate(chunk, BufferUsage.WEIGHTS));
                if (!d.info().has("cl_amd_device_attribute_query")) assertEquals(before - chunk, d.memory().free());
            }
            long free = d.memory().free();
            HearthException full = assertThrows(HearthException.class, () -> d.allocate(chunk, BufferUsage.WEIGHTS));
            String msg = full.getMessage();
            assertTrue(msg.contains("needs " + OpenClDevice.mib(chunk)) && msg.contains(OpenClDevice.mib(free) + " free")
                    && msg.contains(d.name()), msg);
        } finally {
            held.forEach(Buffer::close);
        }
        assertEquals(total, d.memory().free(), "closing buffers gives their memory back");
    }

    @Test
    void buffersCopyAtOffsetsAndReportUploads(@TempDir Path dir) {
        OpenClTesting.device();
        OpenClDevice d = (OpenClDevice) new OpenClProvider(dir).devices().getFirst();
        AtomicLong seen = new AtomicLong();
        d.setUploadListener((done, total) -> seen.set(done * 1000 + total));
        try (Arena a = Arena.ofConfined(); Buffer w = d.allocate(400, BufferUsage.WEIGHTS); Buffer kv = d.allocate(64, BufferUsage.KV)) {
            int[] v = new int[100];
            for (int i = 0; i < v.length; i++) v[i] = i * 7 - 3;
            w.write(0, MemorySegment.ofArray(v)); // a heap segment goes through staging
            assertEquals(400 * 1000 + 400, seen.get(), "the listener hears of the whole upload");
            MemorySegment back = a.allocate(40);
            w.read(80, back);
            assertArrayEquals(java.util.Arrays.copyOfRange(v, 20, 30), back.toArray(ValueLayout.JAVA_INT));
            MemorySegment zeros = a.allocate(64);
            zeros.fill((byte) 9);
            kv.read(0, zeros);
            assertArrayEquals(new byte[64], zeros.toArray(ValueLayout.JAVA_BYTE), "KV buffers start zeroed");
        }
    }

    @Test
    void supportsIsHonest() {
        Device d = OpenClTesting.device();
        Graph g = new Graph();
        Node ids = g.input("ids", DType.I32, 2);
        for (DType t : DType.values()) {
            if (t.retired || t == DType.I8 || t == DType.I16 || t == DType.I32 || t == DType.I64 || t == DType.F64) continue;
            Node table = g.weight(dev.hearth.runtime.tensor.TensorDesc.of("t_" + t, t, 256, 4));
            boolean expected = OpenClSupport.WEIGHT_TYPES.contains(t);
            assertEquals(expected, d.supports(g.getRows("r_" + t, table, ids)), "get_rows " + t);
            Node x = g.input("x_" + t, DType.F32, 256, 1);
            assertEquals(expected, d.supports(g.mulMat("m_" + t, table, x)), "mul_mat " + t);
        }
        Node src = g.input("src", DType.F32, 64, 1);
        Node pos = g.input("pos", DType.I32, 1);
        for (DType t : new DType[]{DType.F32, DType.F16, DType.Q8_0, DType.Q4_0}) {
            assertTrue(d.supports(g.kvStore("st_" + t, g.state(dev.hearth.runtime.tensor.TensorDesc.of("k_" + t, t, 64, 8)), src, pos)), t + " cache");
        }
        Node q41cache = g.state(dev.hearth.runtime.tensor.TensorDesc.of("kq41", DType.Q4_1, 64, 8));
        Node store = g.kvStore("st", q41cache, src, pos);
        assertFalse(d.supports(store));
        assertTrue(d.whyNot(store).contains("Q4_1"), d.whyNot(store));
    }
}
