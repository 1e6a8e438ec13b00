package dev.hearth.backend.opencl;

import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Subgraph;
import dev.hearth.runtime.backend.TensorRef;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import static dev.hearth.backend.opencl.OpenClTesting.assertMatchesReference;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * rope (both modes, with and without frequency factors, ropeDims below headDim), kv_store into
 * f32 and f16 caches, and attention over them with grouped heads, against the reference
 * backend. The cache starts full of other values, so stray writes and reads past pos show.
 * Attention runs in one pass and split over slices of the cache with a merge, and by tiles of
 * query rows (attention_tiled.cl: forced for 5 tokens, chosen for a prompt of 33), plain, with a
 * sliding window (narrower and wider than the positions), soft-capped scores, and both, and
 * with attention sinks (alone and with a window or soft cap; split, the sink joins the merge).
 * rope with YaRN scaling (both modes, extFactor 1 and 0, with frequency factors), and fused.
 * Also the rope + kv_store fusion: taken where it is safe, refused where a node between reads
 * the cache.
 */
@Tag("opencl")
class RopeAttentionTest {
    @Test
    void ropeMatchesReference() {
        try (var c = new OpenClTesting.Case(21)) {
            Node x = c.input("x", DType.F32, 10 * 3, 4, 1f);
            Node pos = c.ints("pos", 0, 5, 17, 1000);
            float[] ff = {1f, 1.5f, 2f, 4f};
            c.leaves.put("ff", c.encode(DType.F32, ff, 4));
            Node factors = c.graph.weight(dev.hearth.runtime.tensor.TensorDesc.of("ff", DType.F32, 4));
            c.out(c.graph.rope("normal", x, pos, 10, 10, Op.RopeMode.NORMAL, 10000f, 1f, null));
            c.out(c.graph.rope("neox", x, pos, 10, 10, Op.RopeMode.NEOX, 10000f, 1f, null));
            c.out(c.graph.rope("normal_part", x, pos, 10, 8, Op.RopeMode.NORMAL, 500000f, 0.25f, factors));
            c.out(c.graph.rope("neox_part", x, pos, 10, 6, Op.RopeMode.NEOX, 1e6f, 1f, factors));
            assertMatchesReference(c, 1e-5);
        }
    }

    @Test
    void ropeYarnMatchesReference() {
        try (var c = new OpenClTesting.Case(22)) {
            Node x = c.input("x", DType.F32, 32 * 3, 5, 1f);
            Node pos = c.ints("pos", 0, 1, 7, 100, 2047);
            float[] ff = {1f, 1.5f, 2f, 4f, 1f, 1f, 3f, 1f};
            c.leaves.put("ff", c.encode(DType.F32, ff, 8));
            Node factors = c.graph.weight(dev.hearth.runtime.tensor.TensorDesc.of("ff", DType.F32, 8));
            var yarn = new Op.Yarn(4096, 1f, 1f, 32f, 1f);
            var scaled = new Op.Yarn(4096, 1f, 0.8f, 32f, 1f);
            var noExt = new Op.Yarn(4096, 0f, 1.2f, 32f, 1f);
            c.out(c.graph.rope("normal", x, pos, 32, 32, Op.RopeMode.NORMAL, 150000f, 1f / 32, null, yarn));
            c.out(c.graph.rope("neox", x, pos, 32, 32, Op.RopeMode.NEOX, 150000f, 1f / 32, null, yarn));
            c.out(c.graph.rope("neox_part", x, pos, 32, 16, Op.RopeMode.NEOX, 10000f, 0.25f, factors, scaled));
            c.out(c.graph.rope("normal_no_ext", x, pos, 32, 24, Op.RopeMode.NORMAL, 10000f, 0.5f, null, noExt));
            assertMatchesReference(c, 1e-5);
        }
    }

