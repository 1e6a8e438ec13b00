package dev.hearth.backend.cuda;

import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.backend.Subgraph;
import dev.hearth.runtime.backend.TensorRef;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.graph.Op.RopeMode;
import dev.hearth.runtime.reference.ReferenceDevice;
import dev.hearth.runtime.sched.Executor;
import dev.hearth.runtime.sched.Schedule;
import dev.hearth.runtime.sched.Scheduler;
import dev.hearth.runtime.tensor.TensorDesc;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Graphs on the CUDA device as the runtime runs them: a LLaMA decoder layer through the
 * Scheduler and Executor for a prompt and then token by token (the Executor reused, so its
 * subgraphs are recorded as CUDA graphs and replayed with new positions), the same layer split
 * between the CUDA and the reference device, and replay of a recorded CUDA graph against direct
 * launches, bit for bit.
 */
@Tag("gpu")
class CudaGraphGpuTest {
    static final int DIM = 256, HEADS = 4, KV_HEADS = 2, HEAD_DIM = DIM / HEADS, FFN = 512, CTX = 64;

    /** The weights of one layer, as data by name. */
    private static Map<String, MemorySegment> layerWeights(DType type, long seed) {
        Random r = new Random(seed);
        Map<String, MemorySegment> w = new LinkedHashMap<>();
        int kvDim = KV_HEADS * HEAD_DIM;
        w.put("attn_norm", GpuTesting.encode(DType.F32, GpuTesting.uniform(r, DIM, 1f)));
        w.put("ffn_norm", GpuTesting.encode(DType.F32, GpuTesting.uniform(r, DIM, 1f)));
        float s = (float) Math.sqrt(3.0 / DIM);
        w.put("wq", GpuTesting.encode(type, GpuTesting.uniform(r, DIM * DIM, s)));
        w.put("wk", GpuTesting.encode(type, GpuTesting.uniform(r, DIM * kvDim, s)));
        w.put("wv", GpuTesting.encode(type, GpuTesting.uniform(r, DIM * kvDim, s)));
        w.put("wo", GpuTesting.encode(type, GpuTesting.uniform(r, DIM * DIM, s)));
        w.put("ffn_gate", GpuTesting.encode(type, GpuTesting.uniform(r, DIM * FFN, s)));
        w.put("ffn_up", GpuTesting.encode(type, GpuTesting.uniform(r, DIM * FFN, s)));
        w.put("ffn_down", GpuTesting.encode(type, GpuTesting.uniform(r, FFN * DIM, (float) Math.sqrt(3.0 / FFN))));
        return w;
    }

    /** One decoder layer for {@code tokens} tokens; outputs: the layer's result. */
    private static Graph layer(DType type, int tokens) {
        Graph g = new Graph();
        int kvDim = KV_HEADS * HEAD_DIM;
        Node x = g.input("x", DType.F32, DIM, tokens);
        Node pos = g.input("pos", DType.I32, tokens);
        Node kCache = g.state(TensorDesc.of("k_cache", DType.F16, kvDim, CTX));
        Node vCache = g.state(TensorDesc.of("v_cache", DType.F16, kvDim, CTX));
        Node attnNorm = g.rmsNorm("an", x, g.weight(TensorDesc.of("attn_norm", DType.F32, DIM)), 1e-5f);
        Node q = g.mulMat("q", g.weight(TensorDesc.of("wq", type, DIM, DIM)), attnNorm);
        Node k = g.mulMat("k", g.weight(TensorDesc.of("wk", type, DIM, kvDim)), attnNorm);
        Node v = g.mulMat("v", g.weight(TensorDesc.of("wv", type, DIM, kvDim)), attnNorm);
        q = g.rope("qr", q, pos, HEAD_DIM, HEAD_DIM, RopeMode.NORMAL, 10000f, 1f, null);
        k = g.rope("kr", k, pos, HEAD_DIM, HEAD_DIM, RopeMode.NORMAL, 10000f, 1f, null);
        Node ks = g.kvStore("ks", kCache, k, pos);
        Node vs = g.kvStore("vs", vCache, v, pos);
        Node att = g.attention("att", q, ks, vs, pos, HEADS, KV_HEADS, HEAD_DIM, (float) (1 / Math.sqrt(HEAD_DIM)));
        Node h = g.add("h", x, g.mulMat("o", g.weight(TensorDesc.of("wo", type, DIM, DIM)), att));
        Node fn = g.rmsNorm("fn", h, g.weight(TensorDesc.of("ffn_norm", DType.F32, DIM)), 1e-5f);
        Node gate = g.mulMat("gate", g.weight(TensorDesc.of("ffn_gate", type, DIM, FFN)), fn);
        Node up = g.mulMat("up", g.weight(TensorDesc.of("ffn_up", type, DIM, FFN)), fn);
        Node down = g.mulMat("down", g.weight(TensorDesc.of("ffn_down", type, FFN, DIM)), g.swiglu("sw", gate, up));
        g.output(g.add("out", h, down));
        return g;
    }

