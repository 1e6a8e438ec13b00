package dev.hearth.backend.opencl;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.backend.Subgraph;
import dev.hearth.runtime.backend.TensorRef;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.tensor.TensorDesc;
import org.jocl.cl_kernel;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns the nodes of a subgraph into kernel launches (see the header of each kernel file in
 * kernels/opencl for what it computes and how it is laid out). Work-group sizes come from the
 * device's and the kernel's limits; global sizes are rounded up to whole work-groups, and the
 * kernels skip the work-items past the end.
 *
 * <p>Weights that OpenClDevice.prepareWeight repacked (WeightRepack) take the q4_0r and q8_0r
 * variants of mul_mat's and get_rows' kernels; any other op that reads one is refused.
 *
 * <p>Fusion: a kv_store whose source is a rope of the same subgraph is done by the rope kernel
 * (it writes the rotated row to the cache as well as to its own output), where no node between
 * the two reads the cache.
 */
final class Planner {
    /** The launches of a subgraph and the scratch buffers they use (freed with the plan). */
    record Plan(List<Launch> launches, List<OpenClBuffer> scratch) {
        void close() {
            scratch.forEach(OpenClBuffer::close);
        }
    }

    /** Attention splits to use instead of the automatic choice (tests); 0 for automatic. */
    static volatile int forcedAttentionSplits;

    /** 1 to make attention take the tiled kernel wherever it can (short prompts too), 0 never, -1 to choose (tests). */
    static volatile int forcedAttentionTiled = -1;

    /** From this many tokens on, attention takes the tiled kernel (attention_tiled.cl). */
    static final int ATTENTION_TILED_MIN_TOKENS = 16;

    /** 1 to make mul_mat_id use the grouped tiled kernel, 0 the matrix-vector one, -1 to choose (tests). */
    static volatile int forcedMulMatIdTiled = -1;

    /** From this many tokens on, mul_mat_id may use the tiled kernel. */
    static final int TILED_MIN_TOKENS = 8;
    /** Up to this many tokens, mul_mat reads each weight row once for all of them (mul_mat_vec8). */
    static final int VEC_MAX_TOKENS = 8;
    /** Up to this many tokens, mul_mat tiles 64 rows x 16 tokens (mul_mat_tiled_small), not 64 x 64. */
    static final int SMALL_TILE_MAX_TOKENS = 32;
    private static final int TILED_WG = 256;