    @Test
    void ropeYarnFusedWithKvStoreMatchesReference() {
        try (var c = new OpenClTesting.Case(23)) {
            Node x = c.input("k", DType.F32, 32 * 2, 3, 1f);
            Node pos = c.ints("pos", 4, 500, 6);
            Node cache = c.state("k_cache", DType.F16, 32 * 2, 600, 1f);
            var yarn = new Op.Yarn(4096, 1f, 1f, 32f, 1f);
            Node k = c.out(c.graph.rope("k_rope", x, pos, 32, 32, Op.RopeMode.NEOX, 150000f, 1f / 32, null, yarn));
            c.out(c.graph.kvStore("k_stored", cache, k, pos));
            assertMatchesReference(c, 1e-5);
            assertEquals(1, plan(c.graph.nodes().stream().filter(n -> !n.isLeaf()).toList()).size(), "the kv_store is done by the rope kernel");
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"F32", "F16"})
    void ropeFusedWithKvStoreMatchesReference(DType cacheType) {
        try (var c = new OpenClTesting.Case(25 + cacheType.ordinal())) {
            Node x = c.input("k", DType.F32, 16 * 2, 3, 1f);
            Node pos = c.ints("pos", 4, 5, 6);
            Node cache = c.state("k_cache", cacheType, 16 * 2, 9, 1f);
            Node k = c.out(c.graph.rope("k_rope", x, pos, 16, 12, Op.RopeMode.NEOX, 10000f, 1f, null));
            Node stored = c.out(c.graph.kvStore("k_stored", cache, k, pos));
            assertMatchesReference(c, 1e-5);

            List<Launch> launches = plan(c.graph.nodes().stream().filter(n -> !n.isLeaf()).toList());
            assertEquals(1, launches.size(), "the kv_store is done by the rope kernel");
            assertEquals(k, launches.getFirst().node());
            assertTrue(stored.op() instanceof Op.KvStore);
        }
    }

    @Test
    void noFusionWhenTheCacheIsReadBetween() {
        try (var c = new OpenClTesting.Case(27)) {
            Node x = c.input("k", DType.F32, 16, 2, 1f);
            Node pos = c.ints("pos", 1, 2);
            Node cache = c.state("k_cache", DType.F32, 16, 4, 1f);
            Node k = c.graph.rope("k_rope", x, pos, 16, 16, Op.RopeMode.NORMAL, 10000f, 1f, null);
            Node before = c.out(c.graph.attention("att_old", x, cache, cache, pos, 1, 1, 16, 0.25f));
            c.out(c.graph.kvStore("k_stored", cache, k, pos));
            assertMatchesReference(c, 1e-5); // att_old sees the cache as it was

            List<Launch> launches = plan(c.graph.nodes().stream().filter(n -> !n.isLeaf()).toList());
            assertEquals(3, launches.size(), "rope, attention and kv_store each launch");
            assertEquals(before, launches.get(1).node());
        }
    }

    /** The launches for {@code nodes} as one subgraph, with every tensor in one scratch buffer. */
    private static List<Launch> plan(List<Node> nodes) {
        OpenClDevice d = OpenClTesting.device();
        Map<Node, TensorRef> refs = new IdentityHashMap<>();
        long offset = 0;
        for (Node n : nodes) {
            for (Node in : n.inputs()) {
                if (!refs.containsKey(in)) {
                    refs.put(in, new TensorRef(in.desc(), null, offset));
                    offset += (in.desc().bytes() + 255) / 256 * 256;
                }
            }
            refs.put(n, new TensorRef(n.desc(), null, offset));
            offset += (n.desc().bytes() + 255) / 256 * 256;
        }
        try (Buffer b = d.allocate(offset, BufferUsage.COMPUTE)) {
            Map<Node, TensorRef> bound = new IdentityHashMap<>();
            refs.forEach((n, r) -> bound.put(n, new TensorRef(r.desc(), b, r.offset())));
            Planner.Plan plan = Planner.plan(d, new Subgraph(d, nodes, bound));
            plan.close();
            return plan.launches();
        }
    }

    @ParameterizedTest
    @CsvSource({"F32, one, 5", "F16, one, 5", "F32, split, 5", "F16, split, 5", "F32, tiled, 5", "F16, tiled, 5",
            "F32, auto, 33", "F16, auto, 33"})
    void kvStoreAndAttentionMatchReference(DType cache, String kernel, int tokens) {
        // split: slices of the cache, some of them empty, then merged; tiled for 5 tokens: forced,
        // for 33 the planner's choice (99 rows: tiles of 32 that cut a token's 3 heads apart, a last of 3)
        OpenClTesting.withAttentionKernel(kernel, () -> kvStoreAndAttention(cache, tokens));
    }

