package dev.hearth.backend.cuda;

import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.tensor.TensorDesc;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the CUDA kernels accept, answered without a device; and the host-side launch arithmetic. */
class CudaSupportTest {
    private static Node mulMat(DType w) {
        Graph g = new Graph();
        Node wt = g.weight(TensorDesc.of("w", w, 256, 10));
        return g.mulMat("y", wt, g.input("x", DType.F32, 256, 3));
    }

    @Test
    void mulMatWeightTypes() {
        for (DType t : new DType[]{DType.F32, DType.F16, DType.BF16, DType.Q4_0, DType.Q4_1, DType.Q5_0, DType.Q5_1, DType.Q8_0,
                DType.MXFP4, DType.Q2_K, DType.Q3_K, DType.Q4_K, DType.Q5_K, DType.Q6_K}) {
            assertNull(CudaSupport.whyNot(mulMat(t)), t.name());
        }
        for (DType t : new DType[]{DType.IQ4_NL, DType.IQ4_XS, DType.Q8_K, DType.TQ2_0}) {
            String why = CudaSupport.whyNot(mulMat(t));
            assertNotNull(why, t.name());
            assertTrue(why.contains(t.name()) && why.contains("MulMat"), why);
        }
    }

    @Test
    void getRowsTables() {
        for (DType t : CudaSupport.WEIGHT_TYPES) {
            Graph g = new Graph();
            Node n = g.getRows("e", g.weight(TensorDesc.of("tok", t, 256, 7)), g.input("ids", DType.I32, 2));
            assertNull(CudaSupport.whyNot(n), t.name());
        }
        Graph g = new Graph();
        Node n = g.getRows("e", g.weight(TensorDesc.of("tok", DType.IQ4_XS, 256, 7)), g.input("ids", DType.I32, 2));
        assertNotNull(CudaSupport.whyNot(n));
    }

    @Test
    void cachesAreF32F16Q8_0OrQ4_0() {
        for (DType c : new DType[]{DType.F32, DType.F16, DType.Q8_0, DType.Q4_0, DType.Q4_1}) {
            Graph g = new Graph();
            Node cache = g.state(TensorDesc.of("k", c, 64, 16));
            Node src = g.input("src", DType.F32, 64, 2);
            Node pos = g.input("pos", DType.I32, 2);
            Node stored = g.kvStore("ks", cache, src, pos);
            Node q = g.input("q", DType.F32, 128, 2);
            Node att = g.attention("att", q, stored, stored, pos, 2, 1, 64, 0.125f);
            boolean ok = c != DType.Q4_1;
            assertEquals(ok, CudaSupport.whyNot(stored) == null, c + " kv_store");
            assertEquals(ok, CudaSupport.whyNot(att) == null, c + " attention");
        }
    }

    @Test
    void attentionHeadDimLimit() {
        Graph g = new Graph();
        Node k = g.state(TensorDesc.of("k", DType.F16, 320, 8));
        Node pos = g.input("pos", DType.I32, 1);
        Node att = g.attention("att", g.input("q", DType.F32, 320, 1), k, k, pos, 1, 1, 320, 0.05f);
        String why = CudaSupport.whyNot(att);
        assertNotNull(why);
        assertTrue(why.contains("320"), why);
    }

    @Test
    void attentionWithWindowAndSoftcap() {
        for (int[] wc : new int[][]{{8, 0}, {0, 30}, {4096, 50}}) {
            Graph g = new Graph();
            Node k = g.state(TensorDesc.of("k", DType.F16, 128, 16));
            Node pos = g.input("pos", DType.I32, 2);
            Node att = g.attention("att", g.input("q", DType.F32, 256, 2), k, k, pos, 4, 2, 64, 0.125f, wc[0], wc[1]);
            assertNull(CudaSupport.whyNot(att), "window=" + wc[0] + " softcap=" + wc[1]);
        }
    }