    private final OpenClDevice device;
    private final Subgraph sg;
    private final List<Launch> out = new ArrayList<>();
    private final List<OpenClBuffer> scratch = new ArrayList<>();
    /** Activations quantized for mul_mat_q8, by the node they come from. */
    private final java.util.Map<Node, OpenClBuffer> quantizedX = new java.util.IdentityHashMap<>();
    /** kv_store nodes done by the rope before them. */
    private final java.util.Set<Node> fused = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());

    private Planner(OpenClDevice device, Subgraph sg) {
        this.device = device;
        this.sg = sg;
    }

    static Plan plan(OpenClDevice device, Subgraph sg) {
        Planner p = new Planner(device, sg);
        try {
            for (Node n : sg.nodes()) {
                if (n.isLeaf()) continue;
                String why = OpenClSupport.whyNot(n);
                if (why != null) throw new HearthException(device.name() + " was given " + n + " that it does not support: " + why);
                p.refuseRepackedReaders(n);
                if (!p.fused.contains(n)) p.plan(n);
            }
        } catch (RuntimeException e) {
            p.scratch.forEach(OpenClBuffer::close);
            throw e;
        }
        return new Plan(List.copyOf(p.out), List.copyOf(p.scratch));
    }

    /** Whether weight {@code n} was repacked by OpenClDevice.prepareWeight (WeightRepack): read as q4_0r or q8_0r. */
    private boolean repacked(Node n) {
        if (!(n.op() instanceof Op.Weight)) return false;
        TensorRef r = ref(n);
        return r.buffer() instanceof OpenClBuffer b && b.isRepacked(r.offset());
    }

    /** Only mul_mat's and get_rows' kernels read a repacked weight (their first input); any other reader is refused. */
    private void refuseRepackedReaders(Node n) {
        for (int i = 0; i < n.inputs().size(); i++) {
            Node in = n.inputs().get(i);
            boolean reads = i == 0 && (n.op() instanceof Op.MulMat || n.op() instanceof Op.GetRows);
            if (!reads && repacked(in)) {
                throw new HearthException(device.name() + ": " + n + " reads " + in.name()
                        + ", which is repacked for mul_mat (run with -Dhearth.opencl.repack=false to keep weights in the GGUF layout)");
            }
        }
    }

    /** A weight's type as kernel names spell it: q4_0r and q8_0r for the repacked layouts. */
    private String weightSuffix(Node w) {
        return suffix(w.desc().type()) + (repacked(w) ? "r" : "");
    }

    /**
     * How many slices of the cache attention works on at once: enough work-groups for twice the
     * compute units, each slice at least 256 cache rows, at most 32 slices; 1 where heads and
     * tokens already give enough work-groups.
     */
    private int attentionSplits(long heads, long tokens, long ctx) {
        if (forcedAttentionSplits > 0) return forcedAttentionSplits;
        long groups = heads * tokens;
        long want = 2L * device.info().computeUnits();
        if (groups >= want) return 1;
        long s = Math.min((want + groups - 1) / groups, Math.min(ctx / 256, 32));
        return (int) Math.max(1, s);
    }

    private void plan(Node n) {
        switch (n.op()) {
            case Op.MulMat m -> mulMat(n, m);
            case Op.GetRows g -> getRows(n, g);
            case Op.Convert c -> convert(n, c);
            case Op.RmsNorm r -> rmsNorm(n, r);
            case Op.Softmax s -> softmax(n, s);
            case Op.Rope r -> rope(n, r);
            case Op.KvStore k -> kvStore(n, k);
            case Op.Attention a -> attention(n, a);
            case Op.Add a -> binary(n, "add", a.a(), a.b());
            case Op.Mul m -> binary(n, "mul", m.a(), m.b());
            case Op.Scale s -> scale(n, s);
            case Op.Swiglu s -> swiglu(n, s);
            case Op.Geglu g -> geglu(n, g);
            case Op.Softcap s -> softcap(n, s);
            case Op.LayerNorm l -> layerNorm(n, l);
            case Op.TopK t -> topK(n, t);
            case Op.Gather g -> gather(n, g);
            case Op.MulMatId m -> mulMatId(n, m);
            case Op.WeightedSum w -> weightedSum(n, w);
            case Op.SwigluOai s -> swigluOai(n, s);
            case Op.AddId a -> addId(n, a);
            case Op.Reshape r -> {
                // a view of its input's memory: nothing to launch
            }
            case Op.Leaf l -> {
            }
        }
    }

    private Launch.Args args() {
        return new Launch.Args(device);
    }

    private TensorRef ref(Node n) {
        return sg.ref(n);
    }

    private cl_kernel kernel(String file, String name) {
        return device.kernel(file, name);
    }

    private static String suffix(DType t) {
        return t.name().toLowerCase();
    }

    private static long roundUp(long n, long m) {
        return (n + m - 1) / m * m;
    }

    private int rowGroup(cl_kernel k) {
        return device.workGroup(k, device.isGpu() ? 256 : 64);
    }

    private void mulMat(Node n, Op.MulMat m) {
        TensorDesc w = m.w().desc();
        long k = w.ne(0);
        long rows = w.rows();
        long tokens = m.x().desc().rows();
        String type = weightSuffix(m.w());
        if (tokens > VEC_MAX_TOKENS) {
            boolean small = tokens <= SMALL_TILE_MAX_TOKENS;
            int tileTokens = small ? 16 : 64;
            cl_kernel tiled = kernel("mul_mat.cl", (small ? "mul_mat_tiled_small_" : "mul_mat_tiled_") + type);
            if (device.kernelLimit(tiled) >= TILED_WG) {
                Launch.Args a = args().tensor(ref(m.w())).u64(w.rowBytes()).tensor(ref(m.x())).tensor(ref(n))
                        .u32(k).u32(rows).u32(tokens);
                long[] global = {(rows + 63) / 64 * 16, (tokens + tileTokens - 1) / tileTokens * 16};
                out.add(a.launch(n, tiled, global, new long[] {16, 16}));
                return;
            }
        }
        int nt = vecTokens(tokens);
        if (w.type().isQuantized()) { // by int8 dot products; the float types by mul_mat_vec
            OpenClBuffer xq = quantized(n, m.x());
            cl_kernel q8 = kernel("mul_mat_q8.cl", "mul_mat_q8" + nt + "_" + type);
            int wg = device.workGroup(q8, device.isGpu() ? 64 : 32);
            Launch.Args a = args().tensor(ref(m.w())).u64(w.rowBytes()).buffer(xq, 0).tensor(ref(n))
                    .u32(k).u32(rows).u32(tokens).local(4L * nt * wg);
            out.add(a.launch(n, q8, new long[] {rows * wg, (tokens + nt - 1) / nt}, new long[] {wg, 1}));
            return;
        }
        cl_kernel vec = kernel("mul_mat.cl", "mul_mat_vec" + nt + "_" + type);
        int wg = device.workGroup(vec, device.isGpu() ? 64 : 32);
        Launch.Args a = args().tensor(ref(m.w())).u64(w.rowBytes()).tensor(ref(m.x())).tensor(ref(n))
                .u32(k).u32(rows).u32(tokens).local(4L * nt * wg);
        out.add(a.launch(n, vec, new long[] {rows * wg, (tokens + nt - 1) / nt}, new long[] {wg, 1}));
    }

    /**
     * Activations {@code x} quantized to int8 blocks (quantize_q8_1 in mul_mat_q8.cl): planned
     * once per subgraph, so every product of the same x (q, k and v; gate and up) shares them.
     */
    private OpenClBuffer quantized(Node n, Node x) {
        OpenClBuffer b = quantizedX.get(x);
        if (b != null) return b;
        long k = x.desc().ne(0);
        long tokens = x.desc().rows();
        b = (OpenClBuffer) device.allocate(tokens * k + 8 * tokens * (k / 32), dev.hearth.runtime.backend.BufferUsage.COMPUTE);
        scratch.add(b);
        quantizedX.put(x, b);
        cl_kernel kn = kernel("mul_mat_q8.cl", "quantize_q8_1");
        int wg = device.workGroup(kn, 64);
        Launch.Args a = args().tensor(ref(x)).buffer(b, 0).u32(k).u32(tokens);
        out.add(a.launch(n, kn, new long[] {roundUp(k / 32, wg), tokens}, new long[] {wg, 1}));
        return b;
    }

    /** The tokens per work-group of the matrix-vector kernels (1, 4 or 8): the fewest that hold {@code tokens}. */
    static int vecTokens(long tokens) {
        return tokens <= 1 ? 1 : tokens <= 4 ? 4 : 8;
    }

    private void getRows(Node n, Op.GetRows g) {
        TensorDesc t = g.table().desc();
        long k = t.ne(0);
        long tokens = g.ids().desc().elements();
        cl_kernel kn = kernel("get_rows.cl", "get_rows_" + weightSuffix(g.table()));
        int wg = device.workGroup(kn, 64);
        Launch.Args a = args().tensor(ref(g.table())).u64(t.rowBytes()).tensor(ref(g.ids())).tensor(ref(n))
                .u32(k).u32(t.rows()).u32(tokens);
        out.add(a.launch(n, kn, new long[] {roundUp((k + 7) / 8, wg), tokens}, new long[] {wg, 1}));
    }

    private void convert(Node n, Op.Convert c) {
        TensorDesc x = c.x().desc();
        long k = x.ne(0);
        int dst = switch (c.to()) {
            case F32 -> 0;
            case F16 -> 1;
            case BF16 -> 2;
            default -> throw new IllegalStateException("convert to " + c.to());
        };
        cl_kernel kn = kernel("convert.cl", "convert_" + suffix(x.type()));
        int wg = device.workGroup(kn, 64);
        Launch.Args a = args().tensor(ref(c.x())).u64(x.rowBytes()).tensor(ref(n)).i32(dst).u32(k).u32(x.rows());
        out.add(a.launch(n, kn, new long[] {roundUp((k + 7) / 8, wg), x.rows()}, new long[] {wg, 1}));
    }

    private void rmsNorm(Node n, Op.RmsNorm r) {
        cl_kernel kn = kernel("rms_norm.cl", "rms_norm");
        int wg = rowGroup(kn);
        TensorRef x = ref(r.x());
        TensorRef w = r.weight() != null ? ref(r.weight()) : x;
        Launch.Args a = args().tensor(x).tensor(w).i32(r.weight() != null ? 1 : 0).tensor(ref(n))
                .u32(n.desc().ne(0)).f32(r.eps()).local(4L * wg);
        out.add(a.launch(n, kn, new long[] {n.desc().rows() * wg}, new long[] {wg}));
    }

    private void layerNorm(Node n, Op.LayerNorm l) {
        cl_kernel kn = kernel("layer_norm.cl", "layer_norm");
        int wg = rowGroup(kn);
        TensorRef x = ref(l.x());
        TensorRef w = l.weight() != null ? ref(l.weight()) : x;
        TensorRef b = l.bias() != null ? ref(l.bias()) : x;
        Launch.Args a = args().tensor(x).tensor(w).i32(l.weight() != null ? 1 : 0).tensor(b).i32(l.bias() != null ? 1 : 0)
                .tensor(ref(n)).u32(n.desc().ne(0)).f32(l.eps()).local(4L * wg);
        out.add(a.launch(n, kn, new long[] {n.desc().rows() * wg}, new long[] {wg}));
    }

    private void softmax(Node n, Op.Softmax s) {
        cl_kernel kn = kernel("softmax.cl", "softmax");
        int wg = rowGroup(kn);
        Launch.Args a = args().tensor(ref(s.x())).tensor(ref(n)).u32(n.desc().ne(0)).local(4L * wg);
        out.add(a.launch(n, kn, new long[] {n.desc().rows() * wg}, new long[] {wg}));
    }

    /** The kv_store that stores rope {@code n}'s result and can be fused into it, or null. */
    private Node storeOf(Node n) {
        List<Node> nodes = sg.nodes();
        int i = nodes.indexOf(n);
        for (int j = i + 1; j < nodes.size(); j++) {
            Node m = nodes.get(j);
            if (m.op() instanceof Op.KvStore k && k.src() == n) {
                if (k.cache().desc().type().isQuantized()) return null; // rope writes elements, a block needs its 32 at once
                for (int b = i + 1; b < j; b++) {
                    for (Node in : nodes.get(b).inputs()) {
                        if (in == k.cache() || in.op() instanceof Op.KvStore) return null;
                    }
                }
                return m;
            }
        }
        return null;
    }

    private void rope(Node n, Op.Rope r) {
        cl_kernel kn = kernel("rope.cl", "rope");
        Node store = storeOf(n);
        int wg = device.workGroup(kn, 64);
        long rowLen = n.desc().ne(0);
        long tokens = n.desc().rows();
        TensorRef x = ref(r.x());
        TensorRef ff = r.freqFactors() != null ? ref(r.freqFactors()) : x;
        Launch.Args a = args().tensor(x).tensor(ref(r.pos())).tensor(ff).i32(r.freqFactors() != null ? 1 : 0).tensor(ref(n))
                .u32(rowLen).u32(r.headDim()).u32(r.ropeDims()).i32(r.mode() == Op.RopeMode.NEOX ? 1 : 0)
                .f32(r.base()).f32(r.freqScale()).u32(tokens);
        Op.Yarn y = r.yarn();
        if (y != null) {
            double[] corr = y.corrDims(r.ropeDims(), r.base());
            a.f32(y.extFactor()).f32((float) corr[0]).f32((float) corr[1]).f32((float) y.mscale(r.freqScale()));
        } else {
            a.f32(0f).f32(0f).f32(0f).f32(1f);
        }
        if (store != null) {
            Op.KvStore k = (Op.KvStore) store.op();
            TensorDesc cache = k.cache().desc();
            a.i32(cache.type() == DType.F16 ? 2 : 1).tensor(ref(k.cache())).tensor(ref(k.pos())).u32(cache.rows());
            fused.add(store);
        } else {
            a.i32(0).tensor(x).tensor(ref(r.pos())).u32(0);
        }
        out.add(a.launch(n, kn, new long[] {roundUp(rowLen / 2, wg), tokens}, new long[] {wg, 1}));
    }

    private void kvStore(Node n, Op.KvStore k) {
        cl_kernel kn = kernel("kv_store.cl", "kv_store");
        int wg = device.workGroup(kn, 64);
        TensorDesc cache = k.cache().desc();
        long rowLen = cache.ne(0);
        long tokens = k.src().desc().rows();
        Launch.Args a = args().tensor(ref(k.src())).tensor(ref(k.pos())).tensor(ref(k.cache()))
                .i32(cacheType(cache.type())).u32(rowLen).u32(cache.rows()).u32(tokens);
        long units = cache.type().isQuantized() ? rowLen / cache.type().blockSize : rowLen;
        out.add(a.launch(n, kn, new long[] {roundUp(units, wg), tokens}, new long[] {wg, 1}));
    }

    /** The kernels' code of a cache type: 0 f32, 1 f16, 2 q8_0, 3 q4_0. */
    static int cacheType(DType t) {
        return switch (t) {
            case F32 -> 0;
            case F16 -> 1;
            case Q8_0 -> 2;
            case Q4_0 -> 3;
            default -> throw new IllegalStateException("cache type " + t);
        };
    }

    private void attention(Node n, Op.Attention at) {
        if (tiledAttention(n, at)) return;
        cl_kernel kn = kernel("attention.cl", "attention");
        int wg = OpenClSupport.ATTENTION_GROUP;
        if (device.kernelLimit(kn) < wg) {
            throw new HearthException(device.name() + ": the attention kernel needs work-groups of " + wg + ", the device allows " + device.kernelLimit(kn));
        }
        long tokens = at.q().desc().rows();
        long ctx = at.kCache().desc().rows();
        // a work-group per KV head (serving its group of query heads), token and split; with a
        // sliding window each token reads at most window rows
        int splits = attentionSplits(at.kvHeads(), tokens, at.window() > 0 ? Math.min(ctx, at.window()) : ctx);
        OpenClBuffer part = null;
        if (splits > 1) {
            part = (OpenClBuffer) device.allocate(4L * at.heads() * tokens * splits * (at.headDim() + 2), dev.hearth.runtime.backend.BufferUsage.COMPUTE);
            scratch.add(part);
        }
        Launch.Args a = args().tensor(ref(at.q()))
                .tensor(ref(at.kCache())).i32(cacheType(at.kCache().desc().type()))
                .tensor(ref(at.vCache())).i32(cacheType(at.vCache().desc().type()))
                .tensor(ref(at.pos())).tensor(ref(n))
                .u32(at.heads()).u32(at.kvHeads()).u32(at.headDim()).u32(at.kCache().desc().rows()).f32(at.scale())
                .u32(at.window()).f32(at.softcap());
        sinks(a, at).u32(splits);
        if (part != null) a.buffer(part, 0); else a.tensor(ref(n));
        out.add(a.launch(n, kn, new long[] {(long) at.kvHeads() * splits * wg, tokens}, new long[] {wg, 1}));
        if (part != null) {
            Launch.Args m = args().buffer(part, 0).tensor(ref(n)).u32(at.heads()).u32(at.headDim());
            sinks(m, at).u32(splits);
            out.add(m.launch(n, kernel("attention.cl", "attention_merge"), new long[] {(long) at.heads() * wg, tokens}, new long[] {wg, 1}));
        }
    }

    /**
     * Attention by tiles of query rows (attention_tiled.cl): for prompts of ATTENTION_TILED_MIN_TOKENS
     * tokens or more, headDim up to 256 (tiles of 32 rows up to 128, of 16 beyond), where the device
     * gives the kernel its work-group and local memory. False, launching nothing, otherwise.
     */
    private boolean tiledAttention(Node n, Op.Attention at) {
        long tokens = at.q().desc().rows();
        int forced = forcedAttentionTiled;
        if (forced == 0 || (forced < 0 && tokens < ATTENTION_TILED_MIN_TOKENS)) return false;
        if (at.headDim() > OpenClSupport.ATTENTION_TILED_MAX_HEAD_DIM) return false;
        if (device.info().localMemory() < OpenClSupport.ATTENTION_TILED_LOCAL) return false;
        int rows = at.headDim() <= 128 ? 32 : 16;
        cl_kernel kn = kernel("attention_tiled.cl", "attention_tiled_" + rows);
        int wg = OpenClSupport.ATTENTION_TILED_GROUP;
        if (device.kernelLimit(kn) < wg) return false;
        long tiles = (tokens * (at.heads() / at.kvHeads()) + rows - 1) / rows;
        Launch.Args a = args().tensor(ref(at.q()))
                .tensor(ref(at.kCache())).i32(cacheType(at.kCache().desc().type()))
                .tensor(ref(at.vCache())).i32(cacheType(at.vCache().desc().type()))
                .tensor(ref(at.pos())).tensor(ref(n))
                .u32(at.heads()).u32(at.kvHeads()).u32(at.headDim()).u32(at.kCache().desc().rows()).u32(tokens)
                .f32(at.scale()).u32(at.window()).f32(at.softcap());
        sinks(a, at);
        out.add(a.launch(n, kn, new long[] {(long) at.kvHeads() * wg, tiles}, new long[] {wg, 1}));
        return true;
    }

    /** The sinks and whether there are any (the queries stand in, unread, where there are none). */
    private Launch.Args sinks(Launch.Args a, Op.Attention at) {
        return at.sinks() != null ? a.tensor(ref(at.sinks())).i32(1) : a.tensor(ref(at.q())).i32(0);
    }

    private void binary(Node n, String name, Node x, Node y) {
        cl_kernel kn = kernel("elementwise.cl", name);
        int wg = device.workGroup(kn, 256);
        long count = n.desc().elements();
        Launch.Args a = args().tensor(ref(x)).tensor(ref(y)).tensor(ref(n)).u32(count).u32(y.desc().elements());
        out.add(a.launch(n, kn, new long[] {roundUp(count, wg)}, new long[] {wg}));
    }

    private void scale(Node n, Op.Scale s) {
        cl_kernel kn = kernel("elementwise.cl", "scale");
        int wg = device.workGroup(kn, 256);
        long count = n.desc().elements();
        Launch.Args a = args().tensor(ref(s.x())).tensor(ref(n)).u32(count).f32(s.s());
        out.add(a.launch(n, kn, new long[] {roundUp(count, wg)}, new long[] {wg}));
    }

    private void swiglu(Node n, Op.Swiglu s) {
        gated(n, "swiglu", s.gate(), s.up());
    }

    private void geglu(Node n, Op.Geglu g) {
        gated(n, "geglu", g.gate(), g.up());
    }

    /** act(gate) * up, elementwise (swiglu, geglu). */
    private void gated(Node n, String name, Node gate, Node up) {
        cl_kernel kn = kernel("elementwise.cl", name);
        int wg = device.workGroup(kn, 256);
        long count = n.desc().elements();
        Launch.Args a = args().tensor(ref(gate)).tensor(ref(up)).tensor(ref(n)).u32(count);
        out.add(a.launch(n, kn, new long[] {roundUp(count, wg)}, new long[] {wg}));
    }

    private void swigluOai(Node n, Op.SwigluOai s) {
        cl_kernel kn = kernel("elementwise.cl", "swiglu_oai");
        int wg = device.workGroup(kn, 256);
        long count = n.desc().elements();
        Launch.Args a = args().tensor(ref(s.gate())).tensor(ref(s.up())).tensor(ref(n)).u32(count).f32(s.alpha()).f32(s.limit());
        out.add(a.launch(n, kn, new long[] {roundUp(count, wg)}, new long[] {wg}));
    }

    private void softcap(Node n, Op.Softcap s) {
        cl_kernel kn = kernel("elementwise.cl", "softcap");
        int wg = device.workGroup(kn, 256);
        long count = n.desc().elements();
        Launch.Args a = args().tensor(ref(s.x())).tensor(ref(n)).u32(count).f32(s.cap());
        out.add(a.launch(n, kn, new long[] {roundUp(count, wg)}, new long[] {wg}));
    }

    private void topK(Node n, Op.TopK t) {
        cl_kernel kn = kernel("experts.cl", "top_k");
        int wg = device.workGroup(kn, 64);
        TensorDesc x = t.x().desc();
        long rows = x.rows();
        Launch.Args a = args().tensor(ref(t.x())).tensor(ref(n)).u32(x.ne(0)).u32(t.k()).u32(rows);
        out.add(a.launch(n, kn, new long[] {roundUp(rows, wg)}, new long[] {wg}));
    }

    private void gather(Node n, Op.Gather g) {
        cl_kernel kn = kernel("experts.cl", "gather");
        TensorDesc ids = g.ids().desc();
        long k = ids.ne(0);
        long rows = ids.rows();
        Launch.Args a = args().tensor(ref(g.x())).tensor(ref(g.ids())).tensor(ref(n)).u32(g.x().desc().ne(0)).u32(k).u32(rows);
        out.add(a.launch(n, kn, new long[] {k, rows}, null));
    }

    private void weightedSum(Node n, Op.WeightedSum w) {
        cl_kernel kn = kernel("experts.cl", "weighted_sum");
        int wg = device.workGroup(kn, 64);
        long len = w.y().desc().ne(0);
        long k = w.weights().desc().ne(0);
        long rows = n.desc().rows();
        Launch.Args a = args().tensor(ref(w.y())).tensor(ref(w.weights())).tensor(ref(n)).u32(len).u32(k).u32(rows);
        out.add(a.launch(n, kn, new long[] {roundUp(len, wg), rows}, new long[] {wg, 1}));
    }

    private void addId(Node n, Op.AddId ai) {
        cl_kernel kn = kernel("experts.cl", "add_id");
        int wg = device.workGroup(kn, 64);
        long len = ai.y().desc().ne(0);
        long slots = ai.ids().desc().elements();
        Launch.Args a = args().tensor(ref(ai.y())).tensor(ref(ai.bias())).tensor(ref(ai.ids())).tensor(ref(n))
                .u32(len).u32(ai.bias().desc().rows()).u32(slots);
        out.add(a.launch(n, kn, new long[] {roundUp(len, wg), slots}, new long[] {wg, 1}));
    }

    /**
     * mul_mat_id: for a batch whose slots average at least TILED_MIN_TOKENS / 2 per expert, the
     * slots are sorted by expert on the device and the tiled kernel reads each selected expert's
     * rows once per 64 of its slots; otherwise one matrix-vector product per slot (by int8 dot
     * products against the quantized x for the quantized types, as mul_mat).
     */
    private void mulMatId(Node n, Op.MulMatId m) {
        TensorDesc w = m.w().desc();
        long k = w.ne(0);
        long rows = w.ne(1);
        long experts = w.ne(2);
        TensorDesc ids = m.ids().desc();
        long used = ids.ne(0);
        long slots = ids.elements();
        int perSlot = m.x().desc().rows() == slots ? 1 : 0;
        String type = suffix(w.type());
        int forced = forcedMulMatIdTiled;
        boolean tiled = forced >= 0 ? forced == 1 : slots * 2 >= TILED_MIN_TOKENS * experts && slots >= TILED_MIN_TOKENS;
        if (tiled) {
            cl_kernel kn = kernel("experts.cl", "mul_mat_id_tiled_" + type);
            if (device.kernelLimit(kn) >= TILED_WG) {
                long maxTiles = slots / 64 + Math.min(experts, slots) + 1;
                long ints = 1 + 2 * experts + 3 * maxTiles + slots;
                OpenClBuffer g = (OpenClBuffer) device.allocate(4 * ints, dev.hearth.runtime.backend.BufferUsage.COMPUTE);
                scratch.add(g);
                cl_kernel group = kernel("experts.cl", "mul_mat_id_group");
                int gwg = device.workGroup(group, 256);
                Launch.Args ga = args().tensor(ref(m.ids())).buffer(g, 0).u32(slots).u32(experts).u32(maxTiles)
                        .tensor(ref(n)).u32(rows);
                out.add(ga.launch(n, group, new long[] {gwg}, new long[] {gwg}));
                Launch.Args a = args().tensor(ref(m.w())).u64(w.rowBytes()).tensor(ref(m.x())).tensor(ref(n)).buffer(g, 0)
                        .u32(k).u32(rows).u32(experts).u32(maxTiles).u32(used).u32(perSlot);
                out.add(a.launch(n, kn, new long[] {(rows + 63) / 64 * 16, maxTiles * 16}, new long[] {16, 16}));
                return;
            }
        }
        if (w.type().isQuantized()) { // by int8 dot products, as mul_mat; the float types by mul_mat_id_vec
            OpenClBuffer xq = quantized(n, m.x());
            cl_kernel q8 = kernel("mul_mat_q8.cl", "mul_mat_id_q8_" + type);
            int wg = device.workGroup(q8, device.isGpu() ? 64 : 32);
            Launch.Args a = args().tensor(ref(m.w())).u64(w.rowBytes()).buffer(xq, 0).tensor(ref(m.ids())).tensor(ref(n))
                    .u32(k).u32(rows).u32(experts).u32(used).u32(perSlot).u32(m.x().desc().rows()).local(4L * wg);
            out.add(a.launch(n, q8, new long[] {rows * wg, slots}, new long[] {wg, 1}));
            return;
        }
        cl_kernel vec = kernel("experts.cl", "mul_mat_id_vec_" + type);
        int wg = device.workGroup(vec, device.isGpu() ? 64 : 32);
        Launch.Args a = args().tensor(ref(m.w())).u64(w.rowBytes()).tensor(ref(m.x())).tensor(ref(m.ids())).tensor(ref(n))
                .u32(k).u32(rows).u32(experts).u32(used).u32(perSlot).local(4L * wg);
        out.add(a.launch(n, vec, new long[] {rows * wg, slots}, new long[] {wg, 1}));
    }
}
