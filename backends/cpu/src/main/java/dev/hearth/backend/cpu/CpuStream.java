package dev.hearth.backend.cpu;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Stream;
import dev.hearth.runtime.backend.Subgraph;
import dev.hearth.runtime.backend.TensorRef;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Computes subgraphs on the CPU device, synchronously: each node of a split in order, reading and
 * writing host memory through the split's tensor refs. The first compute of a split turns its
 * nodes into steps (kernels bound to their memory) and keeps them for the next computes of the
 * same split object. Working memory lives in {@link Scratch}, sized once and grown rarely.
 */
final class CpuStream implements Stream {
    private static final int PLANS = 64;

    private interface Step {
        void run(CpuPool pool, Scratch s);
    }

    /** {@code hearth.cpu.profile}: time each op and print the totals per op and type of every 100 computes. */
    private static final boolean PROFILE = Boolean.getBoolean("hearth.cpu.profile");
    private final Map<String, long[]> profile = new java.util.TreeMap<>();
    private int computes;

    /** The steps of a split and the scopes of the memory they use (checked alive before each compute). */
    private record Plan(Step[] steps, String[] names, MemorySegment.Scope[] scopes) {
    }

    private final CpuDevice device;
    private final Map<Subgraph, Plan> plans = new IdentityHashMap<>();
    private final List<Subgraph> order = new ArrayList<>();
    private final Rope rope = new Rope();
    private Scratch scratch;
    /** Scopes of memory the steps being planned use beyond the split's tensors (native repacked weights). */
    private java.util.Set<MemorySegment.Scope> planScopes;
    private float[][] attention = new float[0][];
    private int[] ints = new int[0];

    CpuStream(CpuDevice device) {
        this.device = device;
    }

    @Override
    public void compute(Subgraph split) {
        CpuPool pool = device.pool();
        if (scratch == null || scratch.threads != pool.threads()) scratch = new Scratch(pool.threads());
        scratch.quantizedFor = null;
        Plan plan = plan(split);
        for (MemorySegment.Scope sc : plan.scopes()) {
            if (!sc.isAlive()) throw new IllegalStateException("cpu: a buffer of this split was closed; plan the split again");
        }
        if (PROFILE) {
            Step[] steps = plan.steps();
            for (int i = 0; i < steps.length; i++) {
                long t0 = System.nanoTime();
                steps[i].run(pool, scratch);
                long[] acc = profile.computeIfAbsent(plan.names()[i], k -> new long[2]);
                acc[0] += System.nanoTime() - t0;
                acc[1]++;
            }
            if (++computes % 100 == 0) {
                StringBuilder sb = new StringBuilder("cpu profile (ms total, calls):");
                profile.forEach((k, v) -> sb.append(String.format("%n  %-40s %10.1f %8d", k, v[0] / 1e6, v[1])));
                System.err.println(sb);
                profile.clear();
            }
        } else {
            for (Step step : plan.steps()) step.run(pool, scratch);
        }
        scratch.quantizedFor = null;
    }

    @Override
    public void synchronize() {
    }

    private Plan plan(Subgraph split) {
        Plan p = plans.get(split);
        if (p != null) return p;
        List<Step> steps = new ArrayList<>();
        List<String> names = new ArrayList<>();
        java.util.Set<MemorySegment.Scope> scopes = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        planScopes = scopes;
        for (Node n : split.nodes()) {
            if (n.isLeaf() || n.op() instanceof Op.Reshape) continue; // a reshape is a view of its input's memory
            if (!device.supports(n)) throw new HearthException(device.whyNot(n));
            steps.add(step(n, split));
            names.add(n.op().getClass().getSimpleName() + " " + n.inputs().stream().map(in -> in.desc().type().name())
                    .collect(java.util.stream.Collectors.joining(",")) + " " + n.desc().shapeString());
            scopes.add(scope(split.ref(n)));
            for (Node in : n.inputs()) scopes.add(scope(split.ref(in)));
        }
        planScopes = null;
        p = new Plan(steps.toArray(new Step[0]), names.toArray(new String[0]), scopes.toArray(new MemorySegment.Scope[0]));
        if (order.size() >= PLANS) plans.remove(order.removeFirst());
        plans.put(split, p);
        order.add(split);
        return p;
    }

