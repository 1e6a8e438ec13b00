package dev.hearth.backend.opencl;

import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A whole LLaMA-shaped layer with mixed weight types (embedding, norms, q/k/v with rope, KV
 * cache, attention, output projection, SwiGLU feed-forward, logits), placed by the Scheduler
 * and run by the Executor on the OpenCL device, twice: the second run's tokens attend to the
 * cache rows the first run wrote. Both runs must match the reference backend, within the error
 * of int8 activations.
 */
@Tag("opencl")
class LayerGraphTest {
    private static final int DIM = 256;
    private static final int HEADS = 4;
    private static final int KV_HEADS = 2;
    private static final int HEAD_DIM = DIM / HEADS;
    private static final int FFN = 512;
    private static final int VOCAB = 40;
    private static final int CTX = 16;
    private static final int T = 3;
    /**
     * The bound on the logits' error: the conformance tolerance of mul_mat. The quantized
     * products quantize their activations to int8 (mul_mat_q8.cl), which costs about 3e-5 per
     * product and 3.4e-4 through this layer's chain of seven (the float kernels alone: under 1e-9).
     */
    private static final double MATMUL_INT8 = 5e-4;

    @Test
    void twoStepsMatchReference() {
        OpenClDevice d = OpenClTesting.device();
        try (var c = new OpenClTesting.Case(42)) {
            Node ids = c.ints("ids", 0, 0, 0);
            Node pos = c.ints("pos", 0, 0, 0);
            Node emb = c.weight("emb", DType.Q8_0, DIM, VOCAB, 1f);
            Node x = c.graph.getRows("x", emb, ids);
            Node h = c.graph.rmsNorm("attn_norm", x, c.weight("attn_norm.w", DType.F32, DIM, 1, 1f), 1e-5f);
            Node q = c.graph.mulMat("q", c.weight("wq", DType.Q4_K, DIM, DIM, 0.1f), h);
            Node k = c.graph.mulMat("k", c.weight("wk", DType.Q4_0, DIM, KV_HEADS * HEAD_DIM, 0.1f), h);
            Node v = c.graph.mulMat("v", c.weight("wv", DType.Q8_0, DIM, KV_HEADS * HEAD_DIM, 0.1f), h);
            q = c.graph.rope("q_rope", q, pos, HEAD_DIM, HEAD_DIM, Op.RopeMode.NORMAL, 10000f, 1f, null);
            k = c.graph.rope("k_rope", k, pos, HEAD_DIM, HEAD_DIM, Op.RopeMode.NORMAL, 10000f, 1f, null);
            Node kc = c.graph.kvStore("k_stored", c.state("k_cache", DType.F16, KV_HEADS * HEAD_DIM, CTX, 0f), k, pos);
            Node vc = c.graph.kvStore("v_stored", c.state("v_cache", DType.F32, KV_HEADS * HEAD_DIM, CTX, 0f), v, pos);
            Node att = c.graph.attention("att", q, kc, vc, pos, HEADS, KV_HEADS, HEAD_DIM, (float) (1 / Math.sqrt(HEAD_DIM)));
            x = c.graph.add("res1", x, c.graph.mulMat("o", c.weight("wo", DType.F16, DIM, DIM, 0.1f), att));
            h = c.graph.rmsNorm("ffn_norm", x, c.weight("ffn_norm.w", DType.F32, DIM, 1, 1f), 1e-5f);
            Node gate = c.graph.mulMat("gate", c.weight("w_gate", DType.Q6_K, DIM, FFN, 0.1f), h);
            Node up = c.graph.mulMat("up", c.weight("w_up", DType.Q4_0, DIM, FFN, 0.1f), h);
            Node down = c.graph.mulMat("down", c.weight("w_down", DType.Q8_0, FFN, DIM, 0.05f), c.graph.swiglu("ffn", gate, up));
            x = c.graph.add("res2", x, down);
            h = c.graph.rmsNorm("out_norm", x, c.weight("out_norm.w", DType.F32, DIM, 1, 1f), 1e-5f);
            c.out(c.graph.mulMat("logits", c.weight("output", DType.Q6_K, DIM, VOCAB, 0.2f), h));

            List<Map<String, MemorySegment>> steps = List.of(
                    Map.of("ids", ints(c, 5, 17, 3), "pos", ints(c, 0, 1, 2)),
                    Map.of("ids", ints(c, 39, 5, 0), "pos", ints(c, 3, 4, 5)));
            var schedule = dev.hearth.runtime.sched.Scheduler.schedule(c.graph, n -> d, List.of(d));
            assertEquals(1, schedule.splits().size(), "the whole layer runs as one split on the device");
            List<float[][]> got = OpenClTesting.run(c, d, steps);
            List<float[][]> want = OpenClTesting.run(c, OpenClTesting.REFERENCE, steps);
            for (int s = 0; s < steps.size(); s++) {
                double e = OpenClTesting.nmse(got.get(s)[0], want.get(s)[0]);
                int step = s;
                assertTrue(e < MATMUL_INT8, () -> "step " + step + ": logits nmse " + e);
            }
        }
    }

    private static MemorySegment ints(OpenClTesting.Case c, int... v) {
        MemorySegment s = c.arena.allocate(4L * v.length, 64);
        MemorySegment.copy(v, 0, s, ValueLayout.JAVA_INT_UNALIGNED, 0, v.length);
        return s;
    }
}