    @Test
    void gegluSoftcapAndLayerNormNeedF32() {
        Graph g = new Graph();
        Node h = g.input("h", DType.F16, 64, 2);
        Node f = g.input("f", DType.F32, 64, 2);
        Node w = g.weight(TensorDesc.of("w", DType.F32, 64));
        Node b = g.weight(TensorDesc.of("b", DType.F32, 64));
        Node wh = g.weight(TensorDesc.of("wh", DType.F16, 64));
        assertNull(CudaSupport.whyNot(g.geglu("gg", f, f)));
        assertNotNull(CudaSupport.whyNot(g.geglu("gh", h, h)));
        assertNull(CudaSupport.whyNot(g.softcap("sc", f, 30f)));
        assertNotNull(CudaSupport.whyNot(g.softcap("sh", h, 30f)));
        assertNull(CudaSupport.whyNot(g.layerNorm("ln0", f, null, null, 1e-5f)));
        assertNull(CudaSupport.whyNot(g.layerNorm("ln1", f, w, null, 1e-5f)));
        assertNull(CudaSupport.whyNot(g.layerNorm("ln2", f, w, b, 1e-5f)));
        assertNull(CudaSupport.whyNot(g.layerNorm("ln3", f, null, b, 1e-5f)));
        assertNotNull(CudaSupport.whyNot(g.layerNorm("ln4", h, w, b, 1e-5f)));
        assertNotNull(CudaSupport.whyNot(g.layerNorm("ln5", f, wh, b, 1e-5f)));
    }

    @Test
    void attentionCachesOfDifferentTypes() {
        Graph g = new Graph();
        Node k = g.state(TensorDesc.of("k", DType.F16, 64, 8));
        Node v = g.state(TensorDesc.of("v", DType.F32, 64, 8));
        Node pos = g.input("pos", DType.I32, 1);
        Node att = g.attention("att", g.input("q", DType.F32, 64, 1), k, v, pos, 1, 1, 64, 0.125f);
        assertNotNull(CudaSupport.whyNot(att));
    }

    @Test
    void floatOpsNeedF32AndConvertBetweenFloats() {
        Graph g = new Graph();
        Node h = g.input("h", DType.F16, 64, 2);
        Node f = g.input("f", DType.F32, 64, 2);
        assertNotNull(CudaSupport.whyNot(g.rmsNorm("n", h, null, 1e-5f)));
        assertNull(CudaSupport.whyNot(g.rmsNorm("n2", f, null, 1e-5f)));
        assertNotNull(CudaSupport.whyNot(g.softmax("s", h)));
        assertNull(CudaSupport.whyNot(g.swiglu("sw", f, f)));
        assertNull(CudaSupport.whyNot(g.add("a", f, f)));
        assertNull(CudaSupport.whyNot(g.mul("m", f, f)));
        assertNull(CudaSupport.whyNot(g.scale("sc", f, 2f)));
        assertNull(CudaSupport.whyNot(g.convert("c1", h, DType.BF16)));
        assertNull(CudaSupport.whyNot(g.convert("c2", f, DType.F16)));
        Node pos = g.input("pos", DType.I32, 2);
        assertNull(CudaSupport.whyNot(g.rope("r", f, pos, 32, 32, Op.RopeMode.NEOX, 10000f, 1f, null)));
        assertNull(CudaSupport.whyNot(g.input("leaf", DType.Q5_K, 256, 1)));
    }

    @Test
    void expertOps() {
        for (DType t : CudaSupport.WEIGHT_TYPES) {
            Graph g = new Graph();
            Node w = g.weight(TensorDesc.of("w", t, 256, 10, 4));
            Node ids = g.input("ids", DType.I32, 2, 3);
            assertNull(CudaSupport.whyNot(g.mulMatId("y", w, g.input("x", DType.F32, 256, 3), ids)), t.name());
            assertNull(CudaSupport.whyNot(g.mulMatId("y2", w, g.input("x2", DType.F32, 256, 6), ids)), t.name() + " x per slot");
        }
        for (DType t : new DType[]{DType.IQ4_NL, DType.IQ4_XS}) {
            Graph g = new Graph();
            Node w = g.weight(TensorDesc.of("w", t, 256, 10, 4));
            String why = CudaSupport.whyNot(g.mulMatId("y", w, g.input("x", DType.F32, 256, 3), g.input("ids", DType.I32, 2, 3)));
            assertNotNull(why, t.name());
            assertTrue(why.contains(t.name()) && why.contains("MulMatId"), why);
        }
        Graph g = new Graph();
        Node logits = g.input("logits", DType.F32, 8, 3);
        Node ids = g.topK("ids", logits, 2);
        assertNull(CudaSupport.whyNot(ids));
        Node weights = g.gather("weights", g.softmax("p", logits), ids);
        assertNull(CudaSupport.whyNot(weights));
        assertNull(CudaSupport.whyNot(g.weightedSum("out", g.input("y", DType.F32, 64, 6), weights)));
        assertNotNull(CudaSupport.whyNot(g.weightedSum("out_h", g.input("yh", DType.F16, 64, 6), weights)));
    }

