package dev.hearth.backend.cuda;

import java.util.EnumMap;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The driver objects one device holds: each is entered when created and struck off when
 * destroyed, so that closing the device can show that nothing is left behind. Handles are the
 * JCuda objects themselves, compared by identity; entering one twice or striking off one that
 * is not there (a double free) fails.
 */
final class CudaLedger {
    /** What the driver created. */
    enum Kind {
        /** cuMemAlloc: buffers, plan scratch. */
        DEVICE_MEMORY,
        /** cuMemHostAlloc: the staging buffers. */
        PINNED_HOST,
        EVENT,
        STREAM,
        GRAPH,
        GRAPH_EXEC,
        /** cuModuleLoadData: the kernels' PTX modules. */
        MODULE
    }

    private final Map<Object, Kind> live = new IdentityHashMap<>();

    /** Enters {@code handle}, just created. */
    synchronized void opened(Kind kind, Object handle) {
        Kind was = live.putIfAbsent(handle, kind);
        if (was != null) throw new IllegalStateException(kind + " entered twice (already there as " + was + ")");
    }

    /** Strikes off {@code handle}, just destroyed. */
    synchronized void closed(Kind kind, Object handle) {
        Kind was = live.get(handle);
        if (was != kind) throw new IllegalStateException(kind + " struck off but " + (was == null ? "not there" : "entered as " + was));
        live.remove(handle);
    }

    /** How many objects of {@code kind} are live. */
    synchronized int count(Kind kind) {
        int n = 0;
        for (Kind k : live.values()) if (k == kind) n++;
        return n;
    }

    synchronized boolean isEmpty() {
        return live.isEmpty();
    }

    /** The live objects by kind, "DEVICE_MEMORY 2, EVENT 2", or "nothing live". */
    @Override
    public synchronized String toString() {
        Map<Kind, Integer> counts = new EnumMap<>(Kind.class);
        for (Kind k : live.values()) counts.merge(k, 1, Integer::sum);
        if (counts.isEmpty()) return "nothing live";
        StringBuilder s = new StringBuilder();
        counts.forEach((k, n) -> s.append(s.isEmpty() ? "" : ", ").append(k).append(' ').append(n));
        return s.toString();
    }
}
