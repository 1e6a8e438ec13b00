package dev.hearth.backend.opencl;

import java.util.Map;
import java.util.TreeMap;

/**
 * The OpenCL objects a device holds now, by kind ("context", "queue", "program", "kernel",
 * "mem"): every create of the backend counts here and every release counts back, so a closed
 * device can show that it let go of everything (DeviceInfrastructureTest).
 */
final class LiveObjects {
    private final Map<String, Integer> counts = new TreeMap<>();

    synchronized void created(String kind) {
        counts.merge(kind, 1, Integer::sum);
    }

    synchronized void released(String kind) {
        Integer n = counts.get(kind);
        if (n == null || n <= 0) throw new IllegalStateException("released a " + kind + " that was not counted as live");
        if (n == 1) counts.remove(kind); else counts.put(kind, n - 1);
    }

    /** The objects live now, all kinds together. */
    synchronized int total() {
        return counts.values().stream().mapToInt(Integer::intValue).sum();
    }

    @Override
    public synchronized String toString() {
        return counts.isEmpty() ? "none" : counts.toString();
    }
}