    @Test
    void gptOssOps() {
        Graph g = new Graph();
        Node f = g.input("f", DType.F32, 64, 6);
        Node h = g.input("h", DType.F16, 64, 6);
        Node pos = g.input("pos", DType.I32, 2);
        Op.Yarn yarn = new Op.Yarn(4096, 1f, 1f, 32f, 1f);
        assertNull(CudaSupport.whyNot(g.rope("r", g.input("x", DType.F32, 128, 2), pos, 64, 64, Op.RopeMode.NEOX, 150000f, 1f / 32, null, yarn)));
        Node k = g.state(TensorDesc.of("k", DType.F16, 128, 16));
        Node q = g.input("q", DType.F32, 256, 2);
        assertNull(CudaSupport.whyNot(g.attention("att", q, k, k, pos, 4, 2, 64, 0.125f, 0, 0f, g.weight(TensorDesc.of("sinks", DType.F32, 4)))));
        assertNull(CudaSupport.whyNot(g.attention("att_w", q, k, k, pos, 4, 2, 64, 0.125f, 8, 0f, g.weight(TensorDesc.of("sinks2", DType.F32, 4)))));
        assertNull(CudaSupport.whyNot(g.swigluOai("so", f, f, 1.702f, 7f)));
        assertNotNull(CudaSupport.whyNot(g.swigluOai("so_h", h, h, 1.702f, 7f)));
        Node ids = g.input("ids", DType.I32, 2, 3);
        assertNull(CudaSupport.whyNot(g.addId("ai", f, g.weight(TensorDesc.of("bias", DType.F32, 64, 4)), ids)));
        assertNotNull(CudaSupport.whyNot(g.addId("ai_h", f, g.weight(TensorDesc.of("bias_h", DType.F16, 64, 4)), ids)));
    }

    @Test
    void deviceWhyNotNamesTheDevice() {
        // The same logic backs CudaDevice.supports/whyNot; without a device only the pure part is checked here.
        String why = CudaSupport.whyNot(mulMat(DType.IQ4_NL));
        assertTrue(why.contains("IQ4_NL") && why.contains("Q4_K"), why);
    }

    @Test
    void attentionSplits() {
        assertEquals(16, KernelCalls.attentionSplits(1, 32, 4096), "decode: 256-row chunks");
        assertEquals(1, KernelCalls.attentionSplits(512, 32, 4096), "prompt: enough blocks already");
        assertEquals(1, KernelCalls.attentionSplits(1, 4, 40), "short cache: one split");
        assertEquals(3, KernelCalls.attentionSplits(1, 4, 600));
        assertEquals(64, KernelCalls.attentionSplits(1, 1, 1 << 20), "at most 64: the grid's z dimension");
        assertEquals(4, KernelCalls.attentionSplits(16, 32, 1 << 20), "many tokens: fewer splits");
    }

