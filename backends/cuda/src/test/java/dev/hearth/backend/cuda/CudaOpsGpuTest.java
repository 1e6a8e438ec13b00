package dev.hearth.backend.cuda;

import dev.hearth.backend.cuda.GpuTesting.Case;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.TensorRef;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.graph.Op.RopeMode;
import dev.hearth.runtime.reference.ReferenceDevice;
import dev.hearth.runtime.tensor.TensorDesc;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every op on the CUDA device against the reference backend, at small odd shapes that reach the
 * edges of the kernels: partial warps, blocks and tiles, one token and many, float rows that are
 * not multiples of 32, several attention splits. Tolerances are normalized mean squared errors:
 * 1e-12 where the kernel must match bit for bit up to a fused multiply-add, 1e-6 where it uses
 * float sums and expf, 5e-4 where mul_mat rounds activations to int8 (quantized weights, few tokens).
 */
@Tag("gpu")
class CudaOpsGpuTest {
    static final double EXACT = 1e-12;
    static final double MATH = 1e-6;
    static final double INT8_ACTIVATIONS = 5e-4;
    /** Every weight type of the CUDA kernels, in GGUF order. */
    static final DType[] WEIGHT_TYPES = {DType.F32, DType.F16, DType.BF16, DType.Q4_0, DType.Q4_1, DType.Q5_0, DType.Q5_1, DType.Q8_0,
            DType.MXFP4, DType.Q2_K, DType.Q3_K, DType.Q4_K, DType.Q5_K, DType.Q6_K};
    private static final ReferenceDevice REFERENCE = new ReferenceDevice();

    private record Spec(String name, double tolerance, Consumer<Case> define) {
    }

    private static DynamicTest check(Spec spec) {
        return DynamicTest.dynamicTest(spec.name, () -> {
            CudaDevice cuda = GpuTesting.device();
            Case c = new Case(spec.name.hashCode());
            spec.define.accept(c);
            for (Node n : c.graph.nodes()) assertNull(dev.hearth.backend.cuda.CudaSupport.whyNot(n), spec.name + ": " + n);
            float[][] want = GpuTesting.compute(c, REFERENCE);
            float[][] got = GpuTesting.compute(c, cuda);
            for (int i = 0; i < want.length; i++) {
                double e = GpuTesting.nmse(got[i], want[i]);
                assertTrue(e <= spec.tolerance, spec.name + " output " + c.outputs.get(i).name() + ": nmse " + e + " > " + spec.tolerance);
            }
        });
    }

    /**
     * {@code ring} on the CUDA device against {@code full} on the reference backend: two graphs
     * that must give the same outputs, each case seeded alike (a ring cache of R rows against the
     * same positions in a full-size cache).
     */
    private static DynamicTest checkPair(String name, double tolerance, Consumer<Case> ring, Consumer<Case> full) {
        return DynamicTest.dynamicTest(name, () -> {
            CudaDevice cuda = GpuTesting.device();
            Case r = new Case(name.hashCode());
            ring.accept(r);
            for (Node n : r.graph.nodes()) assertNull(dev.hearth.backend.cuda.CudaSupport.whyNot(n), name + ": " + n);
            Case f = new Case(name.hashCode());
            full.accept(f);
            float[][] want = GpuTesting.compute(f, REFERENCE);
            float[][] got = GpuTesting.compute(r, cuda);
            for (int i = 0; i < want.length; i++) {
                double e = GpuTesting.nmse(got[i], want[i]);
                assertTrue(e <= tolerance, name + " output " + r.outputs.get(i).name() + ": nmse " + e + " > " + tolerance);
            }
        });
    }

    @TestFactory
    List<DynamicTest> mulMat() {
        List<Spec> specs = new ArrayList<>();
        DType[] types = WEIGHT_TYPES;
        boolean tensorCores = GpuTesting.device().modules().tensorCores(); // prompts of Q4_0/Q8_0 take int8 activations there
        int sms = GpuTesting.device().multiprocessors();
        for (DType type : types) {
            int[][] shapes = type.blockSize == 256 ? new int[][]{{256, 37}, {768, 64}}
                    : type.blockSize == 32 ? new int[][]{{96, 37}, {256, 64}}
                    : new int[][]{{100, 37}, {256, 64}, {33, 5}};
            // the shapes above take mul_mat_vec's split variant on any GPU; this one (odd rows, two rows a warp) one warp a row group
            int oneWarp = 4 * 2 * KernelCalls.VEC_SPLIT_BLOCKS_PER_SM * sms + 3;
            for (int[] kn : shapes) assertTrue(KernelCalls.vecSplit(kn[1], KernelCalls.vecRowsPerWarp(kn[0]), sms), "split at " + kn[1]);
            assertFalse(KernelCalls.vecSplit(oneWarp, KernelCalls.vecRowsPerWarp(256), sms));
            shapes = java.util.Arrays.copyOf(shapes, shapes.length + 1);
            shapes[shapes.length - 1] = new int[]{256, oneWarp};
            for (int[] kn : shapes) {
                for (int t : new int[]{1, 3, 8, 9, 70}) {
                    boolean int8 = type.isQuantized() && t <= KernelCalls.VEC_MAX_TOKENS
                            || (type == DType.Q4_0 || type == DType.Q8_0) && tensorCores;
                    String name = "mul_mat " + type + " k=" + kn[0] + " n=" + kn[1] + " t=" + t;
                    specs.add(new Spec(name, int8 ? INT8_ACTIVATIONS : MATH, c -> {
                        Node w = c.weight("w", type, 1f, kn[0], kn[1]);
                        Node x = c.input("x", DType.F32, 1f, kn[0], t);
                        c.output(c.graph.mulMat("y", w, x));
                    }));
                }
            }
        }
        return specs.stream().map(CudaOpsGpuTest::check).toList();
    }

