package dev.hearth.runtime.gguf;

import dev.hearth.runtime.tensor.TensorDesc;

/** One tensor's entry: its description and where its data starts, relative to the data section. */
public record GgufTensorInfo(TensorDesc desc, long offset) {
    public String name() {
        return desc.name();
    }
}