    @Test
    void scratchBytes() {
        Graph g = new Graph();
        Node w = g.weight(TensorDesc.of("w", DType.Q4_0, 256, 10));
        Node one = g.mulMat("y1", w, g.input("x1", DType.F32, 256, 3));
        Node many = g.mulMat("y2", w, g.input("x2", DType.F32, 256, 9));
        assertEquals(3L * 8 * KernelCalls.Q8_1_BYTES, KernelCalls.scratchBytes(one), "q8_1 activations");
        assertEquals(0, KernelCalls.scratchBytes(many), "the tiled kernel reads F32 activations");
        assertEquals(3L * 8 * KernelCalls.Q8_1_BYTES, KernelCalls.scratchBytes(mulMat(DType.Q4_K)), "every quantized type: q8_1");
        assertEquals(0, KernelCalls.scratchBytes(mulMat(DType.F16)), "float weights read F32 activations");
        Node k = g.state(TensorDesc.of("k", DType.F16, 128, 600));
        Node pos = g.input("pos", DType.I32, 1);
        Node att = g.attention("att", g.input("q", DType.F32, 256, 1), k, k, pos, 4, 2, 64, 0.125f);
        assertEquals(1L * 4 * 3 * (64 + 2) * 4, KernelCalls.scratchBytes(att));
        Node windowed = g.attention("att_w", g.input("qw", DType.F32, 256, 1), k, k, pos, 4, 2, 64, 0.125f, 200, 0f);
        assertEquals(200, KernelCalls.attentionSpan((Op.Attention) windowed.op()), "the window, where smaller than the cache");
        assertEquals(0, KernelCalls.scratchBytes(windowed), "a window of 200 rows: one split");
        Node wide = g.attention("att_wide", g.input("qx", DType.F32, 256, 1), k, k, pos, 4, 2, 64, 0.125f, 4096, 30f);
        assertEquals(600, KernelCalls.attentionSpan((Op.Attention) wide.op()), "the cache, where smaller than the window");
        assertEquals(1L * 4 * 3 * (64 + 2) * 4, KernelCalls.scratchBytes(wide));
        Node ids = g.input("ids", DType.I32, 2, 3);
        Node experts = g.weight(TensorDesc.of("experts", DType.Q8_0, 256, 10, 4));
        assertEquals(3L * 8 * KernelCalls.Q8_1_BYTES, KernelCalls.scratchBytes(g.mulMatId("e1", experts, g.input("xe1", DType.F32, 256, 3), ids)),
                "mul_mat_id: q8_1 activations of x's rows");
        assertEquals(6L * 8 * KernelCalls.Q8_1_BYTES, KernelCalls.scratchBytes(g.mulMatId("e2", experts, g.input("xe2", DType.F32, 256, 6), ids)),
                "mul_mat_id: x per slot");
        Node expertsK = g.weight(TensorDesc.of("experts_k", DType.Q4_K, 256, 10, 4));
        assertEquals(3L * 8 * KernelCalls.Q8_1_BYTES, KernelCalls.scratchBytes(g.mulMatId("e3", expertsK, g.input("xe3", DType.F32, 256, 3), ids)));
        Node expertsF = g.weight(TensorDesc.of("experts_f", DType.BF16, 256, 10, 4));
        assertEquals(0, KernelCalls.scratchBytes(g.mulMatId("e4", expertsF, g.input("xe4", DType.F32, 256, 3), ids)));
    }

    /** Every weight type has its kernels: three matrix-vector variants (one warp per row group and split), the tiled kernel, mul_mat_id. */
    @Test
    void kernelsOfEveryWeightType() {
        for (DType t : CudaSupport.WEIGHT_TYPES) {
            String type = t.name().toLowerCase(java.util.Locale.ROOT);
            for (int variant : new int[]{1, 4, 8}) {
                assertEquals("mul_mat_vec_" + type + "_t" + variant, KernelCalls.mulMatVecKernel(t, false, variant, false).entry);
                assertEquals("mul_mat_vec_split_" + type + "_t" + variant, KernelCalls.mulMatVecKernel(t, false, variant, true).entry);
            }
            assertEquals("mul_mat_tiled", KernelCalls.mulMatTiledKernel(t, false).module);
            assertEquals("experts", KernelCalls.mulMatIdKernel(t).module);
        }
        assertThrows(IllegalStateException.class, () -> KernelCalls.mulMatVecKernel(DType.IQ4_NL, false, 1, false));
    }

    /** The split variant where the one-warp grid has fewer than 4 blocks per multiprocessor. */
    @Test
    void vecSplit() {
        int h200 = 132, a100 = 108, small = 20;
        assertTrue(KernelCalls.vecSplit(512, 1, h200), "LLaMA 1B K/V (512 rows of 2048): 128 blocks");
        assertTrue(KernelCalls.vecSplit(1024, 1, h200), "LLaMA 8B K/V (1024 rows of 4096): 256 blocks");
        assertTrue(KernelCalls.vecSplit(2048, 1, h200), "512 blocks, 528 the bound");
        assertFalse(KernelCalls.vecSplit(2048, 1, a100), "512 blocks, 432 the bound");
        assertFalse(KernelCalls.vecSplit(8192, 1, h200), "LLaMA 1B feed-forward (8192 rows): 2048 blocks");
        assertTrue(KernelCalls.vecSplit(2108, 1, h200), "527 blocks");
        assertFalse(KernelCalls.vecSplit(2109, 1, h200), "528 blocks (the last one part full)");
        assertTrue(KernelCalls.vecSplit(632, 2, small), "two rows a warp, 8 a block: 79 blocks, 80 the bound");
        assertFalse(KernelCalls.vecSplit(633, 2, small));
        assertFalse(KernelCalls.vecSplit(1, 1, 0), "no multiprocessors known: never");
    }

    @Test
    void vecVariants() {
        int[] want = {0, 1, 4, 4, 4, 8, 8, 8, 8};
        for (int t = 1; t <= KernelCalls.VEC_MAX_TOKENS; t++) assertEquals(want[t], KernelCalls.vecVariant(t), "tokens " + t);
    }
}
