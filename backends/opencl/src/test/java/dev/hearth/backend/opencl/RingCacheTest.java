package dev.hearth.backend.opencl;

import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.reference.ReferenceOps;
import dev.hearth.runtime.tensor.TensorDesc;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.hearth.backend.opencl.OpenClTesting.nmse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * KV caches that are rings: position p at row p % R of a cache of R rows (a sliding-window
 * layer's cache holding only its window). kv_store (alone and fused into rope) and attention
 * (one pass, split over slices of the positions then merged, and by tiles of query rows) over F32 and F16 rings, with
 * positions well past R, against ReferenceOps.attention on the equivalent full-size cache (the
 * same values at rows pos instead of pos % R).
 */
@Tag("opencl")
class RingCacheTest {
    private static final int HEADS = 6;
    private static final int KV_HEADS = 2;
    private static final int HEAD_DIM = 72; // more than one 64-wide K tile, with a tail
    private static final int Q_ROW = HEADS * HEAD_DIM;
    private static final int KV_ROW = KV_HEADS * HEAD_DIM;

    /**
     * Decode steps of several tokens each (5; 16, a short prompt, for the tiled kernel), from
     * position 0 to about three times around a ring of window + tokens - 1 rows (the least the
     * scheduler allows), each step's attention against the reference over every position stored so far.
     */
    @ParameterizedTest
    @CsvSource({"F32, one, 5", "F16, one, 5", "F32, split, 5", "F16, split, 5", "F32, tiled, 5", "F16, tiled, 5",
            "F32, auto, 16", "F16, auto, 16"})
    void decodeStepsAroundTheRing(DType type, String kernel, int tokens) {
        // split: slices of the window, one of them empty; tiled: forced for 5 tokens, chosen for 16
        OpenClTesting.withAttentionKernel(kernel, () -> decodeSteps(type, tokens));
    }

    private static void decodeSteps(DType type, int tokens) {
        int window = 70; // more than one 64-key chunk: a chunk's rows wrap around the ring
        int ring = window + tokens - 1;
        int steps = 3 * ring / tokens; // three times around
        float scale = (float) (1 / Math.sqrt(HEAD_DIM));
        try (var c = new OpenClTesting.Case(60 + type.ordinal())) {
            Node kc = c.state("k_cache", type, KV_ROW, ring, 1f); // junk where nothing is stored yet
            Node vc = c.state("v_cache", type, KV_ROW, ring, 1f);
            Node pos = c.ints("pos", java.util.stream.IntStream.range(0, tokens).toArray());
            Node q = c.input("q", DType.F32, Q_ROW, tokens, 1f);
            Node k = c.input("k", DType.F32, KV_ROW, tokens, 1f);
            Node v = c.input("v", DType.F32, KV_ROW, tokens, 1f);
            Node ks = c.graph.kvStore("k_stored", kc, k, pos);
            Node vs = c.graph.kvStore("v_stored", vc, v, pos);
            float[] sinkValues = {3f, -1f, 0.5f, 6f, -30f, 1.5f};
            c.leaves.put("sinks", c.encode(DType.F32, sinkValues, HEADS));
            Node sinks = c.graph.weight(TensorDesc.of("sinks", DType.F32, HEADS));
            c.out(c.graph.attention("att", q, ks, vs, pos, HEADS, KV_HEADS, HEAD_DIM, scale, window, 0f));
            c.out(c.graph.attention("att_narrow", q, ks, vs, pos, HEADS, KV_HEADS, HEAD_DIM, scale, 9, 0f));
            c.out(c.graph.attention("att_softcap_sinks", q, ks, vs, pos, HEADS, KV_HEADS, HEAD_DIM, 1f, window, 3f, sinks));

            int total = steps * tokens;
            float[] kFull = new float[total * KV_ROW];
            float[] vFull = new float[total * KV_ROW];
            List<Map<String, MemorySegment>> inputs = new ArrayList<>();
            List<float[][]> want = new ArrayList<>();
            for (int s = 0; s < steps; s++) {
                int[] p = new int[tokens];
                for (int t = 0; t < tokens; t++) p[t] = s * tokens + t;
                float[] qv = c.randoms(Q_ROW * tokens, 1f);
                float[] kv = c.randoms(KV_ROW * tokens, 1f);
                float[] vv = c.randoms(KV_ROW * tokens, 1f);
                inputs.add(Map.of("pos", ints(c, p), "q", c.encode(DType.F32, qv, Q_ROW),
                        "k", c.encode(DType.F32, kv, KV_ROW), "v", c.encode(DType.F32, vv, KV_ROW)));
                System.arraycopy(stored(type, kv), 0, kFull, p[0] * KV_ROW, kv.length);
                System.arraycopy(stored(type, vv), 0, vFull, p[0] * KV_ROW, vv.length);
                want.add(new float[][] {
                        ReferenceOps.attention(qv, kFull, vFull, p, HEADS, KV_HEADS, HEAD_DIM, scale, window, 0f),
                        ReferenceOps.attention(qv, kFull, vFull, p, HEADS, KV_HEADS, HEAD_DIM, scale, 9, 0f),
                        ReferenceOps.attention(qv, kFull, vFull, p, HEADS, KV_HEADS, HEAD_DIM, 1f, window, 3f, sinkValues)});
            }
            List<float[][]> got = OpenClTesting.run(c, OpenClTesting.device(), inputs);
            for (int s = 0; s < steps; s++) assertClose(got.get(s), want.get(s), c, "step " + s);
        }
    }

    /**
     * One batch at positions far past a ring that already holds the positions before it (and is
     * larger than the window needs), tokens not adjacent; the window spans most of the ring.
     */
    @ParameterizedTest
    @CsvSource({"F32, one", "F16, one", "F32, split", "F16, split", "F32, tiled", "F16, tiled"})
    void batchFarPastTheRing(DType type, String kernel) {
        OpenClTesting.withAttentionKernel(kernel, () -> batchFarPast(type));
    }

    private static void batchFarPast(DType type) {
        int ring = 100;
        int window = 90;
        int[] p = {1000, 1001, 1003, 1010};
        int tokens = p.length;
        int max = p[tokens - 1];
        float scale = (float) (1 / Math.sqrt(HEAD_DIM));
        try (var c = new OpenClTesting.Case(70 + type.ordinal())) {
            // the full-size cache: every position up to max; the ring holds its last ring positions
            float[] kFull = stored(type, c.randoms((max + 1) * KV_ROW, 1f));
            float[] vFull = stored(type, c.randoms((max + 1) * KV_ROW, 1f));
            float[] kRing = new float[ring * KV_ROW];
            float[] vRing = new float[ring * KV_ROW];
            for (int j = max - ring + 1; j <= max; j++) {
                System.arraycopy(kFull, j * KV_ROW, kRing, (j % ring) * KV_ROW, KV_ROW);
                System.arraycopy(vFull, j * KV_ROW, vRing, (j % ring) * KV_ROW, KV_ROW);
            }
            c.leaves.put("k_cache", c.encode(type, kRing, KV_ROW));
            c.leaves.put("v_cache", c.encode(type, vRing, KV_ROW));
            Node kc = c.graph.state(TensorDesc.of("k_cache", type, KV_ROW, ring));
            Node vc = c.graph.state(TensorDesc.of("v_cache", type, KV_ROW, ring));
            Node pos = c.ints("pos", p);
            float[] qv = c.randoms(Q_ROW * tokens, 1f);
            float[] kv = c.randoms(KV_ROW * tokens, 1f);
            float[] vv = c.randoms(KV_ROW * tokens, 1f);
            c.inputs.put("q", c.encode(DType.F32, qv, Q_ROW));
            c.inputs.put("k", c.encode(DType.F32, kv, KV_ROW));
            c.inputs.put("v", c.encode(DType.F32, vv, KV_ROW));
            Node q = c.graph.input("q", DType.F32, Q_ROW, tokens);
            Node k = c.graph.input("k", DType.F32, KV_ROW, tokens);
            Node v = c.graph.input("v", DType.F32, KV_ROW, tokens);
            Node ks = c.graph.kvStore("k_stored", kc, k, pos);
            Node vs = c.graph.kvStore("v_stored", vc, v, pos);
            c.out(c.graph.attention("att", q, ks, vs, pos, HEADS, KV_HEADS, HEAD_DIM, scale, window, 0f));
            c.out(c.graph.attention("att_softcap", q, ks, vs, pos, HEADS, KV_HEADS, HEAD_DIM, 1f, 20, 3f));
            Node storedK = c.out(ks);

            float[] kStored = stored(type, kv);
            float[] vStored = stored(type, vv);
            for (int t = 0; t < tokens; t++) {
                System.arraycopy(kStored, t * KV_ROW, kFull, p[t] * KV_ROW, KV_ROW);
                System.arraycopy(vStored, t * KV_ROW, vFull, p[t] * KV_ROW, KV_ROW);
                System.arraycopy(kStored, t * KV_ROW, kRing, (p[t] % ring) * KV_ROW, KV_ROW);
            }
            float[][] want = {
                    ReferenceOps.attention(qv, kFull, vFull, p, HEADS, KV_HEADS, HEAD_DIM, scale, window, 0f),
                    ReferenceOps.attention(qv, kFull, vFull, p, HEADS, KV_HEADS, HEAD_DIM, 1f, 20, 3f),
                    kRing};
            float[][] got = OpenClTesting.run(c, OpenClTesting.device());
            assertClose(got, want, c, "batch");
            assertEquals(storedK, c.outputs.get(2));
        }
    }

    /** rope fused with kv_store writes each rotated row at row pos % R of the ring and leaves the others. */
    @ParameterizedTest
    @EnumSource(names = {"F32", "F16"})
    void ropeFusedStoreWrapsAroundTheRing(DType type) {
        int ring = 7;
        int[] p = {20, 22, 27, 6};
        try (var c = new OpenClTesting.Case(80 + type.ordinal())) {
            float[] initial = stored(type, c.randoms(ring * KV_ROW, 1f));
            c.leaves.put("k_cache", c.encode(type, initial, KV_ROW));
            Node cache = c.graph.state(TensorDesc.of("k_cache", type, KV_ROW, ring));
            Node x = c.input("k", DType.F32, KV_ROW, p.length, 1f);
            Node pos = c.ints("pos", p);
            Node k = c.out(c.graph.rope("k_rope", x, pos, HEAD_DIM, HEAD_DIM, Op.RopeMode.NEOX, 10000f, 1f, null));
            c.out(c.graph.kvStore("k_stored", cache, k, pos));
            float[][] got = OpenClTesting.run(c, OpenClTesting.device());
            float[] rotated = stored(type, got[0]);
            float[] want = initial.clone();
            for (int t = 0; t < p.length; t++) System.arraycopy(rotated, t * KV_ROW, want, (p[t] % ring) * KV_ROW, KV_ROW);
            assertEquals(0.0, nmse(got[1], want), "rows pos % " + ring + " hold the rotated rows, the others are untouched");
        }
    }

    /** What a cache of {@code type} holds for {@code values}: f16 rounds to nearest even. */
    private static float[] stored(DType type, float[] values) {
        if (type == DType.F32) return values.clone();
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) out[i] = Float.float16ToFloat(Float.floatToFloat16(values[i]));
        return out;
    }

    private static MemorySegment ints(OpenClTesting.Case c, int[] values) {
        MemorySegment s = c.arena.allocate(4L * values.length, 64);
        MemorySegment.copy(values, 0, s, ValueLayout.JAVA_INT_UNALIGNED, 0, values.length);
        return s;
    }

    private static void assertClose(float[][] got, float[][] want, OpenClTesting.Case c, String where) {
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i].length, got[i].length);
            double e = nmse(got[i], want[i]);
            String what = where + ", " + c.outputs.get(i);
            assertTrue(e <= 1e-5, () -> what + ": nmse " + e);
        }
    }
}
