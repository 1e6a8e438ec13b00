package dev.hearth.llama;

import dev.hearth.runtime.backend.Device;

import java.util.List;

/**
 * Where a model's memory lives: the device of each layer (index -1 the embedding, 0..n-1 the
 * blocks, n the output head); each block's KV cache lives with it. {@code expertDevice[l]}, where
 * given and not null, holds block l's expert tensors instead (experts in RAM, the rest on the GPU).
 * {@code fallbacks} compute what a layer's device cannot, first one first.
 */
public record Placement(Device[] layerDevice, List<Device> fallbacks, Device[] expertDevice) {
    public Placement(Device[] layerDevice, List<Device> fallbacks) {
        this(layerDevice, fallbacks, null);
    }

    public static Placement single(Device d, int layers, List<Device> fallbacks) {
        Device[] a = new Device[layers + 2];
        java.util.Arrays.fill(a, d);
        return new Placement(a, fallbacks);
    }

    /** The device of weight {@code name} of layer {@code l}: the layer's, or for expert tensors the experts' device of that block where one is set. */
    public Device device(String name, int l) {
        if (expertDevice != null && l >= 0 && l < expertDevice.length && expertDevice[l] != null && ModelWeights.isExpert(name)) {
            return expertDevice[l];
        }
        return device(l);
    }

    /** The device of layer {@code l} (-1 embedding, layers = output head). */
    public Device device(int l) {
        return layerDevice[l + 1];
    }
}
