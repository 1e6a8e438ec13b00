package dev.hearth.runtime.reference;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.backend.Stream;
import dev.hearth.runtime.backend.Subgraph;
import dev.hearth.runtime.backend.TensorRef;
import dev.hearth.runtime.dtype.Codecs;
import dev.hearth.runtime.dtype.QuantCodec;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Computes a subgraph node by node, in order, on the host: reads each input through the codec of
 * its type, applies {@link ReferenceOps}, and writes the result through the codec of the result's
 * type. Work is done when {@link #compute} returns.
 */
final class ReferenceStream implements Stream {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Override
    public void compute(Subgraph split) {
        for (Node n : split.nodes()) compute(n, split);
    }

    @Override
    public void synchronize() {
    }

    private static void compute(Node n, Subgraph s) {
        TensorRef out = s.ref(n);
        int k = (int) n.desc().rowLength();
        switch (n.op()) {
            case Op.Leaf leaf -> {
            }
            case Op.GetRows g -> getRows(s.ref(g.table()), readInts(s.ref(g.ids())), out);
            case Op.MulMat m -> mulMat(s.ref(m.w()), read(s.ref(m.x())), out);
            case Op.RmsNorm r -> write(out, ReferenceOps.rmsNorm(read(s.ref(r.x())), k,
                    r.weight() != null ? read(s.ref(r.weight())) : null, r.eps()));
            case Op.Rope r -> write(out, ReferenceOps.rope(read(s.ref(r.x())), k, readInts(s.ref(r.pos())), r.headDim(),
                    r.ropeDims(), r.mode(), r.base(), r.freqScale(), r.freqFactors() != null ? read(s.ref(r.freqFactors())) : null, r.yarn()));
            case Op.KvStore kv -> kvStore(s.ref(kv.cache()), read(s.ref(kv.src())), readInts(s.ref(kv.pos())), out);
            case Op.Attention a -> attention(a, s, out);
            case Op.Swiglu sw -> write(out, ReferenceOps.swiglu(read(s.ref(sw.gate())), read(s.ref(sw.up()))));
            case Op.Add a -> write(out, ReferenceOps.add(read(s.ref(a.a())), read(s.ref(a.b())), k));
            case Op.Mul m -> write(out, ReferenceOps.mul(read(s.ref(m.a())), read(s.ref(m.b())), k));
            case Op.Scale sc -> write(out, ReferenceOps.scale(read(s.ref(sc.x())), sc.s()));
            case Op.Softmax sm -> write(out, ReferenceOps.softmax(read(s.ref(sm.x())), k));
            case Op.Convert c -> write(out, read(s.ref(c.x())));
            case Op.Geglu gg -> write(out, ReferenceOps.geglu(read(s.ref(gg.gate())), read(s.ref(gg.up()))));
            case Op.Softcap sc -> write(out, ReferenceOps.softcap(read(s.ref(sc.x())), sc.cap()));
            case Op.LayerNorm ln -> write(out, ReferenceOps.layerNorm(read(s.ref(ln.x())), k,
                    ln.weight() != null ? read(s.ref(ln.weight())) : null, ln.bias() != null ? read(s.ref(ln.bias())) : null, ln.eps()));
            case Op.TopK tk -> writeInts(out, ReferenceOps.topK(read(s.ref(tk.x())), (int) tk.x().desc().rowLength(), tk.k()));
            case Op.Gather ga -> write(out, ReferenceOps.gather(read(s.ref(ga.x())), (int) ga.x().desc().rowLength(),
                    readInts(s.ref(ga.ids())), (int) ga.ids().desc().rowLength()));
            case Op.MulMatId m -> mulMatId(m, s, out);
            case Op.WeightedSum ws -> write(out, ReferenceOps.weightedSum(read(s.ref(ws.y())), (int) ws.y().desc().rowLength(),
                    read(s.ref(ws.weights())), (int) ws.weights().desc().rowLength()));
            case Op.SwigluOai sw -> write(out, ReferenceOps.swigluOai(read(s.ref(sw.gate())), read(s.ref(sw.up())), sw.alpha(), sw.limit()));
            case Op.AddId ai -> {
                int[] ids = readInts(s.ref(ai.ids()));
                long experts = ai.bias().desc().rows();
                for (int id : ids) {
                    if (id < 0 || id >= experts) throw new HearthException("add_id: expert " + id + " is outside " + ai.bias().desc().name());
                }
                write(out, ReferenceOps.addId(read(s.ref(ai.y())), k, read(s.ref(ai.bias())), ids));
            }
            case Op.Reshape r -> {
                // a view: the scheduler gave it its input's memory
            }
        }
    }

    /** get_rows: row ids[t] of the table, decoded with the table's codec, is row t of the result. */
    private static void getRows(TensorRef table, int[] ids, TensorRef out) {
        int k = (int) table.desc().rowLength();
        long rows = table.desc().rows();
        QuantCodec codec = Codecs.of(table.desc().type());
        float[] row = new float[k];
        for (int t = 0; t < ids.length; t++) {
            if (ids[t] < 0 || ids[t] >= rows) {
                throw new HearthException("get_rows: id " + ids[t] + " is outside " + table.desc().name() + " (" + rows + " rows)");
            }
            codec.dequantizeRow(host(table), table.offset() + ids[t] * table.desc().rowBytes(), row, 0, k);
            writeRow(out, t, row);
        }
    }

    /** mul_mat: out[t][n] = dot(weight row n, x row t), each weight row decoded once. */
    private static void mulMat(TensorRef w, float[] x, TensorRef out) {
        int k = (int) w.desc().rowLength();
        int n = (int) w.desc().rows();
        int tokens = x.length / k;
        QuantCodec codec = Codecs.of(w.desc().type());
        float[] row = new float[k];
        float[] y = new float[n * tokens];
        for (int r = 0; r < n; r++) {
            codec.dequantizeRow(host(w), w.offset() + r * w.desc().rowBytes(), row, 0, k);
            for (int t = 0; t < tokens; t++) y[t * n + r] = (float) ReferenceOps.dot(row, 0, x, t * k, k);
        }
        write(out, y);
    }

    /** mul_mat_id: row t * k + j of the result is expert ids[t][j]'s matrix times x row t (or t * k + j). */
    private static void mulMatId(Op.MulMatId m, Subgraph s, TensorRef out) {
        TensorRef w = s.ref(m.w());
        int kk = (int) w.desc().ne(0), n = (int) w.desc().ne(1), experts = (int) w.desc().ne(2);
        int[] ids = readInts(s.ref(m.ids()));
        int k = (int) m.ids().desc().rowLength();
        float[] x = read(s.ref(m.x()));
        boolean perSlot = m.x().desc().rows() == ids.length;
        QuantCodec codec = Codecs.of(w.desc().type());
        float[] row = new float[kk];
        float[] y = new float[ids.length * n];
        for (int i = 0; i < ids.length; i++) {
            int e = ids[i];
            if (e < 0 || e >= experts) throw new HearthException("mul_mat_id: expert " + e + " is outside " + w.desc().name() + " (" + experts + " experts)");
            int xo = (perSlot ? i : i / k) * kk;
            for (int r = 0; r < n; r++) {
                codec.dequantizeRow(host(w), w.offset() + ((long) e * n + r) * w.desc().rowBytes(), row, 0, kk);
                y[i * n + r] = (float) ReferenceOps.dot(row, 0, x, xo, kk);
            }
        }
        write(out, y);
    }

    private static void writeInts(TensorRef r, int[] values) {
        MemorySegment.copy(values, 0, host(r), I32, r.offset(), values.length);
    }

    /** kv_store: row pos[t] % R of the cache (of R rows) becomes row t of src, in the cache's type. */
    private static void kvStore(TensorRef cache, float[] src, int[] pos, TensorRef out) {
        if (cache.buffer() != out.buffer() || cache.offset() != out.offset()) {
            throw new IllegalStateException("kv_store result must be its cache: " + cache + " / " + out);
        }
        int k = (int) cache.desc().rowLength();
        float[] row = new float[k];
        long rows = cache.desc().rows();
        for (int t = 0; t < pos.length; t++) {
            if (pos[t] < 0) throw new HearthException("position " + pos[t] + " is negative");
            System.arraycopy(src, t * k, row, 0, k);
            writeRow(cache, pos[t] % rows, row);
        }
    }

    private static void attention(Op.Attention a, Subgraph s, TensorRef out) {
        int[] pos = readInts(s.ref(a.pos()));
        TensorRef k = s.ref(a.kCache());
        TensorRef v = s.ref(a.vCache());
        int rows = 0;
        for (int p : pos) {
            checkRange(p, a.window(), k);
            checkRange(p, a.window(), v);
            rows = Math.max(rows, p + 1);
        }
        // position j lives at row j % R: lay the positions out in order for the spec's arithmetic
        write(out, ReferenceOps.attention(read(s.ref(a.q())), byPosition(k, rows), byPosition(v, rows), pos,
                a.heads(), a.kvHeads(), a.headDim(), a.scale(), a.window(), a.softcap(), a.sinks() != null ? read(s.ref(a.sinks())) : null));
    }

    /** The cache's rows for positions 0..n-1, position j from row j % R. */
    private static float[] byPosition(TensorRef cache, int n) {
        long r = cache.desc().rows();
        if (n <= r) return readRows(cache, n);
        float[] ring = read(cache);
        int k = (int) cache.desc().rowLength();
        float[] out = new float[Math.multiplyExact(n, k)];
        for (int j = 0; j < n; j++) System.arraycopy(ring, (int) (j % r) * k, out, j * k, k);
        return out;
    }

    /** The positions a token at {@code p} attends to must all be in the cache at once: at most R of them. */
    private static void checkRange(int p, int window, TensorRef cache) {
        long span = window > 0 ? Math.min(p + 1, window) : p + 1L;
        if (p < 0 || span > cache.desc().rows()) {
            throw new HearthException("position " + p + " is outside the KV cache " + cache.desc().name()
                    + " of " + cache.desc().rows() + " rows: use a larger context");
        }
    }

    private static MemorySegment host(TensorRef r) {
        MemorySegment s = r.buffer().hostSegment();
        if (s == null) throw new IllegalStateException("the reference device computes in host memory only: " + r.desc());
        return s;
    }

    /** The whole tensor, decoded to F32. */
    static float[] read(TensorRef r) {
        return readRows(r, (int) r.desc().rows());
    }

    /** The first {@code rows} rows of a tensor, decoded to F32. */
    static float[] readRows(TensorRef r, int rows) {
        int k = (int) r.desc().rowLength();
        float[] out = new float[Math.multiplyExact(rows, k)];
        QuantCodec codec = Codecs.of(r.desc().type());
        for (int i = 0; i < rows; i++) codec.dequantizeRow(host(r), r.offset() + i * r.desc().rowBytes(), out, i * k, k);
        return out;
    }

    static int[] readInts(TensorRef r) {
        int[] out = new int[Math.toIntExact(r.desc().elements())];
        MemorySegment.copy(host(r), I32, r.offset(), out, 0, out.length);
        return out;
    }

    /** Encodes {@code data} (every row) into the tensor with its type's codec. */
    static void write(TensorRef r, float[] data) {
        int k = (int) r.desc().rowLength();
        if (data.length != r.desc().elements()) throw new IllegalStateException(data.length + " values for " + r.desc());
        QuantCodec codec = Codecs.of(r.desc().type());
        for (int i = 0; i < data.length / k; i++) codec.quantizeRow(data, i * k, host(r), r.offset() + i * r.desc().rowBytes(), k);
    }

    private static void writeRow(TensorRef r, long row, float[] data) {
        Codecs.of(r.desc().type()).quantizeRow(data, 0, host(r), r.offset() + row * r.desc().rowBytes(), data.length);
    }
}
