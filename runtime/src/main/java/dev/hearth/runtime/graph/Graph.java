package dev.hearth.runtime.graph;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.tensor.TensorDesc;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A graph of ops in topological order (every node after its inputs), built with the methods
 * below, which check shapes and derive each result's tensor. Outputs are the nodes whose values
 * the caller reads back.
 */
public final class Graph {
    private final List<Node> nodes = new ArrayList<>();
    private final List<Node> outputs = new ArrayList<>();

    public List<Node> nodes() {
        return Collections.unmodifiableList(nodes);
    }

    public List<Node> outputs() {
        return Collections.unmodifiableList(outputs);
    }

    public Node node(int id) {
        return nodes.get(id);
    }

    public int size() {
        return nodes.size();
    }

    public Graph output(Node n) {
        if (!outputs.contains(n)) outputs.add(n);
        return this;
    }

    private Node add(Op op, TensorDesc desc) {
        for (Node in : op.inputs()) {
            if (in.id() >= nodes.size() || nodes.get(in.id()) != in) throw new IllegalArgumentException(in + " is not in this graph");
        }
        Node n = new Node(nodes.size(), op, desc);
        nodes.add(n);
        return n;
    }

    public Node input(String name, DType type, long... ne) {
        return add(new Op.Input(name), new TensorDesc(name, type, ne));
    }

    public Node weight(TensorDesc desc) {
        return add(new Op.Weight(desc.name()), desc);
    }

    public Node state(TensorDesc desc) {
        return add(new Op.State(desc.name()), desc);
    }

    public Node getRows(String name, Node table, Node ids) {
        need(ids.desc().type() == DType.I32, "get_rows ids must be I32");
        return add(new Op.GetRows(table, ids), TensorDesc.of(name, DType.F32, table.desc().ne(0), ids.desc().elements()));
    }

    public Node mulMat(String name, Node w, Node x) {
        need(x.desc().type() == DType.F32, "mul_mat activations must be F32: " + x);
        need(w.desc().ne(0) == x.desc().ne(0), "mul_mat inner dimensions differ: " + w + " x " + x);
        return add(new Op.MulMat(w, x), TensorDesc.of(name, DType.F32, w.desc().rows(), x.desc().rows()));
    }

    public Node rmsNorm(String name, Node x, Node weight, float eps) {
        if (weight != null) need(weight.desc().ne(0) == x.desc().ne(0), "rms_norm weight length differs: " + weight);
        return add(new Op.RmsNorm(x, weight, eps), f32Like(name, x));
    }

    public Node rope(String name, Node x, Node pos, int headDim, int ropeDims, Op.RopeMode mode, float base,
                     float freqScale, Node freqFactors) {
        return rope(name, x, pos, headDim, ropeDims, mode, base, freqScale, freqFactors, null);
    }

    /** Rope with YaRN scaling where {@code yarn} is not null. */
    public Node rope(String name, Node x, Node pos, int headDim, int ropeDims, Op.RopeMode mode, float base,
                     float freqScale, Node freqFactors, Op.Yarn yarn) {
        need(x.desc().ne(0) % headDim == 0, "rope: row of " + x.desc().ne(0) + " is not whole heads of " + headDim);
        need(ropeDims <= headDim && ropeDims % 2 == 0, "rope: ropeDims " + ropeDims + " must be even and at most headDim");
        need(pos.desc().elements() == x.desc().rows(), "rope: one position per row");
        if (freqFactors != null) need(freqFactors.desc().elements() >= ropeDims / 2, "rope: frequency factors too short");
        return add(new Op.Rope(x, pos, headDim, ropeDims, mode, base, freqScale, freqFactors, yarn), f32Like(name, x));
    }

    public Node kvStore(String name, Node cache, Node src, Node pos) {
        need(cache.desc().ne(0) == src.desc().ne(0), "kv store: row length differs " + cache + " / " + src);
        need(pos.desc().elements() == src.desc().rows(), "kv store: one position per row");
        return add(new Op.KvStore(cache, src, pos), cache.desc().withName(name));
    }