    /**
     * A prompt (16 tokens or more) is planned as one launch of the tiled kernel (tiles of 16 rows
     * for headDim 256), a shorter one and one of headDim 512 as attention.cl.
     */
    @Test
    void promptsTakeTheTiledKernel() {
        try (var c = new OpenClTesting.Case(29)) {
            Node cache = c.state("cache", DType.F16, 2 * 64, 64, 1f);
            Node pos16 = c.ints("pos16", java.util.stream.IntStream.range(3, 19).toArray());
            Node q16 = c.input("q16", DType.F32, 8 * 64, 16, 1f);
            Node pos15 = c.ints("pos15", java.util.stream.IntStream.range(3, 18).toArray());
            Node q15 = c.input("q15", DType.F32, 8 * 64, 15, 1f);
            Node prompt = c.graph.attention("prompt", q16, cache, cache, pos16, 8, 2, 64, 0.125f);
            Node shorter = c.graph.attention("shorter", q15, cache, cache, pos15, 8, 2, 64, 0.125f);
            OpenClDevice d = OpenClTesting.device();
            List<Launch> launches = plan(List.of(prompt));
            assertEquals(1, launches.size());
            assertEquals(d.kernel("attention_tiled.cl", "attention_tiled_32"), launches.getFirst().kernel());
            assertEquals(d.kernel("attention.cl", "attention"), plan(List.of(shorter)).getFirst().kernel());
            Node wide = c.state("wide", DType.F16, 512, 64, 1f);
            Node qWide = c.input("q_wide", DType.F32, 2 * 512, 16, 1f);
            Node wider = c.graph.attention("wider", qWide, wide, wide, pos16, 2, 1, 512, 0.125f);
            assertEquals(d.kernel("attention.cl", "attention"), plan(List.of(wider)).getFirst().kernel(), "headDim 512: attention.cl");
            Node mid = c.state("mid", DType.F16, 256, 64, 1f);
            Node qMid = c.input("q_mid", DType.F32, 2 * 256, 16, 1f);
            Node wideTiles = c.graph.attention("wide_tiles", qMid, mid, mid, pos16, 2, 1, 256, 0.125f);
            assertEquals(d.kernel("attention_tiled.cl", "attention_tiled_16"), plan(List.of(wideTiles)).getFirst().kernel());
        }
    }

    private static void kvStoreAndAttention(DType cache, int tokens) {
        int heads = 6;
        int kvHeads = 2;
        int headDim = 72; // more than one 64-wide K tile, with a tail
        int ctx = 80;
        int first = tokens < 16 ? 65 : 40;
        int[] positions = java.util.stream.IntStream.range(first, first + tokens).toArray();
        try (var c = new OpenClTesting.Case(30 + cache.ordinal())) {
            Node kc = c.state("k_cache", cache, kvHeads * headDim, ctx, 1f);
            Node vc = c.state("v_cache", cache, kvHeads * headDim, ctx, 1f);
            Node pos = c.ints("pos", positions);
            Node q = c.input("q", DType.F32, heads * headDim, tokens, 1f);
            Node k = c.input("k", DType.F32, kvHeads * headDim, tokens, 1f);
            Node v = c.input("v", DType.F32, kvHeads * headDim, tokens, 1f);
            Node ks = c.out(c.graph.kvStore("k_stored", kc, k, pos));
            Node vs = c.out(c.graph.kvStore("v_stored", vc, v, pos));
            c.out(c.graph.attention("att", q, ks, vs, pos, heads, kvHeads, headDim, (float) (1 / Math.sqrt(headDim))));
            Node one = c.ints("pos1", 2);
            Node q1 = c.input("q1", DType.F32, heads * headDim, 1, 2f);
            c.out(c.graph.attention("att1", q1, ks, vs, one, heads, kvHeads, headDim, 0.3f));
            float scale = (float) (1 / Math.sqrt(headDim));
            c.out(c.graph.attention("att_window", q, ks, vs, pos, heads, kvHeads, headDim, scale, 9, 0f));
            c.out(c.graph.attention("att_wide_window", q, ks, vs, pos, heads, kvHeads, headDim, scale, 67, 0f));
            c.out(c.graph.attention("att_softcap", q, ks, vs, pos, heads, kvHeads, headDim, 1f, 0, 3f));
            c.out(c.graph.attention("att_both", q, ks, vs, pos, heads, kvHeads, headDim, 1f, 20, 3f));
            c.out(c.graph.attention("att1_window", q1, ks, vs, one, heads, kvHeads, headDim, 0.3f, 2, 1f));
            float[] sinkValues = {3f, -1f, 0.5f, 6f, -30f, 1.5f}; // 6: the sink outweighs the keys
            c.leaves.put("sinks", c.encode(DType.F32, sinkValues, heads));
            Node sinks = c.graph.weight(dev.hearth.runtime.tensor.TensorDesc.of("sinks", DType.F32, heads));
            c.out(c.graph.attention("att_sinks", q, ks, vs, pos, heads, kvHeads, headDim, scale, 0, 0f, sinks));
            c.out(c.graph.attention("att_sinks_window", q, ks, vs, pos, heads, kvHeads, headDim, scale, 9, 0f, sinks));
            c.out(c.graph.attention("att_sinks_softcap", q, ks, vs, pos, heads, kvHeads, headDim, 1f, 20, 3f, sinks));
            c.out(c.graph.attention("att1_sinks", q1, ks, vs, one, heads, kvHeads, headDim, 0.3f, 0, 0f, sinks));
            assertMatchesReference(c, 1e-5);
        }
    }
}