    /**
     * Q4_0 and Q8_0 weights repacked at load (CudaDevice.prepareWeight, WeightRepack): mul_mat on
     * every path that reads them (matrix-vector split and not, the tensor-core or tiled kernel)
     * and get_rows of a repacked table.
     */
    @TestFactory
    List<DynamicTest> repackedWeights() {
        List<DynamicTest> tests = new ArrayList<>();
        int sms = GpuTesting.device().multiprocessors();
        boolean tensorCores = GpuTesting.device().modules().tensorCores();
        for (DType type : new DType[]{DType.Q4_0, DType.Q8_0}) {
            for (int[] kn : new int[][]{{256, 37}, {1280, 64}, {512, 4 * 2 * KernelCalls.VEC_SPLIT_BLOCKS_PER_SM * sms + 3}}) {
                for (int t : new int[]{1, 3, 8, 70}) {
                    String name = "mul_mat repacked " + type + " k=" + kn[0] + " n=" + kn[1] + " t=" + t;
                    double tolerance = t <= KernelCalls.VEC_MAX_TOKENS || tensorCores ? INT8_ACTIVATIONS : MATH;
                    tests.add(checkPrepared(name, tolerance, c -> {
                        Node w = c.weight("w", type, 1f, kn[0], kn[1]);
                        c.output(c.graph.mulMat("y", w, c.input("x", DType.F32, 1f, kn[0], t)));
                    }));
                }
            }
            tests.add(checkPrepared("get_rows repacked " + type + " k=512 v=37", EXACT, c -> {
                Node table = c.weight("table", type, 1f, 512, 37);
                c.output(c.graph.getRows("rows", table, c.ints("ids", 0, 36, 5, 5, 17)));
            }));
        }
        return tests;
    }

    /** A repacked weight reads back as its GGUF blocks (whole rows), is repacked once, and a write over it drops the record. */
    @Test
    void repackedWeightReadsBack() {
        CudaDevice cuda = GpuTesting.device();
        TensorDesc d = TensorDesc.of("w", DType.Q8_0, 512, 9);
        try (var b = (CudaBuffer) cuda.allocate(d.bytes() + 64, BufferUsage.WEIGHTS); Arena arena = Arena.ofConfined()) {
            byte[] random = new byte[(int) d.bytes()];
            new java.util.Random(3).nextBytes(random);
            MemorySegment gguf = arena.allocate(d.bytes());
            MemorySegment.copy(random, 0, gguf, ValueLayout.JAVA_BYTE, 0, random.length);
            b.write(64, gguf);
            TensorRef ref = new TensorRef(d, b, 64);
            assertTrue(cuda.prepareWeight(ref) == d.bytes() && b.isRepacked(64));
            assertTrue(cuda.prepareWeight(ref) == 0, "once");
            MemorySegment back = arena.allocate(d.bytes());
            b.read(64, back);
            assertTrue(back.mismatch(gguf) == -1, "reads give the GGUF blocks");
            MemorySegment row = arena.allocate(d.rowBytes());
            b.read(64 + 2 * d.rowBytes(), row);
            assertTrue(row.mismatch(gguf.asSlice(2 * d.rowBytes(), d.rowBytes())) == -1, "a whole row");
            assertThrows(IllegalStateException.class, () -> b.read(64 + 1, arena.allocate(d.rowBytes())), "part of a row");
            b.write(64, gguf);
            assertFalse(b.isRepacked(64), "written over: the GGUF layout again");
        }
    }

    /** As {@link #check}, the CUDA device preparing (repacking) the case's weights as the engine does. */
    private static DynamicTest checkPrepared(String name, double tolerance, Consumer<Case> define) {
        return DynamicTest.dynamicTest(name, () -> {
            Case c = new Case(name.hashCode());
            define.accept(c);
            float[][] want = GpuTesting.compute(c, REFERENCE);
            float[][] got = GpuTesting.compute(c, GpuTesting.device(), true);
            for (int i = 0; i < want.length; i++) {
                double e = GpuTesting.nmse(got[i], want[i]);
                assertTrue(e <= tolerance, name + " output " + c.outputs.get(i).name() + ": nmse " + e + " > " + tolerance);
            }
        });
    }