    public Node attention(String name, Node q, Node k, Node v, Node pos, int heads, int kvHeads, int headDim, float scale) {
        return attention(name, q, k, v, pos, heads, kvHeads, headDim, scale, 0, 0f);
    }

    /** Attention with a sliding window ({@code window} > 0) and/or soft-capped scores ({@code softcap} > 0). */
    public Node attention(String name, Node q, Node k, Node v, Node pos, int heads, int kvHeads, int headDim, float scale,
                          int window, float softcap) {
        return attention(name, q, k, v, pos, heads, kvHeads, headDim, scale, window, softcap, null);
    }

    /** Attention with, besides, a sink logit per head ({@code sinks} F32 [heads]; null for none). */
    public Node attention(String name, Node q, Node k, Node v, Node pos, int heads, int kvHeads, int headDim, float scale,
                          int window, float softcap, Node sinks) {
        need(q.desc().ne(0) == (long) heads * headDim, "attention: q row is not heads * headDim");
        need(k.desc().ne(0) == (long) kvHeads * headDim && v.desc().ne(0) == (long) kvHeads * headDim, "attention: cache row is not kvHeads * headDim");
        need(heads % kvHeads == 0, "attention: heads must be a multiple of kvHeads");
        need(pos.desc().elements() == q.desc().rows(), "attention: one position per row");
        need(window >= 0 && softcap >= 0 && Float.isFinite(softcap), "attention: window and softcap must be >= 0");
        if (sinks != null) need(sinks.desc().elements() == heads && sinks.desc().type() == DType.F32, "attention: sinks must be F32 [heads]: " + sinks);
        return add(new Op.Attention(q, k, v, pos, heads, kvHeads, headDim, scale, window, softcap, sinks), f32Like(name, q));
    }

    public Node swigluOai(String name, Node gate, Node up, float alpha, float limit) {
        sameShape(gate, up);
        return add(new Op.SwigluOai(gate, up, alpha, limit), f32Like(name, gate));
    }

    /** {@code y} [N, k * T] plus, per row t * k + j, row ids[t][j] of {@code bias} [N, E]. */
    public Node addId(String name, Node y, Node bias, Node ids) {
        need(ids.desc().type() == DType.I32, "add_id: ids must be I32");
        need(bias.desc().ne(0) == y.desc().ne(0), "add_id: bias rows of " + bias.desc().ne(0) + " for " + y);
        need(y.desc().rows() == ids.desc().elements(), "add_id: one row of " + y + " per id of " + ids);
        return add(new Op.AddId(y, bias, ids), f32Like(name, y));
    }

    public Node geglu(String name, Node gate, Node up) {
        sameShape(gate, up);
        return add(new Op.Geglu(gate, up), f32Like(name, gate));
    }

    public Node softcap(String name, Node x, float cap) {
        need(cap > 0 && Float.isFinite(cap), "softcap: the cap must be a positive number, not " + cap);
        return add(new Op.Softcap(x, cap), f32Like(name, x));
    }

    public Node layerNorm(String name, Node x, Node weight, Node bias, float eps) {
        if (weight != null) need(weight.desc().elements() == x.desc().ne(0), "layer_norm weight length differs: " + weight);
        if (bias != null) need(bias.desc().elements() == x.desc().ne(0), "layer_norm bias length differs: " + bias);
        return add(new Op.LayerNorm(x, weight, bias, eps), f32Like(name, x));
    }

    public Node topK(String name, Node x, int k) {
        need(k >= 1 && k <= x.desc().ne(0), "top_k: k = " + k + " must be in 1.." + x.desc().ne(0));
        need(x.desc().type() == DType.F32, "top_k: F32 values only: " + x);
        return add(new Op.TopK(x, k), TensorDesc.of(name, DType.I32, k, x.desc().rows()));
    }