    private static MemorySegment.Scope scope(TensorRef r) {
        MemorySegment s = r.buffer().hostSegment();
        if (s == null) throw new IllegalStateException("the cpu device computes in host memory only: " + r.desc());
        return s.scope();
    }

    private Step step(Node n, Subgraph g) {
        MemorySegment out = Mem.segment(g.ref(n));
        int k = (int) n.desc().rowLength();
        int elements = Math.toIntExact(n.desc().elements());
        return switch (n.op()) {
            case Op.Leaf l -> throw new IllegalStateException("leaf " + n);
            case Op.MulMat m -> {
                TensorRef wr = g.ref(m.w());
                MemorySegment w = Mem.segment(wr);
                MemorySegment x = Mem.segment(g.ref(m.x()));
                DType type = m.w().desc().type();
                int kk = (int) m.w().desc().rowLength(), rows = (int) m.w().desc().rows(), tokens = (int) m.x().desc().rows();
                Node xNode = m.x();
                Repack.Copy packed = Repack.repacks(type) && rows >= 8 && device.repack() && wr.buffer() instanceof CpuBuffer cb
                        && cb.usage() == BufferUsage.WEIGHTS ? cb.packed(type, wr.offset(), kk, rows, device.pool()) : null;
                if (packed != null && packed.segment() != null) planScopes.add(packed.segment().scope());
                yield (pool, s) -> MatMul.run(pool, s, type, w, packed, 0, kk, rows, x, tokens, out, xNode);
            }
            case Op.GetRows gr -> {
                Input table = input(gr.table(), g);
                MemorySegment ids = Mem.segment(g.ref(gr.ids()));
                int count = Math.toIntExact(gr.ids().desc().elements());
                long tableRows = gr.table().desc().rows();
                long rb = gr.table().desc().rowBytes();
                yield (pool, s) -> {
                    int[] id = ints(ids, count);
                    float[] row = s.a(k);
                    for (int t = 0; t < count; t++) {
                        if (id[t] < 0 || id[t] >= tableRows) {
                            throw new HearthException("get_rows: id " + id[t] + " is outside " + table.node.name() + " (" + tableRows + " rows)");
                        }
                        Decode.row(table.type, table.seg, id[t] * rb, row, 0, k);
                        MemorySegment.copy(row, 0, out, Mem.F32, 4L * t * k, k);
                    }
                };
            }
            case Op.RmsNorm r -> {
                Input x = input(r.x(), g);
                Input w = r.weight() != null ? input(r.weight(), g) : null;
                float eps = r.eps();
                yield (pool, s) -> {
                    float[] a = x.load(s.a(elements));
                    float[] wv = w != null ? w.load(s.b(k)) : null;
                    float[] c = s.c(elements);
                    Elementwise.rmsNorm(a, k, elements / k, wv, eps, c);
                    store(c, elements, out);
                };
            }
            case Op.Rope r -> {
                Input x = input(r.x(), g);
                MemorySegment pos = Mem.segment(g.ref(r.pos()));
                Input ff = r.freqFactors() != null ? input(r.freqFactors(), g) : null;
                int tokens = elements / k;
                yield (pool, s) -> {
                    float[] a = x.load(s.a(elements));
                    float[] f = ff != null ? ff.load(s.b(Math.toIntExact(ff.node.desc().elements()))) : null;
                    float[] c = s.c(elements);
                    rope.apply(a, k, ints(pos, tokens), tokens, r.headDim(), r.ropeDims(), r.mode(), r.base(), r.freqScale(), f, r.yarn(), c);
                    store(c, elements, out);
                };
            }
            case Op.KvStore kv -> {
                TensorRef cacheRef = g.ref(kv.cache()), outRef = g.ref(n);
                boolean inPlace = cacheRef.buffer() == outRef.buffer() && cacheRef.offset() == outRef.offset();
                MemorySegment cache = Mem.segment(cacheRef);
                Input src = input(kv.src(), g);
                MemorySegment pos = Mem.segment(g.ref(kv.pos()));
                int tokens = Math.toIntExact(kv.pos().desc().elements());
                long ctx = kv.cache().desc().rows();
                DType type = kv.cache().desc().type();
                long rb = kv.cache().desc().rowBytes();
                String name = kv.cache().desc().name();
                yield (pool, s) -> {
                    if (!inPlace) MemorySegment.copy(cache, 0, out, 0, cache.byteSize());
                    float[] a = src.load(s.a(tokens * k));
                    int[] p = ints(pos, tokens);
                    for (int t = 0; t < tokens; t++) {
                        if (p[t] < 0) throw new HearthException("position " + p[t] + " is negative");
                        KvStore.row(a, t * k, k, type, out, (p[t] % ctx) * rb); // position p at row p % R: a ring where R < the context
                    }
                };
            }
            case Op.Attention a -> {
                Input q = input(a.q(), g);
                MemorySegment kc = Mem.segment(g.ref(a.kCache())), vc = Mem.segment(g.ref(a.vCache()));
                DType kt = a.kCache().desc().type(), vt = a.vCache().desc().type();
                long ctxK = a.kCache().desc().rows(), ctxV = a.vCache().desc().rows();
                MemorySegment pos = Mem.segment(g.ref(a.pos()));
                int tokens = elements / k;
                String kName = a.kCache().desc().name(), vName = a.vCache().desc().name();
                Input sinkIn = a.sinks() != null ? input(a.sinks(), g) : null;
                float[] sinks = a.sinks() != null ? new float[a.heads()] : null; // this step's own, loaded each compute
                yield (pool, s) -> {
                    int[] p = ints(pos, tokens);
                    for (int t = 0; t < tokens; t++) {
                        int span = a.window() > 0 ? Math.min(p[t] + 1, a.window()) : p[t] + 1;
                        checkSpan(p[t], span, ctxK, kName);
                        checkSpan(p[t], span, ctxV, vName);
                    }
                    float[][] bufs = attentionBuffers(pool.threads(), a.heads() / a.kvHeads(), a.headDim());
                    float[] qa = q.load(s.a(elements));
                    float[] c = s.c(elements);
                    if (sinkIn != null) sinkIn.load(sinks);
                    Attention.run(pool, bufs, qa, kc, kt, vc, vt, p, tokens, a.heads(), a.kvHeads(), a.headDim(), a.scale(),
                            a.window(), a.softcap(), sinks, Math.min(ctxK, ctxV), c);
                    store(c, elements, out);
                };
            }
            case Op.Swiglu sw -> {
                Input gate = input(sw.gate(), g), up = input(sw.up(), g);
                yield (pool, s) -> {
                    float[] c = s.c(elements);
                    Elementwise.swiglu(gate.load(s.a(elements)), up.load(s.b(elements)), elements, c);
                    store(c, elements, out);
                };
            }
            case Op.Add ad -> addMul(false, input(ad.a(), g), input(ad.b(), g), k, elements, out);
            case Op.Mul mu -> addMul(true, input(mu.a(), g), input(mu.b(), g), k, elements, out);
            case Op.Scale sc -> {
                Input x = input(sc.x(), g);
                float f = sc.s();
                yield (pool, s) -> {
                    float[] c = s.c(elements);
                    Elementwise.scale(x.load(s.a(elements)), f, elements, c);
                    store(c, elements, out);
                };
            }
            case Op.Softmax sm -> {
                Input x = input(sm.x(), g);
                yield (pool, s) -> {
                    float[] c = s.c(elements);
                    Elementwise.softmax(x.load(s.a(elements)), k, elements / k, c);
                    store(c, elements, out);
                };
            }
            case Op.Geglu gg -> {
                Input gate = input(gg.gate(), g), up = input(gg.up(), g);
                yield (pool, s) -> {
                    float[] c = s.c(elements);
                    Elementwise.geglu(gate.load(s.a(elements)), up.load(s.b(elements)), elements, c);
                    store(c, elements, out);
                };
            }
            case Op.Softcap sc -> {
                Input x = input(sc.x(), g);
                float cap = sc.cap();
                yield (pool, s) -> {
                    float[] c = s.c(elements);
                    Elementwise.softcap(x.load(s.a(elements)), cap, elements, c);
                    store(c, elements, out);
                };
            }
            case Op.LayerNorm ln -> {
                Input x = input(ln.x(), g);
                Input w = ln.weight() != null ? input(ln.weight(), g) : null;
                Input b = ln.bias() != null ? input(ln.bias(), g) : null;
                float eps = ln.eps();
                float[] bias = b != null ? new float[k] : null; // this step's own, loaded each compute
                yield (pool, s) -> {
                    float[] a = x.load(s.a(elements));
                    float[] wv = w != null ? w.load(s.b(k)) : null;
                    float[] bv = b != null ? b.load(bias) : null;
                    float[] c = s.c(elements);
                    Elementwise.layerNorm(a, k, elements / k, wv, bv, eps, c);
                    store(c, elements, out);
                };
            }
            case Op.Reshape r -> throw new IllegalStateException("a reshape is a view, not a step: " + n);
            case Op.SwigluOai sw -> {
                Input gate = input(sw.gate(), g), up = input(sw.up(), g);
                float alpha = sw.alpha(), limit = sw.limit();
                yield (pool, s) -> {
                    float[] c = s.c(elements);
                    Elementwise.swigluOai(gate.load(s.a(elements)), up.load(s.b(elements)), alpha, limit, elements, c);
                    store(c, elements, out);
                };
            }
            case Op.AddId ai -> {
                Input y = input(ai.y(), g), bias = input(ai.bias(), g);
                MemorySegment idSeg = Mem.segment(g.ref(ai.ids()));
                int slots = elements / k;
                long experts = ai.bias().desc().rows();
                int bn = Math.toIntExact(ai.bias().desc().elements());
                yield (pool, s) -> {
                    float[] c = y.load(s.c(elements));
                    float[] b = bias.load(s.b(bn));
                    int[] id = ints(idSeg, slots);
                    for (int r = 0; r < slots; r++) {
                        if (id[r] < 0 || id[r] >= experts) throw new HearthException("add_id: expert " + id[r] + " is outside " + ai.bias().desc().name());
                        for (int i = 0; i < k; i++) c[r * k + i] += b[id[r] * k + i];
                    }
                    store(c, elements, out);
                };
            }
            case Op.TopK tk -> {
                Input x = input(tk.x(), g);
                int e = (int) tk.x().desc().rowLength(), kk = tk.k(), rows = elements / kk;
                int[] ids = new int[elements];
                yield (pool, s) -> {
                    Experts.topK(x.load(s.a(e * rows)), e, rows, kk, ids);
                    MemorySegment.copy(ids, 0, out, Mem.I32, 0, elements);
                };
            }
            case Op.Gather ga -> {
                Input x = input(ga.x(), g);
                MemorySegment idSeg = Mem.segment(g.ref(ga.ids()));
                int e = (int) ga.x().desc().rowLength(), kk = (int) ga.ids().desc().rowLength();
                int xn = Math.toIntExact(ga.x().desc().elements());
                yield (pool, s) -> {
                    float[] xv = x.load(s.a(xn));
                    int[] id = ints(idSeg, elements);
                    float[] c = s.c(elements);
                    for (int i = 0; i < elements; i++) {
                        if (id[i] < 0 || id[i] >= e) throw new HearthException("gather: index " + id[i] + " is outside 0.." + (e - 1));
                        c[i] = xv[(i / kk) * e + id[i]];
                    }
                    store(c, elements, out);
                };
            }
            case Op.MulMatId m -> {
                TensorRef wr = g.ref(m.w());
                DType type = m.w().desc().type();
                int kk = (int) m.w().desc().ne(0), rows = (int) m.w().desc().ne(1), experts = (int) m.w().desc().ne(2);
                Repack.Copy packed = Repack.repacks(type) && rows % 8 == 0 && device.repack() && wr.buffer() instanceof CpuBuffer cb
                        && cb.usage() == BufferUsage.WEIGHTS ? cb.packed(type, wr.offset(), kk, rows * experts, device.pool()) : null;
                if (packed != null && packed.segment() != null) planScopes.add(packed.segment().scope());
                Experts.MulMatId op = new Experts.MulMatId(type, Mem.segment(wr), packed, kk, rows,
                        experts, Mem.segment(g.ref(m.x())), m.x().desc().rows(), Mem.segment(g.ref(m.ids())),
                        (int) m.ids().desc().rowLength(), (int) m.ids().desc().rows(), out, m.w().desc().name());
                yield (pool, s) -> op.run(pool, s);
            }
            case Op.WeightedSum ws -> {
                Input y = input(ws.y(), g), w = input(ws.weights(), g);
                int kk = (int) ws.weights().desc().rowLength();
                yield (pool, s) -> {
                    float[] c = s.c(elements);
                    Experts.weightedSum(y.load(s.a(elements * kk)), k, w.load(s.b(elements / k * kk)), kk, elements / k, c);
                    store(c, elements, out);
                };
            }
            case Op.Convert cv -> {
                Input x = input(cv.x(), g);
                DType to = cv.to();
                yield (pool, s) -> Floats.store(to, x.load(s.a(elements)), elements, out);
            }
        };
    }