    /** A layer's weights and KV cache placed on devices: weights by name on the device {@code place} names. */
    private static final class Model implements AutoCloseable {
        final Map<String, TensorRef> leaves = new LinkedHashMap<>();
        final Map<String, Device> where = new LinkedHashMap<>();
        final List<Buffer> buffers = new ArrayList<>();

        Model(Graph shape, Map<String, MemorySegment> weights, java.util.function.Function<String, Device> place) {
            for (Node n : shape.nodes()) {
                if (!(n.op() instanceof Op.Weight) && !(n.op() instanceof Op.State)) continue;
                Device d = place.apply(n.name());
                Buffer b = d.allocate(n.desc().bytes(), n.op() instanceof Op.Weight ? BufferUsage.WEIGHTS : BufferUsage.KV);
                buffers.add(b);
                if (n.op() instanceof Op.Weight) b.write(0, weights.get(n.name()));
                leaves.put(n.name(), new TensorRef(n.desc(), b, 0));
                where.put(n.name(), d);
            }
        }

        Executor executor(Graph g, List<Device> fallbacks) {
            Schedule s = Scheduler.schedule(g, n -> where.get(n.name()), fallbacks);
            return s.instantiate(n -> leaves.get(n.name()));
        }

        @Override
        public void close() {
            for (Buffer b : buffers) b.close();
        }
    }

    private static float[] run(Executor ex, Graph g, float[] x, int[] pos) {
        ex.setInput("x", x);
        ex.setInput("pos", pos);
        ex.run();
        Node out = g.outputs().getFirst();
        float[] y = new float[(int) out.desc().elements()];
        ex.read(out, y);
        return y;
    }

    private static int[] range(int from, int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = from + i;
        return p;
    }

    /**
     * A prompt of 12 tokens (tiled mul_mat), then 5 tokens one at a time through one Executor, on
     * the CUDA device and on the reference device, each step's output compared.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F16", "Q4_0", "Q8_0", "Q4_K", "Q6_K"})
    void llamaLayerPromptThenGeneration(DType type) {
        CudaDevice cuda = GpuTesting.device();
        Device ref = new ReferenceDevice();
        Map<String, MemorySegment> weights = layerWeights(type, 7);
        Graph prompt = layer(type, 12), step = layer(type, 1);
        Random r = new Random(11);
        double tol = type.isQuantized() ? 5e-4 : 1e-5;
        try (Model onCuda = new Model(prompt, weights, name -> cuda); Model onRef = new Model(prompt, weights, name -> ref)) {
            float[] x = GpuTesting.uniform(r, DIM * 12, 1f);
            try (Executor a = onCuda.executor(prompt, List.of(cuda)); Executor b = onRef.executor(prompt, List.of(ref))) {
                float[] got = run(a, prompt, x, range(0, 12));
                float[] want = run(b, prompt, x, range(0, 12));
                double e = GpuTesting.nmse(got, want);
                assertTrue(e <= 1e-5, type + " prompt: nmse " + e);
            }
            try (Executor a = onCuda.executor(step, List.of(cuda)); Executor b = onRef.executor(step, List.of(ref))) {
                for (int p = 12; p < 17; p++) {
                    float[] xt = GpuTesting.uniform(r, DIM, 1f);
                    float[] got = run(a, step, xt, new int[]{p});
                    float[] want = run(b, step, xt, new int[]{p});
                    double e = GpuTesting.nmse(got, want);
                    assertTrue(e <= tol, type + " token at " + p + ": nmse " + e);
                }
            }
            // The caches agree too: everything kv_store wrote over the run.
            for (String cache : new String[]{"k_cache", "v_cache"}) {
                TensorRef c = onCuda.leaves.get(cache), w = onRef.leaves.get(cache);
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment gc = arena.allocate(c.bytes()), wc = arena.allocate(w.bytes());
                    c.buffer().read(0, gc);
                    w.buffer().read(0, wc);
                    double e = GpuTesting.nmse(GpuTesting.decode(c.desc(), gc), GpuTesting.decode(w.desc(), wc));
                    assertTrue(e <= 1e-5, type + " " + cache + ": nmse " + e);
                }
            }
        }
    }

    /** The feed-forward weights on the reference device, the rest on the GPU: splits, copies both ways. */
    @Test
    void layerSplitBetweenCudaAndHost() {
        CudaDevice cuda = GpuTesting.device();
        Device ref = new ReferenceDevice();
        Map<String, MemorySegment> weights = layerWeights(DType.Q4_K, 5);
        Graph g = layer(DType.Q4_K, 3);
        Random r = new Random(3);
        try (Model mixed = new Model(g, weights, name -> name.startsWith("ffn_") ? ref : cuda);
             Model onRef = new Model(g, weights, name -> ref);
             Executor a = mixed.executor(g, List.of(cuda, ref));
             Executor b = onRef.executor(g, List.of(ref))) {
            assertTrue(a.schedule().splits().size() >= 2, "the layer is split between the devices");
            for (int step = 0; step < 3; step++) {
                float[] x = GpuTesting.uniform(r, DIM * 3, 1f);
                int[] pos = range(3 * step, 3);
                double e = GpuTesting.nmse(run(a, g, x, pos), run(b, g, x, pos));
                assertTrue(e <= 5e-4, "step " + step + ": nmse " + e + " (Q4_K takes q8_1 activations for few tokens)");
            }
        }
    }