    public Node gather(String name, Node x, Node ids) {
        need(ids.desc().type() == DType.I32, "gather: ids must be I32");
        need(ids.desc().rows() == x.desc().rows(), "gather: one row of ids per row of " + x);
        return add(new Op.Gather(x, ids), TensorDesc.of(name, DType.F32, ids.desc().ne(0), x.desc().rows()));
    }

    /** {@code w} [K, N, E] of any type, {@code x} F32 [K, T] or [K, k * T], {@code ids} I32 [k, T]: F32 [N, k * T]. */
    public Node mulMatId(String name, Node w, Node x, Node ids) {
        need(w.desc().rank() == 3, "mul_mat_id: experts must be a 3-D tensor [K, N, E]: " + w);
        need(ids.desc().type() == DType.I32, "mul_mat_id: ids must be I32");
        need(x.desc().type() == DType.F32, "mul_mat_id activations must be F32: " + x);
        need(w.desc().ne(0) == x.desc().ne(0), "mul_mat_id inner dimensions differ: " + w + " x " + x);
        long k = ids.desc().ne(0), t = ids.desc().rows();
        need(x.desc().rows() == t || x.desc().rows() == k * t, "mul_mat_id: " + x + " must have T or k * T rows for ids " + ids);
        return add(new Op.MulMatId(w, x, ids), TensorDesc.of(name, DType.F32, w.desc().ne(1), k * t));
    }

    public Node weightedSum(String name, Node y, Node weights) {
        long k = weights.desc().ne(0), t = weights.desc().rows();
        need(y.desc().rows() == k * t, "weighted_sum: " + y + " must have k * T rows for weights " + weights);
        return add(new Op.WeightedSum(y, weights), TensorDesc.of(name, DType.F32, y.desc().ne(0), t));
    }

    /** {@code x} (F32, computed by the graph) seen with the shape {@code ne}: no copy. */
    public Node reshape(String name, Node x, long... ne) {
        need(x.desc().type() == DType.F32, "reshape: F32 values only: " + x);
        need(!x.isLeaf(), "reshape: of a computed value only: " + x);
        TensorDesc d = new TensorDesc(name, DType.F32, ne);
        need(d.elements() == x.desc().elements(), "reshape: " + x + " has " + x.desc().elements() + " elements, not " + d.elements());
        return add(new Op.Reshape(x), d);
    }

    public Node swiglu(String name, Node gate, Node up) {
        sameShape(gate, up);
        return add(new Op.Swiglu(gate, up), f32Like(name, gate));
    }

    public Node add(String name, Node a, Node b) {
        broadcast(a, b);
        return add(new Op.Add(a, b), f32Like(name, a));
    }

    public Node mul(String name, Node a, Node b) {
        broadcast(a, b);
        return add(new Op.Mul(a, b), f32Like(name, a));
    }

    public Node scale(String name, Node x, float s) {
        return add(new Op.Scale(x, s), f32Like(name, x));
    }

    public Node softmax(String name, Node x) {
        return add(new Op.Softmax(x), f32Like(name, x));
    }

    public Node convert(String name, Node x, DType to) {
        need(to == DType.F32 || to == DType.F16 || to == DType.BF16, "convert: to F32, F16 or BF16 only");
        return add(new Op.Convert(x, to), new TensorDesc(name, to, x.desc().ne()));
    }

    private static TensorDesc f32Like(String name, Node x) {
        return new TensorDesc(name, DType.F32, x.desc().ne());
    }

    private static void sameShape(Node a, Node b) {
        need(a.desc().elements() == b.desc().elements() && a.desc().ne(0) == b.desc().ne(0), "shapes differ: " + a + " / " + b);
    }

    private static void broadcast(Node a, Node b) {
        need(a.desc().ne(0) == b.desc().ne(0) && (b.desc().rows() == 1 || b.desc().rows() == a.desc().rows()),
                "cannot broadcast " + b + " over " + a);
    }

    private static void need(boolean ok, String what) {
        if (!ok) throw new HearthException("graph: " + what);
    }
}