    @TestFactory
    List<DynamicTest> getRows() {
        List<Spec> specs = new ArrayList<>();
        for (DType type : WEIGHT_TYPES) {
            specs.add(new Spec("get_rows " + type + " k=512 v=37", EXACT, c -> {
                Node table = c.weight("table", type, 1f, 512, 37);
                c.output(c.graph.getRows("rows", table, c.ints("ids", 0, 36, 5, 5, 17)));
            }));
        }
        return specs.stream().map(CudaOpsGpuTest::check).toList();
    }

    @TestFactory
    List<DynamicTest> norms() {
        List<Spec> specs = new ArrayList<>();
        for (int[] kr : new int[][]{{256, 5}, {100, 3}, {4096, 2}, {33, 1}}) {
            for (boolean weighted : new boolean[]{true, false}) {
                specs.add(new Spec("rms_norm k=" + kr[0] + " rows=" + kr[1] + " weight=" + weighted, MATH, c -> {
                    Node x = c.input("x", DType.F32, 3f, kr[0], kr[1]);
                    Node w = weighted ? c.weight("w", DType.F32, 2f, kr[0]) : null;
                    c.output(c.graph.rmsNorm("y", x, w, 1e-5f));
                }));
            }
        }
        for (int[] kr : new int[][]{{256, 5}, {100, 3}, {33, 1}}) {
            for (int variant = 0; variant < 3; variant++) {
                boolean weighted = variant >= 1, biased = variant == 2;
                specs.add(new Spec("layer_norm k=" + kr[0] + " rows=" + kr[1] + " weight=" + weighted + " bias=" + biased, MATH, c -> {
                    Node x = c.input("x", DType.F32, 3f, kr[0], kr[1]);
                    Node w = weighted ? c.weight("w", DType.F32, 2f, kr[0]) : null;
                    Node b = biased ? c.weight("b", DType.F32, 1f, kr[0]) : null;
                    c.output(c.graph.layerNorm("y", x, w, b, 1e-5f));
                }));
            }
        }
        for (int[] kr : new int[][]{{256, 3}, {1000, 2}, {7, 5}}) {
            specs.add(new Spec("softmax k=" + kr[0] + " rows=" + kr[1], MATH, c ->
                    c.output(c.graph.softmax("y", c.input("x", DType.F32, 8f, kr[0], kr[1])))));
        }
        return specs.stream().map(CudaOpsGpuTest::check).toList();
    }

    @TestFactory
    List<DynamicTest> rope() {
        List<Spec> specs = new ArrayList<>();
        for (RopeMode mode : RopeMode.values()) {
            for (int ropeDims : new int[]{64, 32}) {
                for (boolean factors : new boolean[]{false, true}) {
                    float base = factors ? 500000f : 10000f;
                    float freqScale = factors ? 0.25f : 1f;
                    String name = "rope " + mode + " head=64 rope_dims=" + ropeDims + " factors=" + factors;
                    specs.add(new Spec(name, MATH, c -> {
                        Node x = c.input("x", DType.F32, 1f, 64 * 3, 5);
                        Node pos = c.ints("pos", 0, 1, 17, 1000, 4095);
                        Node ff = null;
                        if (factors) {
                            float[] f = new float[ropeDims / 2];
                            for (int i = 0; i < f.length; i++) f[i] = 1f + 7f * i / f.length;
                            c.data.put("ff", GpuTesting.encode(DType.F32, f));
                            ff = c.graph.weight(dev.hearth.runtime.tensor.TensorDesc.of("ff", DType.F32, f.length));
                        }
                        c.output(c.graph.rope("y", x, pos, 64, ropeDims, mode, base, freqScale, ff));
                    }));
                }
            }
        }
        return specs.stream().map(CudaOpsGpuTest::check).toList();
    }

