package dev.hearth.runtime.graph;

import dev.hearth.runtime.tensor.TensorDesc;

import java.util.List;

/**
 * One value in a {@link Graph}: the op that makes it and the tensor it is. Identity is the
 * node's index in its graph.
 */
public final class Node {
    private final int id;
    private final Op op;
    private final TensorDesc desc;
    private final List<Node> inputs;

    Node(int id, Op op, TensorDesc desc) {
        this.id = id;
        this.op = op;
        this.desc = desc;
        this.inputs = List.copyOf(op.inputs());
    }

    public int id() {
        return id;
    }

    public Op op() {
        return op;
    }

    public TensorDesc desc() {
        return desc;
    }

    public String name() {
        return desc.name();
    }

    public List<Node> inputs() {
        return inputs;
    }

    public boolean isLeaf() {
        return op instanceof Op.Leaf;
    }

    @Override
    public String toString() {
        return "#" + id + " " + op.getClass().getSimpleName() + " " + desc;
    }
}
