package dev.hearth.backend.cuda;

import dev.hearth.runtime.backend.Subgraph;
import dev.hearth.runtime.backend.TensorRef;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import jcuda.driver.CUfunction;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * How each op maps onto kernel launches: which kernel, grid, block and arguments. The numbers
 * here must agree with the kernels' header comments. Also the scratch memory an op needs (q8_1
 * activations of mul_mat and mul_mat_id, attention splits), which the plan allocates once, laid
 * out by {@link Fusion} together with the launches it shares or fuses.
 */
final class KernelCalls {
    /** Token counts up to this use the matrix-vector kernels; more use the tiled ones. */
    static final int VEC_MAX_TOKENS = 8;
    static final int Q8_1_BYTES = 36;
    /** Attention splits aim at this many blocks in all, each split covering at least ATT_MIN_CHUNK rows. */
    static final int ATT_TARGET_BLOCKS = 2048;
    static final int ATT_MIN_CHUNK = 256;
    /** Splits are the grid's z dimension, which CUDA limits to 64. */
    static final int ATT_MAX_SPLITS = 64;
    /** CUDA's limit on a grid's y dimension. */
    static final int MAX_GRID_Y = 65535;
    private static final int EW_BLOCK = 256;
    private static final int EW_MAX_GRID = 8192;

    private KernelCalls() {
    }

    private static int ceilDiv(long a, long b) {
        return Math.toIntExact((a + b - 1) / b);
    }

    /** Quantized weights take q8_1 activations (dp4a) in the matrix-vector kernels. */
    private static boolean dp4a(DType t) {
        return t.isQuantized();
    }

    /** The matrix-vector variant (tokens per block) for t tokens: 1, 4 for 2-4, 8 for 5-8. */
    static int vecVariant(int t) {
        return t == 1 ? 1 : t <= 4 ? 4 : 8;
    }

    /**
     * mul_mat's matrix-vector kernel of a weight type (repacked: in WeightRepack's layout) for
     * {@code variant} tokens per block, one warp per row group or split.
     */
    static Kernel mulMatVecKernel(DType type, boolean repacked, int variant, boolean split) {
        return kernel("MUL_MAT_VEC_" + (split ? "SPLIT_" : "") + typeName(type, repacked) + "_T" + variant, "mul_mat", type);
    }

    static Kernel mulMatTiledKernel(DType type, boolean repacked) {
        return kernel("MUL_MAT_TILED_" + typeName(type, repacked), "mul_mat", type);
    }

    /** The kernels' id of a repacked type (WeightRepack): its GGUF id plus this (T_Q4_0R, T_Q8_0R in common.cuh). */
    static final int REPACKED_TYPE_ID_OFFSET = 256;

    /** The kernels' type id of a weight of {@code type}, repacked or not. */
    static int kernelTypeId(DType type, boolean repacked) {
        return repacked ? type.id + REPACKED_TYPE_ID_OFFSET : type.id;
    }

    /** A weight type as kernel names spell it: Q4_0R and Q8_0R for the repacked layouts. */
    private static String typeName(DType type, boolean repacked) {
        return type.name() + (repacked ? "R" : "");
    }

    static Kernel mulMatIdKernel(DType type) {
        return kernel("MUL_MAT_ID_" + type.name(), "mul_mat_id", type);
    }