    /**
     * YaRN: gpt-oss's parameters (32x, base 150000, head 64 and the conformance case's head 32), a
     * partial ext factor with an attention factor and frequency factors over partial rotation, and
     * ext factor 0 (interpolation with the attention factor only).
     */
    @TestFactory
    List<DynamicTest> ropeYarn() {
        List<Spec> specs = new ArrayList<>();
        record Variant(int headDim, int ropeDims, float base, float freqScale, boolean factors, Op.Yarn yarn) {
        }
        Variant[] variants = {
                new Variant(32, 32, 150000f, 1f / 32, false, new Op.Yarn(4096, 1f, 1f, 32f, 1f)),
                new Variant(64, 64, 150000f, 1f / 32, false, new Op.Yarn(4096, 1f, 1f, 32f, 1f)),
                new Variant(64, 32, 10000f, 0.25f, true, new Op.Yarn(2048, 0.5f, 0.9f, 32f, 1f)),
                new Variant(64, 64, 10000f, 0.25f, false, new Op.Yarn(4096, 0f, 1.2f, 32f, 1f))};
        for (RopeMode mode : RopeMode.values()) {
            for (Variant v : variants) {
                String name = "rope " + mode + " head=" + v.headDim + " rope_dims=" + v.ropeDims + " base=" + v.base + " freq_scale="
                        + v.freqScale + " factors=" + v.factors + " " + v.yarn;
                specs.add(new Spec(name, MATH, c -> {
                    Node x = c.input("x", DType.F32, 2f, (long) v.headDim * 3, 5);
                    Node pos = c.ints("pos", 0, 1, 7, 100, 4095);
                    Node ff = null;
                    if (v.factors) {
                        float[] f = new float[v.ropeDims / 2];
                        for (int i = 0; i < f.length; i++) f[i] = 1f + 7f * i / f.length;
                        c.data.put("ff", GpuTesting.encode(DType.F32, f));
                        ff = c.graph.weight(dev.hearth.runtime.tensor.TensorDesc.of("ff", DType.F32, f.length));
                    }
                    c.output(c.graph.rope("y", x, pos, v.headDim, v.ropeDims, mode, v.base, v.freqScale, ff, v.yarn));
                }));
            }
        }
        return specs.stream().map(CudaOpsGpuTest::check).toList();
    }

    @TestFactory
    List<DynamicTest> kvStore() {
        List<Spec> specs = new ArrayList<>();
        for (DType cache : new DType[]{DType.F32, DType.F16}) {
            specs.add(new Spec("kv_store " + cache + " kv=96 ctx=20 t=3", EXACT, c -> {
                Node k = c.state("cache", cache, 1f, 96, 20);
                Node src = c.input("src", DType.F32, 2f, 96, 3);
                c.output(c.graph.kvStore("stored", k, src, c.ints("pos", 4, 7, 19)));
            }));
        }
        return specs.stream().map(CudaOpsGpuTest::check).toList();
    }

