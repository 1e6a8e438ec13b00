package dev.hearth.bench.kernels;

import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BackendProvider;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.backend.MemoryInfo;
import dev.hearth.runtime.backend.Stream;
import dev.hearth.runtime.conformance.OpCase;
import dev.hearth.runtime.dtype.Codecs;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.reference.ReferenceDevice;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A small case run for real on the reference device, the data it is built from, and the probes. */
class SmokeTest {
    private static final Device REFERENCE = new ReferenceDevice();

    @Test
    void smallCaseOnTheReferenceDeviceGivesASaneRecord() {
        KernelCase c = KernelCases.byName("ops mul_mat type=q4_0 k=256 n=64 t=1 q4_0");
        assertNotNull(c);
        BandwidthProbe.Result probe = new BandwidthProbe.Result("reference", 1, 10, 8, "test");
        KernelResult r = KernelBench.measure(c, REFERENCE, probe, 0.02, 0.01, 3);
        assertEquals(c.name(), r.kernelCase());
        assertEquals("mul_mat", r.op());
        assertEquals("q4_0", r.type());
        assertEquals("reference", r.deviceFamily());
        assertTrue(r.runs() >= 1);
        assertTrue(r.minUs() > 0 && r.minUs() <= r.medianUs(), r.minUs() + " " + r.medianUs());
        assertEquals(Work.mulMat(DType.Q4_0, 256, 64, 1).bytes(), r.bytes());
        assertEquals(2L * 256 * 64, r.flops());
        assertTrue(Double.isFinite(r.gbps()) && r.gbps() > 0);
        assertEquals(100 * r.gbps() / 10, r.percentOfProbe(), 1e-9);
        assertEquals(3, r.copies());
        assertTrue(Reports.row(r).startsWith("| reference | mul_mat | q4_0 | ops mul_mat type=q4_0 k=256 n=64 t=1 |"), Reports.row(r));
    }

    @Test
    void modelShapeCaseComputesTheProductOfItsData() {
        KernelCase c = KernelCases.byName("mul_mat 1b attn_kv k=2048 n=512 t=1 q8_0");
        try (BoundCase b = BoundCase.bind(c, REFERENCE)) {
            b.run();
            float[] got = b.output();
            OpCase.Instance inst = b.instance();
            MemorySegment w = inst.leaves().get("w");
            float[] x = inst.inputs().get("x").toArray(ValueLayout.JAVA_FLOAT_UNALIGNED);
            assertEquals(2048, x.length);
            long rowBytes = 2048 / 32 * 34;
            float[] row = new float[2048];
            for (int n = 0; n < 512; n += 37) {
                Codecs.dequantize(DType.Q8_0, w, n * rowBytes, row, 2048);
                double dot = 0;
                for (int k = 0; k < 2048; k++) dot += (double) row[k] * x[k];
                assertEquals(dot, got[n], 1e-3 * Math.max(1, Math.abs(dot)), "row " + n);
            }
        }
    }

    @Test
    void runsGoRoundCopiesOfTheWeights() {
        KernelCase c = KernelCases.byName("ops mul_mat type=q8_0 k=256 n=64 t=7 q8_0");
        try (BoundCase b = BoundCase.bind(c, REFERENCE, 3)) {
            assertEquals(3, b.copies());
            b.run();
            float[] first = b.output();
            for (int i = 0; i < 4; i++) b.run();
            assertArrayEquals(first, b.output());
        }
        assertEquals(1, BoundCase.rotationCopies(KernelCases.byName("mul_mat 8b output k=4096 n=128256 t=1 q4_0")));
        assertEquals(BoundCase.MAX_COPIES, BoundCase.rotationCopies(KernelCases.byName("rms_norm 1b k=2048 t=1 f32")));
        long q4 = 2048L * 2048 / 32 * 18;
        assertEquals((BoundCase.ROTATION_BYTES + q4 - 1) / q4, BoundCase.rotationCopies(KernelCases.byName("mul_mat 1b attn_q k=2048 n=2048 t=1 q4_0")));
        assertEquals(1, BoundCase.rotationCopies(KernelCases.byName("swiglu 1b k=8192 t=1 f32"))); // no weights
        assertEquals(1, BoundCase.rotationCopies(KernelCases.byName("mul_mat 1b attn_q k=2048 n=2048 t=512 q4_0"))); // a prompt
    }

