package dev.hearth.bench.kernels;

import dev.hearth.runtime.dtype.DType;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** Bytes and FLOPs worked out by hand, and the graph count agreeing with them. */
class WorkTest {
    @Test
    void mulMatBytesAreWeightsPlusActivationsInAndOut() {
        // Q4_0: 18 bytes per 32 weights; x 2048 floats in, 2048 floats out
        Work q4 = Work.mulMat(DType.Q4_0, 2048, 2048, 1);
        assertEquals(2048L * 2048 / 32 * 18 + 2048 * 4 + 2048 * 4, q4.bytes());
        assertEquals(2375680, q4.bytes());
        assertEquals(8388608, q4.flops());
        // Q8_0: 34 bytes per 32 weights
        Work q8 = Work.mulMat(DType.Q8_0, 2048, 128256, 1);
        assertEquals(279085056L + 8192 + 513024, q8.bytes());
        assertEquals(525336576L, q8.flops());
        // F32, 512 tokens
        Work f32 = Work.mulMat(DType.F32, 8192, 2048, 512);
        assertEquals(67108864L + 16777216 + 4194304, f32.bytes());
        assertEquals(17179869184L, f32.flops());
        // Q4_K: 144 bytes per 256 weights
        assertEquals(4096L * 4096 / 256 * 144 + 4096 * 4 * 2, Work.mulMat(DType.Q4_K, 4096, 4096, 1).bytes());
    }

    @Test
    void graphCountOfEveryMulMatCaseMatchesTheFormula() {
        for (KernelCase c : KernelCases.all()) {
            if (!c.op().equals("mul_mat") || c.family().equals("ops")) continue;
            String[] p = c.shape().split(" ");
            long k = Long.parseLong(p[1].substring(2));
            long n = Long.parseLong(p[2].substring(2));
            assertEquals(Work.mulMat(c.type(), k, n, c.tokens()), c.work(), c.name());
        }
    }

    @Test
    void attentionReadsTheCacheRowsItsPositionsReach() {
        // one token at position 511: q 2048 floats, K and V 512 rows of 512 halves each, one position, out 2048 floats
        Work one = KernelCases.byName("attention 1b heads=32/8 head_dim=64 ctx=512 t=1 f16").work();
        assertEquals(8192 + 2L * 512 * 512 * 2 + 4 + 8192, one.bytes());
        assertEquals(4L * 32 * 64 * 512, one.flops());
        // 512 tokens at positions 0..511 see 1..512 rows: 512 * 513 / 2 in all
        Work many = KernelCases.byName("attention 1b heads=32/8 head_dim=64 ctx=512 t=512 f32").work();
        assertEquals(4L * 2048 * 512 + 2L * 512 * 512 * 4 + 4 * 512 + 4L * 2048 * 512, many.bytes());
        assertEquals(4L * 32 * 64 * (512L * 513 / 2), many.flops());
        // at context 4096, one token reads all 4096 rows
        assertEquals(4L * 32 * 64 * 4096, KernelCases.byName("attention 1b heads=32/8 head_dim=64 ctx=4096 t=1 f32").work().flops());
    }

    @Test
    void elementwiseCounts() {
        Work norm = KernelCases.byName("rms_norm 1b k=2048 t=1 f32").work();
        assertEquals(3 * 2048 * 4, norm.bytes()); // x, weight, y
        assertEquals(4 * 2048, norm.flops());
        Work swiglu = KernelCases.byName("swiglu 1b k=8192 t=512 f32").work();
        assertEquals(3L * 8192 * 512 * 4, swiglu.bytes());
        assertEquals(5L * 8192 * 512, swiglu.flops());
        Work rope = KernelCases.byName("rope 1b k=2048 head_dim=64 t=1 f32").work();
        assertEquals(2048 * 4 + 4 + 2048 * 4, rope.bytes());
        assertEquals(3 * 2048, rope.flops());
    }

    @Test
    void conformanceCaseCountedFromItsGraph() {
        KernelCase c = KernelCases.byName("ops mul_mat type=q8_0 k=256 n=64 t=7 q8_0");
        assertNotNull(c);
        assertEquals(Work.mulMat(DType.Q8_0, 256, 64, 7), c.work());
    }

    @Test
    void ratesFromNanoseconds() {
        Work w = new Work(2_000_000_000L, 500_000_000L);
        assertEquals(20.0, w.gbps(1e8), 1e-9); // 2 GB in 0.1 s
        assertEquals(5.0, w.gflops(1e8), 1e-9);
    }
}
