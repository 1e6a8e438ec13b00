package dev.hearth.runtime.backend;

import dev.hearth.runtime.tensor.TensorDesc;

/** Where a tensor's bytes live: a buffer and a byte offset in it. */
public record TensorRef(TensorDesc desc, Buffer buffer, long offset) {
    public long bytes() {
        return desc.bytes();
    }
}