    private static Step addMul(boolean mul, Input a, Input b, int k, int elements, MemorySegment out) {
        int bn = Math.toIntExact(b.node.desc().elements());
        return (pool, s) -> {
            float[] c = s.c(elements);
            Elementwise.addMul(mul, a.load(s.a(elements)), b.load(s.b(bn)), k, elements, bn, c);
            store(c, elements, out);
        };
    }

    /** An input tensor: its bytes, type and row length, loaded as floats on demand. */
    private record Input(Node node, MemorySegment seg, DType type, int k, int n) {
        float[] load(float[] dst) {
            Floats.load(type, seg, k, n, dst);
            return dst;
        }
    }

    private static Input input(Node n, Subgraph g) {
        return new Input(n, Mem.segment(g.ref(n)), n.desc().type(), (int) n.desc().rowLength(), Math.toIntExact(n.desc().elements()));
    }

    private static void store(float[] c, int n, MemorySegment out) {
        MemorySegment.copy(c, 0, out, Mem.F32, 0, n);
    }

    private int[] ints(MemorySegment s, int n) {
        if (ints.length < n) ints = new int[Math.max(n, 2 * ints.length)];
        MemorySegment.copy(s, Mem.I32, 0, ints, 0, n);
        return ints;
    }

    private float[][] attentionBuffers(int threads, int group, int headDim) {
        int need = Attention.bufferFloats(group, headDim);
        if (attention.length != threads) attention = new float[threads][0];
        for (int i = 0; i < threads; i++) {
            if (attention[i].length < need) attention[i] = new float[Math.max(need, attention[i].length * 2)];
        }
        return attention;
    }

    /** The {@code span} positions a token at {@code p} attends to must all be in the cache at once. */
    private static void checkSpan(int p, int span, long rows, String cache) {
        if (p < 0 || span > rows) {
            throw new HearthException("position " + p + " is outside the KV cache " + cache + " of " + rows
                    + " rows: use a larger context");
        }
    }

    @Override
    public void close() {
        plans.clear();
        order.clear();
    }

    /** Forgets the steps of splits no longer in use (their memory may be freed). */
    void forget(Subgraph split) {
        plans.remove(split);
        for (Iterator<Subgraph> it = order.iterator(); it.hasNext(); ) if (it.next() == split) it.remove();
    }
}
