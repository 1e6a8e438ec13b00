package dev.hearth.runtime.sched;

import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.graph.Node;

import java.util.List;

/**
 * Consecutive nodes that one device computes, and the values it needs from elsewhere: host
 * inputs and results of other devices, copied in before the split runs.
 */
public record Split(Device device, List<Node> nodes, List<Node> imports) {
}
