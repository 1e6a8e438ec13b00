package dev.hearth.runtime.backend;

import dev.hearth.runtime.graph.Node;

import java.util.List;
import java.util.Map;

/**
 * A run of consecutive graph nodes that one device computes. Every node it computes and every
 * node it reads has a {@link TensorRef} on this device (the scheduler copied the ones from
 * elsewhere before). A backend may fuse or reorder within it, and may cache work keyed on the
 * subgraph's identity: the scheduler hands the same object for each compute of a plan.
 */
public record Subgraph(Device device, List<Node> nodes, Map<Node, TensorRef> tensors) {
    public TensorRef ref(Node n) {
        TensorRef r = tensors.get(n);
        if (r == null) throw new IllegalStateException("no tensor for " + n + " on " + device.name());
        return r;
    }
}