    /**
     * One subgraph computed on two streams, one replaying a recorded CUDA graph (from its second
     * run) and one launching kernel by kernel, over positions that change each run: the outputs
     * are identical, and only the first stream records.
     */
    @Test
    void graphReplayEqualsDirectLaunch() {
        CudaDevice cuda = GpuTesting.device();
        Map<String, MemorySegment> weights = layerWeights(DType.Q4_0, 9);
        Graph g = layer(DType.Q4_0, 1);
        Map<Node, TensorRef> refs = new IdentityHashMap<>();
        List<Buffer> buffers = new ArrayList<>();
        try {
            for (Node n : g.nodes()) {
                if (n.op() instanceof Op.KvStore kv) {
                    refs.put(n, refs.get(kv.cache()));
                    continue;
                }
                Buffer b = cuda.allocate(n.desc().bytes(), BufferUsage.COMPUTE);
                buffers.add(b);
                if (n.op() instanceof Op.Weight) b.write(0, weights.get(n.name()));
                refs.put(n, new TensorRef(n.desc(), b, 0));
            }
            List<Node> compute = g.nodes().stream().filter(n -> !n.isLeaf()).toList();
            Subgraph sg = new Subgraph(cuda, compute, refs);
            Node x = g.nodes().stream().filter(n -> n.name().equals("x")).findFirst().orElseThrow();
            Node pos = g.nodes().stream().filter(n -> n.name().equals("pos")).findFirst().orElseThrow();
            Node out = g.outputs().getFirst();
            Random r = new Random(1);
            try (CudaStream replay = new CudaStream(cuda, true); CudaStream direct = new CudaStream(cuda, false);
                 Arena arena = Arena.ofConfined()) {
                MemorySegment y = arena.allocate(out.desc().bytes());
                for (int run = 0; run < 5; run++) {
                    refs.get(x).buffer().write(0, GpuTesting.encode(DType.F32, GpuTesting.uniform(r, DIM, 1f)));
                    refs.get(pos).buffer().write(0, GpuTesting.ints(3 + 2 * run));
                    replay.compute(sg);
                    replay.synchronize();
                    refs.get(out).buffer().read(0, y);
                    float[] a = GpuTesting.decode(out.desc(), y);
                    direct.compute(sg);
                    direct.synchronize();
                    refs.get(out).buffer().read(0, y);
                    float[] b = GpuTesting.decode(out.desc(), y);
                    assertArrayEquals(b, a, "run " + run + ": replayed graph differs from direct launches");
                    assertTrue(a.length > 0 && java.util.Arrays.stream(toDouble(a)).anyMatch(v -> v != 0), "run " + run + " computed something");
                    assertTrue(replay.plan(sg).recorded() == (run >= 1), "run " + run + ": recorded from the second run on");
                    assertFalse(direct.plan(sg).recorded(), "graphs off: never recorded");
                }
            }
        } finally {
            for (Buffer b : buffers) b.close();
        }
    }

    private static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }
}
