package dev.hearth.runtime.backend;

/** What a buffer holds; a backend may place them differently. */
public enum BufferUsage {
    WEIGHTS, KV, COMPUTE
}