    private static Kernel kernel(String name, String op, DType type) {
        try {
            return Kernel.valueOf(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(op + " of " + type + ": no kernel " + name, e);
        }
    }

    /** The number of cache splits attention uses for T tokens, kvHeads (a block each per split) and ctx cache rows. */
    static int attentionSplits(int tokens, int kvHeads, int ctx) {
        long byRows = ceilDiv(ctx, ATT_MIN_CHUNK);
        long byBlocks = Math.max(1, ATT_TARGET_BLOCKS / Math.max(1L, (long) tokens * kvHeads));
        return (int) Math.max(1, Math.min(ATT_MAX_SPLITS, Math.min(byRows, byBlocks)));
    }

    /**
     * The most positions one token of {@code a} attends to: the cache's rows, or the window where
     * that is smaller. The splits divide this span, which the kernel starts at the window's first
     * position; position j lives at cache row j % rows (a ring cache holds only the window).
     */
    static int attentionSpan(Op.Attention a) {
        int ctx = (int) a.kCache().desc().rows();
        return a.window() > 0 ? Math.min(ctx, a.window()) : ctx;
    }

    /** Scratch bytes the node's launches need (0 for most ops). */
    static long scratchBytes(Node n) {
        return switch (n.op()) {
            case Op.MulMat m -> {
                long k = m.w().desc().rowLength();
                long t = m.x().desc().rows();
                yield t <= VEC_MAX_TOKENS && dp4a(m.w().desc().type()) ? t * (k / 32) * Q8_1_BYTES : 0;
            }
            case Op.MulMatId m -> {
                long k = m.w().desc().rowLength();
                yield dp4a(m.w().desc().type()) ? m.x().desc().rows() * (k / 32) * Q8_1_BYTES : 0;
            }
            case Op.Attention a -> {
                int t = (int) a.q().desc().rows();
                int splits = attentionSplits(t, a.kvHeads(), attentionSpan(a));
                yield splits == 1 ? 0 : (long) t * a.heads() * splits * (a.headDim() + 2) * 4L;
            }
            default -> 0;
        };
    }

    /**
     * What launches are built against: the kernels' function handles, whether the device has
     * tensor cores, its multiprocessors, which weights are repacked (WeightRepack; mul_mat and
     * get_rows read them so, other ops refuse them), the scratch's device address and the
     * subgraph's {@link Fusion}.
     */
    record Target(Function<Kernel, CUfunction> functions, boolean tensorCores, int multiprocessors, Predicate<Node> repacked,
                  long scratch, Fusion fusion) {
    }

    /** The launches of a subgraph's nodes, in order: each node's, less those fused into another's. */
    static List<Launch> launches(List<Node> nodes, Function<Node, Long> addr, Target c) {
        List<Launch> out = new ArrayList<>();
        for (Node n : nodes) out.addAll(launches(n, addr, c));
        return out;
    }

    /** The launches that compute {@code n} (none where another node's launch does); {@code addr} gives the device address of a node's tensor. */
    static List<Launch> launches(Node n, Function<Node, Long> addr, Target c) {
        List<Launch> out = new ArrayList<>(2);
        for (int i = 0; i < n.inputs().size(); i++) { // only mul_mat's and get_rows' kernels read the repacked layout
            Node in = n.inputs().get(i);
            boolean reads = i == 0 && (n.op() instanceof Op.MulMat || n.op() instanceof Op.GetRows);
            if (!reads && in.op() instanceof Op.Weight && c.repacked().test(in)) {
                throw new IllegalStateException(n + " reads " + in.name() + ", which is repacked for mul_mat");
            }
        }
        switch (n.op()) {
            case Op.Leaf leaf -> {
            }
            case Op.GetRows g -> {
                var table = g.table().desc();
                int t = (int) g.ids().desc().elements();
                out.add(launch(c, Kernel.GET_ROWS, t, 1, 1, 256, new Launch.Args()
                        .ptr(addr.apply(g.table())).ptr(addr.apply(g.ids())).ptr(addr.apply(n))
                        .i32(kernelTypeId(table.type(), c.repacked().test(g.table()))).i64(table.rowBytes())
                        .i32(table.rowLength()).i32(table.rows())));
            }
            case Op.MulMat m -> mulMat(m, n, addr, c, out);
            case Op.RmsNorm r when c.fusion().addOf(n) != null -> {
                // add_rms_norm_q8_1: the residual add, then the norm with its q8_1 blocks; one block of 256 for every row,
                // the threads of rms_norm's row blocks, so the sums come out the same
                Op.Add a = (Op.Add) c.fusion().addOf(n).op();
                out.add(launch(c, Kernel.ADD_RMS_NORM_Q8_1, 1, 1, 1, 256, new Launch.Args()
                        .ptr(addr.apply(a.a())).ptr(addr.apply(a.b())).ptr(addr.apply(r.x()))
                        .ptr(r.weight() != null ? addr.apply(r.weight()) : 0).ptr(addr.apply(n)).ptr(c.scratch() + c.fusion().q8Offset(n))
                        .i32(r.x().desc().rowLength()).i32(r.x().desc().rows()).f32(r.eps())));
            }
            case Op.RmsNorm r -> {
                // rms_norm_q8_1 also writes the q8_1 blocks its matrix-vector readers take
                boolean q8 = c.fusion().writesQ8(n);
                Launch.Args args = new Launch.Args().ptr(addr.apply(r.x())).ptr(r.weight() != null ? addr.apply(r.weight()) : 0).ptr(addr.apply(n));
                if (q8) args.ptr(c.scratch() + c.fusion().q8Offset(n));
                out.add(launch(c, q8 ? Kernel.RMS_NORM_Q8_1 : Kernel.RMS_NORM, (int) r.x().desc().rows(), 1, 1, 256,
                        args.i32(r.x().desc().rowLength()).f32(r.eps())));
            }
            case Op.Rope r -> {
                // YaRN's per-call constants, computed here as Op.Yarn defines them; without YaRN extFactor 0 and mscale 1
                Op.Yarn yarn = r.yarn();
                double[] corr = yarn != null ? yarn.corrDims(r.ropeDims(), r.base()) : new double[]{0, 0};
                float extFactor = yarn != null ? yarn.extFactor() : 0f;
                float mscale = yarn != null ? (float) yarn.mscale(r.freqScale()) : 1f;
                Node store = c.fusion().storeOf(n);
                Launch.Args args = new Launch.Args()
                        .ptr(addr.apply(r.x())).ptr(addr.apply(r.pos())).ptr(r.freqFactors() != null ? addr.apply(r.freqFactors()) : 0)
                        .ptr(addr.apply(n)).i32(r.x().desc().rowLength()).i32(r.headDim()).i32(r.ropeDims())
                        .i32(r.mode() == Op.RopeMode.NORMAL ? 0 : 1).f32(r.base()).f32(r.freqScale())
                        .f32(extFactor).f32((float) corr[0]).f32((float) corr[1]).f32(mscale);
                if (store != null) {
                    // rope_store: the rotated rows also go to the cache, as the kv_store would write them
                    Op.KvStore k = (Op.KvStore) store.op();
                    var cache = k.cache().desc();
                    args.ptr(addr.apply(k.cache())).ptr(addr.apply(k.pos())).i32(cache.type() == DType.F16 ? 1 : 0).i32(cache.rows());
                }
                out.add(launch(c, store != null ? Kernel.ROPE_STORE : Kernel.ROPE, (int) r.x().desc().rows(), 1, 1, 256, args));
            }
            case Op.KvStore k when c.fusion().storedByRope(n) -> {
                // its rope wrote the cache rows
            }
            case Op.KvStore k -> {
                var cache = k.cache().desc();
                int kvDim = (int) cache.rowLength();
                int t = (int) k.src().desc().rows();
                Kernel kernel = switch (cache.type()) {
                    case F16 -> Kernel.KV_STORE_F16;
                    case Q8_0 -> Kernel.KV_STORE_Q8_0;
                    case Q4_0 -> Kernel.KV_STORE_Q4_0;
                    default -> Kernel.KV_STORE_F32;
                };
                // a thread per element, or per block of 32 in a quantized cache
                int units = cache.type().isQuantized() ? kvDim / cache.type().blockSize : kvDim;
                // the cache's rows R: position p goes to row p % R, so positions past R are valid (a ring cache)
                out.add(launch(c, kernel, ceilDiv(units, 256), t, 1, 256, new Launch.Args()
                        .ptr(addr.apply(k.src())).ptr(addr.apply(k.pos())).ptr(addr.apply(k.cache()))
                        .i32(kvDim).i32(cache.rows())));
            }
            case Op.Attention a -> attention(a, n, addr, c, out);
            case Op.Swiglu sw when c.fusion().writesQ8(n) -> {
                // swiglu_q8_1: a warp per block of 32, eight a block, also writing the q8_1 blocks the down projection reads
                long blocks = n.desc().elements() / 32;
                out.add(launch(c, Kernel.SWIGLU_Q8_1, ceilDiv(blocks, 8), 1, 1, 256, new Launch.Args()
                        .ptr(addr.apply(sw.gate())).ptr(addr.apply(sw.up())).ptr(addr.apply(n)).ptr(c.scratch() + c.fusion().q8Offset(n))
                        .i64(blocks)));
            }
            case Op.Swiglu sw -> {
                long count = n.desc().elements();
                out.add(launch(c, Kernel.SWIGLU, ewGrid(count), 1, 1, EW_BLOCK, new Launch.Args()
                        .ptr(addr.apply(sw.gate())).ptr(addr.apply(sw.up())).ptr(addr.apply(n)).i64(count)));
            }
            case Op.Add a when c.fusion().addedByNorm(n) -> {
                // the rms_norm after it adds first
            }
            case Op.Add a -> out.add(binary(c, Kernel.ADD, a.a(), a.b(), n, addr));
            case Op.Mul m -> out.add(binary(c, Kernel.MUL, m.a(), m.b(), n, addr));
            case Op.Scale sc -> {
                long count = n.desc().elements();
                out.add(launch(c, Kernel.SCALE, ewGrid(count), 1, 1, EW_BLOCK, new Launch.Args()
                        .ptr(addr.apply(sc.x())).ptr(addr.apply(n)).i64(count).f32(sc.s())));
            }
            case Op.Softmax sm -> out.add(launch(c, Kernel.SOFTMAX, (int) sm.x().desc().rows(), 1, 1, 256, new Launch.Args()
                    .ptr(addr.apply(sm.x())).ptr(addr.apply(n)).i32(sm.x().desc().rowLength())));
            case Op.Geglu g -> {
                long count = n.desc().elements();
                out.add(launch(c, Kernel.GEGLU, ewGrid(count), 1, 1, EW_BLOCK, new Launch.Args()
                        .ptr(addr.apply(g.gate())).ptr(addr.apply(g.up())).ptr(addr.apply(n)).i64(count)));
            }
            case Op.Softcap sc -> {
                long count = n.desc().elements();
                out.add(launch(c, Kernel.SOFTCAP, ewGrid(count), 1, 1, EW_BLOCK, new Launch.Args()
                        .ptr(addr.apply(sc.x())).ptr(addr.apply(n)).i64(count).f32(sc.cap())));
            }
            case Op.LayerNorm ln -> out.add(launch(c, Kernel.LAYER_NORM, (int) ln.x().desc().rows(), 1, 1, 256, new Launch.Args()
                    .ptr(addr.apply(ln.x())).ptr(ln.weight() != null ? addr.apply(ln.weight()) : 0)
                    .ptr(ln.bias() != null ? addr.apply(ln.bias()) : 0).ptr(addr.apply(n))
                    .i32(ln.x().desc().rowLength()).f32(ln.eps())));
            case Op.TopK tk -> {
                int t = (int) tk.x().desc().rows();
                out.add(launch(c, Kernel.TOP_K, ceilDiv(t, 4), 1, 1, 128, new Launch.Args()
                        .ptr(addr.apply(tk.x())).ptr(addr.apply(n)).i32(tk.x().desc().rowLength()).i32(tk.k()).i32(t)));
            }
            case Op.Gather g -> {
                long count = n.desc().elements();
                out.add(launch(c, Kernel.GATHER, ewGrid(count), 1, 1, EW_BLOCK, new Launch.Args()
                        .ptr(addr.apply(g.x())).ptr(addr.apply(g.ids())).ptr(addr.apply(n)).i64(count)
                        .i32(g.ids().desc().rowLength()).i32(g.x().desc().rowLength())));
            }
            case Op.MulMatId m -> mulMatId(m, n, addr, c, out);
            case Op.WeightedSum ws -> {
                long count = n.desc().elements();
                out.add(launch(c, Kernel.WEIGHTED_SUM, ewGrid(count), 1, 1, EW_BLOCK, new Launch.Args()
                        .ptr(addr.apply(ws.y())).ptr(addr.apply(ws.weights())).ptr(addr.apply(n)).i64(count)
                        .i32(ws.y().desc().rowLength()).i32(ws.weights().desc().rowLength())));
            }
            case Op.SwigluOai so -> {
                long count = n.desc().elements();
                out.add(launch(c, Kernel.SWIGLU_OAI, ewGrid(count), 1, 1, EW_BLOCK, new Launch.Args()
                        .ptr(addr.apply(so.gate())).ptr(addr.apply(so.up())).ptr(addr.apply(n)).i64(count)
                        .f32(so.alpha()).f32(so.limit())));
            }
            case Op.AddId ai -> {
                long count = n.desc().elements();
                int rowLength = (int) ai.y().desc().rowLength();
                int experts = Math.toIntExact(ai.bias().desc().elements() / rowLength);
                out.add(launch(c, Kernel.ADD_ID, ewGrid(count), 1, 1, EW_BLOCK, new Launch.Args()
                        .ptr(addr.apply(ai.y())).ptr(addr.apply(ai.bias())).ptr(addr.apply(ai.ids())).ptr(addr.apply(n))
                        .i64(count).i32(rowLength).i32(experts)));
            }
            case Op.Reshape r -> {
                // a view of its input's memory: nothing to launch
            }
            case Op.Convert cv -> {
                long count = n.desc().elements();
                out.add(launch(c, Kernel.CONVERT, ewGrid(count), 1, 1, EW_BLOCK, new Launch.Args()
                        .ptr(addr.apply(cv.x())).ptr(addr.apply(n)).i64(count).i32(cv.x().desc().type().id).i32(cv.to().id)));
            }
        }
        return out;
    }

    private static void mulMat(Op.MulMat m, Node n, Function<Node, Long> addr, Target c, List<Launch> out) {
        DType type = m.w().desc().type();
        int k = (int) m.w().desc().rowLength();
        int rows = (int) m.w().desc().rows();
        int t = (int) m.x().desc().rows();
        long w = addr.apply(m.w()), x = addr.apply(m.x()), y = addr.apply(n);
        boolean repacked = c.repacked().test(m.w());
        if (t <= VEC_MAX_TOKENS) {
            int variant = vecVariant(t);
            if (dp4a(type)) x = q8Activations(n, m.x(), x, k, t, c, out);
            int perWarp = vecRowsPerWarp(k);
            boolean split = vecSplit(rows, perWarp, c.multiprocessors());
            out.add(launch(c, mulMatVecKernel(type, repacked, variant, split), ceilDiv(rows, split ? perWarp : 4 * perWarp), ceilDiv(t, variant), 1, 128,
                    new Launch.Args().ptr(w).ptr(x).ptr(y).i32(k).i32(rows).i32(t).i32(perWarp)));
        } else if (c.tensorCores() && k % 32 == 0 && w % 16 == 0 && x % 16 == 0) { // sm_80+: tensor cores (f16; Q4_0, Q8_0 int8)
            boolean wide = t > MMA_NARROW_MAX_TOKENS;
            out.add(launch(c, mmaKernel(type, repacked, wide), ceilDiv(rows, wide ? 128 : 64), ceilDiv(t, wide ? 64 : 32), 1, 128,
                    new Launch.Args().ptr(w).ptr(x).ptr(y).i32(k).i32(rows).i32(t)));
        } else {
            out.add(launch(c, mulMatTiledKernel(type, repacked), ceilDiv(rows, 64), ceilDiv(t, 64), 1, 256,
                    new Launch.Args().ptr(w).ptr(x).ptr(y).i32(k).i32(rows).i32(t)));
        }
    }

    /**
     * The device address of x's q8_1 blocks (rows of k), which the first of its readers quantizes
     * (quantize_q8_1) unless its rms_norm wrote them; later readers find them in place.
     */
    private static long q8Activations(Node reader, Node xNode, long x, int k, int rows, Target c, List<Launch> out) {
        long q = c.scratch() + c.fusion().q8Offset(xNode);
        if (c.fusion().quantizesInput(reader, xNode)) {
            int blocks = ceilDiv((long) rows * (k / 32), 8);
            out.add(launch(c, Kernel.QUANTIZE_Q8_1, blocks, 1, 1, 256, new Launch.Args().ptr(x).ptr(q).i32(k).i32(rows)));
        }
        return q;
    }

    /** Up to this row length, mul_mat_vec gives each row half a warp (two rows per warp), so that lanes stay busy. */
    static final int VEC_SHORT_ROW = 1024;

    /** mul_mat_vec's rows per warp for rows of k elements: 2 for short rows, else 1. */
    static int vecRowsPerWarp(int k) {
        return k <= VEC_SHORT_ROW ? 2 : 1;
    }

    /** Fewer blocks of one-warp row groups than this per multiprocessor take mul_mat_vec's split variant. */
    static final int VEC_SPLIT_BLOCKS_PER_SM = 4;

    /**
     * Whether mul_mat_vec splits each row group's K among the block's 4 warps: where the one-warp
     * grid, ceil(rows / (4 perWarp)) blocks of 4 warps, has fewer than VEC_SPLIT_BLOCKS_PER_SM
     * blocks per multiprocessor (16 warps), too few loads in flight to reach DRAM bandwidth; split,
     * the grid has four times the blocks. LLaMA 3.2 1B's K and V projections (512 rows of 2048)
     * give 128 blocks, 8B's (1024 rows of 4096) 256: split on any GPU of 64 multiprocessors or more.
     */
    static boolean vecSplit(int rows, int perWarp, int multiprocessors) {
        return ceilDiv(rows, 4L * perWarp) < (long) VEC_SPLIT_BLOCKS_PER_SM * multiprocessors;
    }

    /** mul_mat_mma takes 64 x 32 tiles up to this many tokens, 128 x 64 above. */
    static final int MMA_NARROW_MAX_TOKENS = 64;

    /** mul_mat_mma's kernel: 64 rows x 32 tokens per block, or (wide) 128 x 64; repacked Q4_0 and Q8_0 their own. */
    private static Kernel mmaKernel(DType type, boolean repacked, boolean wide) {
        if (repacked) {
            return switch (type) {
                case Q4_0 -> wide ? Kernel.MUL_MAT_MMA_Q4_0R_128X64 : Kernel.MUL_MAT_MMA_Q4_0R_64X32;
                case Q8_0 -> wide ? Kernel.MUL_MAT_MMA_Q8_0R_128X64 : Kernel.MUL_MAT_MMA_Q8_0R_64X32;
                default -> throw new IllegalStateException("mul_mat of repacked " + type);
            };
        }
        return switch (type) {
            case F32 -> wide ? Kernel.MUL_MAT_MMA_F32_128X64 : Kernel.MUL_MAT_MMA_F32_64X32;
            case F16 -> wide ? Kernel.MUL_MAT_MMA_F16_128X64 : Kernel.MUL_MAT_MMA_F16_64X32;
            case BF16 -> wide ? Kernel.MUL_MAT_MMA_BF16_128X64 : Kernel.MUL_MAT_MMA_BF16_64X32;
            case Q4_0 -> wide ? Kernel.MUL_MAT_MMA_Q4_0_128X64 : Kernel.MUL_MAT_MMA_Q4_0_64X32;
            case Q8_0 -> wide ? Kernel.MUL_MAT_MMA_Q8_0_128X64 : Kernel.MUL_MAT_MMA_Q8_0_64X32;
            case Q4_1 -> wide ? Kernel.MUL_MAT_MMA_Q4_1_128X64 : Kernel.MUL_MAT_MMA_Q4_1_64X32;
            case Q5_0 -> wide ? Kernel.MUL_MAT_MMA_Q5_0_128X64 : Kernel.MUL_MAT_MMA_Q5_0_64X32;
            case Q5_1 -> wide ? Kernel.MUL_MAT_MMA_Q5_1_128X64 : Kernel.MUL_MAT_MMA_Q5_1_64X32;
            case MXFP4 -> wide ? Kernel.MUL_MAT_MMA_MXFP4_128X64 : Kernel.MUL_MAT_MMA_MXFP4_64X32;
            case Q2_K -> wide ? Kernel.MUL_MAT_MMA_Q2_K_128X64 : Kernel.MUL_MAT_MMA_Q2_K_64X32;
            case Q3_K -> wide ? Kernel.MUL_MAT_MMA_Q3_K_128X64 : Kernel.MUL_MAT_MMA_Q3_K_64X32;
            case Q5_K -> wide ? Kernel.MUL_MAT_MMA_Q5_K_128X64 : Kernel.MUL_MAT_MMA_Q5_K_64X32;
            case Q4_K -> wide ? Kernel.MUL_MAT_MMA_Q4_K_128X64 : Kernel.MUL_MAT_MMA_Q4_K_64X32;
            case Q6_K -> wide ? Kernel.MUL_MAT_MMA_Q6_K_128X64 : Kernel.MUL_MAT_MMA_Q6_K_64X32;
            default -> throw new IllegalStateException("mul_mat of " + type);
        };
    }

    /**
     * mul_mat_id: one launch of the matrix-vector design for every slot (t, j) of ids [k, T]; grid
     * ceil(N / 4) x min(slots, 65535), the kernel looping over the slots past the grid. Quantized
     * weights first quantize x's rows (T or k*T of them) to q8_1 in the scratch.
     */
    private static void mulMatId(Op.MulMatId m, Node n, Function<Node, Long> addr, Target c, List<Launch> out) {
        var wd = m.w().desc();
        DType type = wd.type();
        int k = (int) wd.ne(0), rows = (int) wd.ne(1), experts = (int) wd.ne(2);
        int used = (int) m.ids().desc().rowLength();
        int slots = (int) m.ids().desc().elements();
        int xRows = (int) m.x().desc().rows();
        boolean perSlot = xRows == slots;
        long x = addr.apply(m.x());
        if (dp4a(type)) x = q8Activations(n, m.x(), x, k, xRows, c, out);
        Kernel kernel = mulMatIdKernel(type);
        out.add(launch(c, kernel, ceilDiv(rows, 4), Math.min(slots, MAX_GRID_Y), 1, 128, new Launch.Args()
                .ptr(addr.apply(m.w())).ptr(x).ptr(addr.apply(m.ids())).ptr(addr.apply(n))
                .i32(k).i32(rows).i32(experts).i32(used).i32(slots).i32(perSlot ? 1 : 0)));
    }

    private static void attention(Op.Attention a, Node n, Function<Node, Long> addr, Target c, List<Launch> out) {
        long scratch = c.scratch();
        int t = (int) a.q().desc().rows();
        int ctx = (int) a.kCache().desc().rows();
        int span = attentionSpan(a);
        int splits = attentionSplits(t, a.kvHeads(), span);
        long sinks = a.sinks() != null ? addr.apply(a.sinks()) : 0;
        Kernel mma = attentionMmaKernel(a, t, addr, c);
        if (mma != null) {
            // tensor cores: a block per 64 (token, query head) rows of a KV head; splits only while the blocks are few
            int rowBlocks = ceilDiv((long) t * (a.heads() / a.kvHeads()), 64);
            splits = Math.min(splits, Math.max(1, ceilDiv(ATT_MMA_TARGET_BLOCKS, (long) rowBlocks * a.kvHeads())));
            int mmaChunk = ceilDiv(span, splits);
            out.add(launch(c, mma, rowBlocks, a.kvHeads(), splits, 128, new Launch.Args()
                    .ptr(addr.apply(a.q())).ptr(addr.apply(a.kCache())).ptr(addr.apply(a.vCache())).ptr(addr.apply(a.pos()))
                    .ptr(splits > 1 ? scratch : 0).ptr(addr.apply(n))
                    .i32(t).i32(a.heads()).i32(a.kvHeads()).f32(a.scale()).i32(ctx).i32(mmaChunk).i32(splits)
                    .i32(a.window()).f32(a.softcap()).ptr(sinks)));
            if (splits > 1) {
                out.add(launch(c, Kernel.ATTENTION_COMBINE, a.heads(), t, 1, 128, new Launch.Args()
                        .ptr(scratch).ptr(addr.apply(n)).i32(a.heads()).i32(a.headDim()).i32(splits).ptr(sinks)));
            }
            return;
        }
        int chunk = ceilDiv(span, splits);
        Kernel kernel = switch (a.kCache().desc().type()) {
            case F16 -> Kernel.ATTENTION_PARTIAL_F16;
            case Q8_0 -> Kernel.ATTENTION_PARTIAL_Q8_0;
            case Q4_0 -> Kernel.ATTENTION_PARTIAL_Q4_0;
            default -> Kernel.ATTENTION_PARTIAL_F32;
        };
        // one block per KV head, token and split: it serves every query head of the KV head's group
        out.add(launch(c, kernel, a.kvHeads(), t, splits, 128, new Launch.Args()
                .ptr(addr.apply(a.q())).ptr(addr.apply(a.kCache())).ptr(addr.apply(a.vCache())).ptr(addr.apply(a.pos()))
                .ptr(splits > 1 ? scratch : 0).ptr(addr.apply(n))
                .i32(a.heads()).i32(a.kvHeads()).i32(a.headDim()).f32(a.scale()).i32(ctx).i32(chunk).i32(splits)
                .i32(a.window()).f32(a.softcap()).ptr(sinks)));
        if (splits > 1) {
            // the sinks join this final merge (the partial kernel ignores them with several splits)
            out.add(launch(c, Kernel.ATTENTION_COMBINE, a.heads(), t, 1, 128, new Launch.Args()
                    .ptr(scratch).ptr(addr.apply(n)).i32(a.heads()).i32(a.headDim()).i32(splits).ptr(sinks)));
        }
    }

    /** attention_mma's blocks aim at this many in all (a few per SM); fewer take more splits, up to attentionSplits'. */
    static final int ATT_MMA_TARGET_BLOCKS = 512;

    /**
     * The tensor-core prompt kernel (attention_mma.cu) for {@code a} where it applies, else null:
     * sm_80+, at least 16 tokens, F32 or F16 caches (both of one type, 16-byte aligned), head dim
     * 64, 80, 96 or 128. It takes any positions and ring caches, as attention.cu does.
     */
    private static Kernel attentionMmaKernel(Op.Attention a, int t, Function<Node, Long> addr, Target c) {
        DType type = a.kCache().desc().type();
        if (t < 16 || (type != DType.F16 && type != DType.F32) || a.vCache().desc().type() != type) return null;
        int d = a.headDim();
        if (d != 64 && d != 80 && d != 96 && d != 128) return null;
        if (addr.apply(a.kCache()) % 16 != 0 || addr.apply(a.vCache()) % 16 != 0 || !c.tensorCores()) return null;
        boolean f16 = type == DType.F16;
        return switch (d) {
            case 64 -> f16 ? Kernel.ATTENTION_MMA_F16_D64 : Kernel.ATTENTION_MMA_F32_D64;
            case 80 -> f16 ? Kernel.ATTENTION_MMA_F16_D80 : Kernel.ATTENTION_MMA_F32_D80;
            case 96 -> f16 ? Kernel.ATTENTION_MMA_F16_D96 : Kernel.ATTENTION_MMA_F32_D96;
            default -> f16 ? Kernel.ATTENTION_MMA_F16_D128 : Kernel.ATTENTION_MMA_F32_D128;
        };
    }

    private static Launch binary(Target c, Kernel kernel, Node a, Node b, Node n, Function<Node, Long> addr) {
        long count = n.desc().elements();
        long k = a.desc().rowLength();
        boolean repeat = b.desc().elements() == k && count != k;
        return launch(c, kernel, ewGrid(count), 1, 1, EW_BLOCK, new Launch.Args()
                .ptr(addr.apply(a)).ptr(addr.apply(b)).ptr(addr.apply(n)).i64(count).i32(k).i32(repeat ? 1 : 0));
    }

    private static int ewGrid(long count) {
        return (int) Math.max(1, Math.min(EW_MAX_GRID, (count + EW_BLOCK - 1) / EW_BLOCK));
    }

    private static Launch launch(Target c, Kernel k, int gx, int gy, int gz, int block, Launch.Args args) {
        return new Launch(k, c.functions().apply(k), gx, gy, gz, block, args.build());
    }

    /** The device address of {@code node}'s tensor in the subgraph; it must be in this device's memory. */
    static long address(Subgraph s, Node node) {
        TensorRef r = s.ref(node);
        if (!(r.buffer() instanceof CudaBuffer b) || b.device() != s.device()) {
            throw new IllegalStateException(node.name() + " is not in the memory of " + s.device().name() + ": " + r.buffer());
        }
        if (r.offset() < 0 || r.offset() + r.bytes() > b.size()) {
            throw new IllegalStateException(node.name() + " lies outside its buffer on " + s.device().name());
        }
        return b.address(r.offset());
    }
}
