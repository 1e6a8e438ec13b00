package dev.hearth.runtime.backend;

/** An ordered queue of work on one device. */
public interface Stream extends AutoCloseable {
    /** Computes a whole split (never one op at a time), in order; may return before it finishes. */
    void compute(Subgraph split);

    /** Waits until all work sent so far has finished. */
    void synchronize();

    @Override
    default void close() {
    }
}