    @Test
    void weightsAreValidBlocksRepeatedEveryTile() {
        KernelCase c = KernelCases.byName("mul_mat 1b attn_kv k=2048 n=512 t=1 q4_k");
        try (OpCase.Instance inst = c.instantiate()) {
            MemorySegment w = inst.leaves().get("w");
            long rowBytes = 2048 / 256 * 144;
            assertEquals(512 * rowBytes, w.byteSize());
            float[] first = Codecs.dequantize(DType.Q4_K, w, 0, 2048);
            float[] second = Codecs.dequantize(DType.Q4_K, w, rowBytes, 2048);
            float[] again = Codecs.dequantize(DType.Q4_K, w, CaseData.TILE_ROWS * rowBytes, 2048);
            assertArrayEquals(first, again);
            assertTrue(!Arrays.equals(first, second));
            for (float v : first) assertTrue(Math.abs(v) <= 1.25f, "value " + v); // [-1, 1) give or take the rounding of 4 bits
            Node x = inst.graph().nodes().stream().filter(n -> n.name().equals("x")).findFirst().orElseThrow();
            assertEquals(2048 * 4, inst.inputs().get(x.name()).byteSize());
        }
    }

    @Test
    void timerWarmsUpTwiceAtLeastThenTimesRuns() {
        int[] calls = {0};
        KernelTimer.Timing t = KernelTimer.time(() -> calls[0]++, 0.001, 0, 0.01);
        assertTrue(t.runs() >= 1);
        assertTrue(calls[0] >= t.runs() + 2, calls[0] + " calls for " + t.runs() + " timed runs");
        assertTrue(t.minNanos() <= t.medianNanos());
    }

    @Test
    void hostProbeMeasuresSomething() {
        BandwidthProbe.Result r = BandwidthProbe.host(2, 1 << 18, 3);
        assertEquals(2, r.threads());
        assertTrue(r.copyGbps() > 0 && Double.isFinite(r.copyGbps()));
        assertTrue(r.triadGbps() > 0 && Double.isFinite(r.triadGbps()));
        assertEquals(Math.max(r.copyGbps(), r.triadGbps()), r.bestGbps());
        assertTrue(BandwidthProbe.lastLevelCache() > 0);
        assertTrue(BandwidthProbe.hostElements(3) % (64 * 3) == 0);
        long bytes = 4L * BandwidthProbe.hostElements(1);
        assertTrue(bytes >= Math.min(4 * BandwidthProbe.lastLevelCache(), Runtime.getRuntime().maxMemory() / 8), "past the cache: " + bytes);
        assertTrue(bytes <= Runtime.getRuntime().maxMemory() / 8 + 256, "an eighth of the heap at most: " + bytes);
    }

    @Test
    void deviceProbeRunsTheDevicesOwnOps() {
        BandwidthProbe.Result r = BandwidthProbe.onDevice(new NotHost(REFERENCE), 16);
        assertTrue(r.copyGbps() > 0 && r.triadGbps() > 0);
        assertTrue(r.method().contains("scale/add"), r.method());
    }

    /** The reference device, claiming to be apart from the host, so that the probe takes the device path. */
    private record NotHost(Device d) implements Device {
        public String name() {
            return "nothost";
        }

        public BackendProvider provider() {
            return d.provider();
        }

        public MemoryInfo memory() {
            return d.memory();
        }

        public boolean supports(Node node) {
            return d.supports(node);
        }

        public Buffer allocate(long bytes, BufferUsage usage) {
            return d.allocate(bytes, usage);
        }

        public Stream openStream() {
            return d.openStream();
        }
    }
}