    /** kv_store into a ring of 20 rows at positions well past it, against the same rows written at pos % 20. */
    @TestFactory
    List<DynamicTest> kvStoreRing() {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType cache : new DType[]{DType.F32, DType.F16}) {
            tests.add(checkPair("kv_store ring " + cache + " kv=96 ctx=20 pos=[143, 144, 20019, 0]", EXACT,
                    c -> kvStoreCase(c, cache, 143, 144, 20019, 0), c -> kvStoreCase(c, cache, 3, 4, 19, 0)));
        }
        return tests;
    }

    private static void kvStoreCase(Case c, DType cache, int... pos) {
        Node k = c.state("cache", cache, 1f, 96, 20);
        Node src = c.input("src", DType.F32, 2f, 96, pos.length);
        c.output(c.graph.kvStore("stored", k, src, c.ints("pos", pos)));
    }

    /**
     * Ring caches of R rows (position p at row p % R) with positions well past R and a window,
     * against the same positions in a full-size cache on the reference backend: one split and
     * several, one token and several, soft cap and sinks; with store, a kv_store of the tokens
     * themselves into the ring before the attention.
     */
    @TestFactory
    List<DynamicTest> attentionRing() {
        List<DynamicTest> tests = new ArrayList<>();
        // R, window, softcap, sinks (0/1), store (0/1), first position, tokens
        int[][] variants = {{13, 8, 0, 0, 0, 1000, 1}, {16, 8, 5, 0, 1, 997, 6}, {13, 8, 0, 1, 0, 40, 6}, {603, 600, 0, 0, 0, 5000, 1},
                {603, 600, 30, 0, 1, 4998, 4}, {700, 600, 0, 1, 1, 2000, 3}};
        for (DType cache : new DType[]{DType.F32, DType.F16}) {
            for (int[] v : variants) {
                int[] pos = new int[v[6]];
                for (int i = 0; i < pos.length; i++) pos[i] = v[5] + i;
                int splits = KernelCalls.attentionSplits(pos.length, 2, Math.min(v[0], v[1]));
                String name = "attention ring " + cache + " heads=4 kv_heads=2 head_dim=64 R=" + v[0] + " window=" + v[1] + " softcap=" + v[2]
                        + (v[3] == 1 ? " sinks" : "") + (v[4] == 1 ? " kv_store" : "") + " pos=" + java.util.Arrays.toString(pos)
                        + " splits=" + splits;
                tests.add(checkPair(name, 1e-5, c -> ringCase(c, cache, v, pos, v[0]), c -> ringCase(c, cache, v, pos, pos[pos.length - 1] + 1)));
            }
        }
        return tests;
    }

    /** One side of attentionRing: a cache of rows rows, where row p % rows holds position p's K and V for the latest rows positions. */
    private static void ringCase(Case c, DType cache, int[] v, int[] pos, int rows) {
        int kvDim = 2 * 64, full = pos[pos.length - 1] + 1;
        float[] kFull = GpuTesting.uniform(c.random, kvDim * full, 1f), vFull = GpuTesting.uniform(c.random, kvDim * full, 1f);
        float[] k = new float[kvDim * rows], vv = new float[kvDim * rows];
        for (int p = Math.max(0, full - rows); p < full; p++) {
            System.arraycopy(kFull, p * kvDim, k, (p % rows) * kvDim, kvDim);
            System.arraycopy(vFull, p * kvDim, vv, (p % rows) * kvDim, kvDim);
        }
        c.data.put("k", GpuTesting.encode(cache, k));
        c.data.put("v", GpuTesting.encode(cache, vv));
        Node kc = c.graph.state(dev.hearth.runtime.tensor.TensorDesc.of("k", cache, kvDim, rows));
        Node vc = c.graph.state(dev.hearth.runtime.tensor.TensorDesc.of("v", cache, kvDim, rows));
        Node q = c.input("q", DType.F32, 3f, 4 * 64, pos.length);
        Node p = c.ints("pos", pos);
        if (v[4] == 1) {
            kc = c.graph.kvStore("k_stored", kc, c.input("k_new", DType.F32, 1f, kvDim, pos.length), p);
            vc = c.graph.kvStore("v_stored", vc, c.input("v_new", DType.F32, 1f, kvDim, pos.length), p);
        }
        Node sinks = null;
        if (v[3] == 1) {
            c.data.put("sinks", GpuTesting.encode(DType.F32, new float[]{3f, -1f, 0.5f, 6f}));
            sinks = c.graph.weight(dev.hearth.runtime.tensor.TensorDesc.of("sinks", DType.F32, 4));
        }
        c.output(c.graph.attention("att", q, kc, vc, p, 4, 2, 64, 0.125f, v[1], v[2], sinks));
    }

    @TestFactory
    List<DynamicTest> attention() {
        List<Spec> specs = new ArrayList<>();
        int[][] heads = {{4, 4, 64}, {4, 2, 80}, {8, 2, 128}};
        for (DType cache : new DType[]{DType.F32, DType.F16}) {
            for (int[] h : heads) {
                for (int ctx : new int[]{40, 600}) {
                    for (int[] pos : new int[][]{{ctx - 1}, {3, 4, 5, 6}, {ctx - 4, ctx - 3, ctx - 2, ctx - 1}}) {
                        String name = "attention " + cache + " heads=" + h[0] + " kv_heads=" + h[1] + " head_dim=" + h[2]
                                + " ctx=" + ctx + " pos=" + java.util.Arrays.toString(pos);
                        specs.add(new Spec(name, 1e-5, c -> {
                            int kvDim = h[1] * h[2];
                            Node q = c.input("q", DType.F32, 2f, (long) h[0] * h[2], pos.length);
                            Node k = c.state("k", cache, 1f, kvDim, ctx);
                            Node v = c.state("v", cache, 1f, kvDim, ctx);
                            Node p = c.ints("pos", pos);
                            c.output(c.graph.attention("att", q, k, v, p, h[0], h[1], h[2], (float) (1 / Math.sqrt(h[2]))));
                        }));
                    }
                }
            }
        }
        return specs.stream().map(CudaOpsGpuTest::check).toList();
    }

    /**
     * Prompts of 16 tokens and more (on sm_80 and newer the tensor-core kernel, attention_mma.cu):
     * from position 0 and continuing at 100, GQA 4, head dims 64 and 128, with a window, a soft
     * cap and sinks; f16 operands there, hence the tolerance.
     */
    @TestFactory
    List<DynamicTest> attentionPrompt() {
        List<Spec> specs = new ArrayList<>();
        int[][] variants = {{0, 0, 0}, {32, 0, 0}, {0, 30, 0}, {24, 20, 1}}; // window, softcap, sinks
        for (DType cache : new DType[]{DType.F32, DType.F16}) {
            for (int dim : new int[]{64, 128}) {
                for (int[] v : variants) {
                    for (int[] span : new int[][]{{0, 16}, {0, 64}, {100, 33}}) {
                        int[] pos = new int[span[1]];
                        for (int i = 0; i < pos.length; i++) pos[i] = span[0] + i;
                        String name = "attention prompt " + cache + " heads=8 kv_heads=2 head_dim=" + dim + " window=" + v[0]
                                + " softcap=" + v[1] + (v[2] == 1 ? " sinks" : "") + " pos=" + span[0] + ".." + (span[0] + span[1] - 1);
                        specs.add(new Spec(name, 1e-5, c -> {
                            Node q = c.input("q", DType.F32, 2f, 8L * dim, pos.length);
                            Node k = c.state("k", cache, 1f, 2L * dim, 256);
                            Node vc = c.state("v", cache, 1f, 2L * dim, 256);
                            Node sinks = null;
                            if (v[2] == 1) {
                                c.data.put("sinks", GpuTesting.encode(DType.F32, new float[]{3f, -1f, 0.5f, 6f, 0f, 2f, -4f, 1f}));
                                sinks = c.graph.weight(dev.hearth.runtime.tensor.TensorDesc.of("sinks", DType.F32, 8));
                            }
                            c.output(c.graph.attention("att", q, k, vc, c.ints("pos", pos), 8, 2, dim, (float) (1 / Math.sqrt(dim)),
                                    v[0], v[1], sinks));
                        }));
                    }
                }
            }
        }
        return specs.stream().map(CudaOpsGpuTest::check).toList();
    }

    /** Sliding windows and soft-capped scores, alone and together: inside and past the window, one split and several. */
    @TestFactory
    List<DynamicTest> attentionWindowAndSoftcap() {
        List<Spec> specs = new ArrayList<>();
        int[][] variants = {{8, 0}, {0, 8}, {8, 5}, {300, 0}, {300, 30}, {0, 50}}; // window, softcap
        for (DType cache : new DType[]{DType.F32, DType.F16}) {
            for (int[] wc : variants) {
                for (int ctx : new int[]{40, 1000}) {
                    for (int[] pos : new int[][]{{3}, {ctx - 1}, {17, 18, 19, 20, 21, 22}, {ctx - 4, ctx - 3, ctx - 2, ctx - 1}}) {
                        String name = "attention " + cache + " heads=4 kv_heads=2 head_dim=64 ctx=" + ctx + " window=" + wc[0]
                                + " softcap=" + wc[1] + " pos=" + java.util.Arrays.toString(pos);
                        specs.add(new Spec(name, 1e-5, c -> {
                            Node q = c.input("q", DType.F32, 3f, 4 * 64, pos.length);
                            Node k = c.state("k", cache, 1f, 2 * 64, ctx);
                            Node v = c.state("v", cache, 1f, 2 * 64, ctx);
                            c.output(c.graph.attention("att", q, k, v, c.ints("pos", pos), 4, 2, 64, 0.125f, wc[0], wc[1]));
                        }));
                    }
                }
            }
        }
        return specs.stream().map(CudaOpsGpuTest::check).toList();
    }

    /**
     * Attention sinks (a logit per head in the softmax's denominator only), from well below the
     * scores to well above them: without and with a window, with a soft cap, one split (the partial
     * kernel's merge) and several (attention_combine).
     */
    @TestFactory
    List<DynamicTest> attentionSinks() {
        List<Spec> specs = new ArrayList<>();
        int[][] variants = {{0, 0}, {8, 0}, {300, 0}, {300, 30}}; // window, softcap
        for (DType cache : new DType[]{DType.F32, DType.F16}) {
            for (int[] wc : variants) {
                for (int ctx : new int[]{40, 1000}) {
                    for (int[] pos : new int[][]{{3}, {ctx - 1}, {17, 18, 19, 20, 21, 22}, {ctx - 4, ctx - 3, ctx - 2, ctx - 1}}) {
                        int splits = KernelCalls.attentionSplits(pos.length, 2, wc[0] > 0 ? Math.min(ctx, wc[0]) : ctx);
                        String name = "attention " + cache + " heads=4 kv_heads=2 head_dim=64 ctx=" + ctx + " window=" + wc[0]
                                + " softcap=" + wc[1] + " sinks pos=" + java.util.Arrays.toString(pos) + " splits=" + splits;
                        specs.add(new Spec(name, 1e-5, c -> {
                            Node q = c.input("q", DType.F32, 3f, 4 * 64, pos.length);
                            Node k = c.state("k", cache, 1f, 2 * 64, ctx);
                            Node v = c.state("v", cache, 1f, 2 * 64, ctx);
                            c.data.put("sinks", GpuTesting.encode(DType.F32, new float[]{3f, -1f, 0.5f, 6f}));
                            Node sinks = c.graph.weight(dev.hearth.runtime.tensor.TensorDesc.of("sinks", DType.F32, 4));
                            c.output(c.graph.attention("att", q, k, v, c.ints("pos", pos), 4, 2, 64, 0.125f, wc[0], wc[1], sinks));
                        }));
                    }
                }
            }
        }
        return specs.stream().map(CudaOpsGpuTest::check).toList();
    }

    @TestFactory
    List<DynamicTest> elementwise() {
        List<Spec> specs = new ArrayList<>();
        specs.add(new Spec("swiglu k=256 t=7", MATH, c ->
                c.output(c.graph.swiglu("y", c.input("g", DType.F32, 6f, 256, 7), c.input("u", DType.F32, 2f, 256, 7)))));
        specs.add(new Spec("geglu k=256 t=7", MATH, c ->
                c.output(c.graph.geglu("y", c.input("g", DType.F32, 4f, 256, 7), c.input("u", DType.F32, 2f, 256, 7)))));
        specs.add(new Spec("geglu k=3000000 t=1", MATH, c ->
                c.output(c.graph.geglu("y", c.input("g", DType.F32, 4f, 3_000_000, 1), c.input("u", DType.F32, 2f, 3_000_000, 1)))));
        for (float cap : new float[]{30f, 2f}) {
            specs.add(new Spec("softcap k=512 t=3 cap=" + cap, MATH, c ->
                    c.output(c.graph.softcap("y", c.input("x", DType.F32, 8f, 512, 3), cap))));
        }
        for (int bRows : new int[]{7, 1}) {
            specs.add(new Spec("add k=100 t=7 b_rows=" + bRows, EXACT, c ->
                    c.output(c.graph.add("y", c.input("a", DType.F32, 2f, 100, 7), c.input("b", DType.F32, 2f, 100, bRows)))));
            specs.add(new Spec("mul k=100 t=7 b_rows=" + bRows, EXACT, c ->
                    c.output(c.graph.mul("y", c.input("a", DType.F32, 2f, 100, 7), c.input("b", DType.F32, 2f, 100, bRows)))));
        }
        specs.add(new Spec("swiglu_oai k=256 t=7 alpha=1.702 limit=7", MATH, c ->
                c.output(c.graph.swigluOai("y", c.input("g", DType.F32, 12f, 256, 7), c.input("u", DType.F32, 12f, 256, 7), 1.702f, 7f))));
        specs.add(new Spec("swiglu_oai k=3000000 t=1 alpha=1.702 limit=7", MATH, c ->
                c.output(c.graph.swigluOai("y", c.input("g", DType.F32, 12f, 3_000_000, 1),
                        c.input("u", DType.F32, 12f, 3_000_000, 1), 1.702f, 7f))));
        specs.add(new Spec("scale k=256 t=7 s=0.125", EXACT, c ->
                c.output(c.graph.scale("y", c.input("x", DType.F32, 2f, 256, 7), 0.125f))));
        specs.add(new Spec("scale k=3000000 t=1 s=-3", EXACT, c ->
                c.output(c.graph.scale("y", c.input("x", DType.F32, 2f, 3_000_000, 1), -3f))));
        DType[][] pairs = {{DType.F32, DType.F16}, {DType.F16, DType.F32}, {DType.F32, DType.BF16}, {DType.BF16, DType.F32},
                {DType.F16, DType.BF16}, {DType.BF16, DType.F16}, {DType.F32, DType.F32}};
        for (DType[] p : pairs) {
            specs.add(new Spec("convert " + p[0] + " to " + p[1] + " k=256 t=7", EXACT, c ->
                    c.output(c.graph.convert("y", c.input("x", p[0], 70000f, 256, 7), p[1]))));
        }
        return specs.stream().map(CudaOpsGpuTest::check).toList();
    }

    /**
     * The mixture-of-experts ops: top_k on rows with ties, gather, mul_mat_id in every weight type
     * (x per token and per slot, one token and several, more slots than a grid's y dimension) and
     * weighted_sum; and the four together as a mixture-of-experts layer's routing.
     */
    @TestFactory
    List<DynamicTest> experts() {
        List<Spec> specs = new ArrayList<>();
        for (int[] ekt : new int[][]{{8, 2, 5}, {64, 8, 3}, {4, 4, 1}, {256, 8, 6}, {40, 3, 9}}) {
            int e = ekt[0], k = ekt[1], t = ekt[2];
            specs.add(new Spec("top_k e=" + e + " k=" + k + " t=" + t + " (ties)", 0, c -> {
                float[] v = GpuTesting.uniform(c.random, e * t, 3f);
                for (int i = 0; i < v.length; i++) v[i] = Math.round(v[i]);
                c.output(c.graph.topK("ids", c.floats("x", v, e, t), k));
            }));
            specs.add(new Spec("top_k e=" + e + " k=" + k + " t=" + t, 0, c ->
                    c.output(c.graph.topK("ids", c.input("x", DType.F32, 4f, e, t), k))));
        }
        specs.add(new Spec("gather e=8 k=3 t=4", 0, c -> {
            Node x = c.input("x", DType.F32, 4f, 8, 4);
            c.output(c.graph.gather("y", x, c.ints("ids", new long[]{3, 4}, 7, 0, 3, 1, 1, 2, 6, 5, 4, 0, 7, 2)));
        }));
        DType[] types = WEIGHT_TYPES;
        for (DType type : types) {
            int kk = type.blockSize == 256 ? 256 : type.blockSize == 32 ? 96 : 100;
            boolean int8 = type.isQuantized();
            for (int[] eut : new int[][]{{6, 2, 1}, {6, 2, 5}, {16, 8, 1}, {16, 8, 3}}) {
                int experts = eut[0], used = eut[1], t = eut[2];
                for (boolean perSlot : new boolean[]{false, true}) {
                    String name = "mul_mat_id " + type + " k=" + kk + " n=37 experts=" + experts + " used=" + used + " t=" + t
                            + " x=" + (perSlot ? "per_slot" : "per_token");
                    specs.add(new Spec(name, int8 ? INT8_ACTIVATIONS : MATH, c -> {
                        Node w = c.weight("w", type, 1f, kk, 37, experts);
                        int[] ids = new int[used * t];
                        for (int i = 0; i < ids.length; i++) ids[i] = (i * 5 + 3 + i / used) % experts;
                        Node x = c.input("x", DType.F32, 1f, kk, perSlot ? (long) used * t : t);
                        c.output(c.graph.mulMatId("y", w, x, c.ints("ids", new long[]{used, t}, ids)));
                    }));
                }
            }
        }
        int manyTokens = KernelCalls.MAX_GRID_Y / 2 + 100;
        specs.add(new Spec("mul_mat_id F32 k=32 n=5 experts=3 used=2 t=" + manyTokens + " (slots past the grid)", MATH, c -> {
            Node w = c.weight("w", DType.F32, 1f, 32, 5, 3);
            int[] ids = new int[2 * manyTokens];
            for (int i = 0; i < ids.length; i++) ids[i] = (i * 7 + i / 5) % 3;
            Node x = c.input("x", DType.F32, 1f, 32, manyTokens);
            c.output(c.graph.mulMatId("y", w, x, c.ints("ids", new long[]{2, manyTokens}, ids)));
        }));
        for (int[] nkt : new int[][]{{128, 3, 5}, {1000, 8, 3}, {33, 1, 2}}) {
            specs.add(new Spec("weighted_sum n=" + nkt[0] + " k=" + nkt[1] + " t=" + nkt[2], MATH, c -> {
                Node y = c.input("y", DType.F32, 2f, nkt[0], (long) nkt[1] * nkt[2]);
                Node w = c.input("w", DType.F32, 1f, nkt[1], nkt[2]);
                c.output(c.graph.weightedSum("out", y, w));
            }));
        }
        for (int[] neut : new int[][]{{64, 6, 2, 3}, {100, 32, 4, 5}, {33, 3, 1, 1}}) {
            int nn = neut[0], experts = neut[1], used = neut[2], t = neut[3];
            specs.add(new Spec("add_id n=" + nn + " experts=" + experts + " used=" + used + " t=" + t, EXACT, c -> {
                Node y = c.input("y", DType.F32, 2f, nn, (long) used * t);
                Node bias = c.weight("bias", DType.F32, 1f, nn, experts);
                int[] ids = new int[used * t];
                for (int i = 0; i < ids.length; i++) ids[i] = (i * 5 + 3 + i / used) % experts;
                c.output(c.graph.addId("out", y, bias, c.ints("ids", new long[]{used, t}, ids)));
            }));
        }
        for (int t : new int[]{1, 4}) {
            specs.add(new Spec("gpt-oss experts Q8_0 experts=16 used=4 t=" + t + " (mul_mat_id, add_id, swiglu_oai)", INT8_ACTIVATIONS, c -> {
                Node logits = c.input("logits", DType.F32, 4f, 16, t);
                Node ids = c.graph.topK("ids", logits, 4);
                Node x = c.input("x", DType.F32, 1f, 256, t);
                Node gate = c.graph.addId("gate_b", c.graph.mulMatId("gate", c.weight("w_gate", DType.Q8_0, 1f, 256, 64, 16), x, ids),
                        c.weight("b_gate", DType.F32, 1f, 64, 16), ids);
                Node up = c.graph.addId("up_b", c.graph.mulMatId("up", c.weight("w_up", DType.Q8_0, 1f, 256, 64, 16), x, ids),
                        c.weight("b_up", DType.F32, 1f, 64, 16), ids);
                c.output(c.graph.swigluOai("act", gate, up, 1.702f, 7f));
            }));
        }
        for (DType type : new DType[]{DType.Q4_K, DType.Q8_0}) {
            for (int t : new int[]{1, 4}) {
                specs.add(new Spec("moe routing " + type + " experts=16 used=4 t=" + t, INT8_ACTIVATIONS, c -> {
                    Node logits = c.input("logits", DType.F32, 4f, 16, t);
                    Node ids = c.graph.topK("ids", logits, 4);
                    Node weights = c.graph.gather("weights", c.graph.softmax("p", logits), ids);
                    Node x = c.input("x", DType.F32, 1f, 256, t);
                    Node y = c.graph.mulMatId("y", c.weight("w", type, 1f, 256, 64, 16), x, ids);
                    c.output(ids);
                    c.output(c.graph.weightedSum("out", y, weights));
                }));
            }
        }
        return specs.stream().map(CudaOpsGpuTest::check).toList();
    }
}
