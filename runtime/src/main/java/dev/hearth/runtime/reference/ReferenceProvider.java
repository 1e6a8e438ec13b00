package dev.hearth.runtime.reference;

import dev.hearth.runtime.backend.BackendProvider;
import dev.hearth.runtime.backend.Device;

import java.util.List;

/**
 * The reference backend: one host device that computes every op with plain scalar Java. It is
 * the numerical spec that every other backend is checked against, and the device of last resort.
 */
public final class ReferenceProvider implements BackendProvider {
    /** Sorts after every real backend. */
    public static final int PRIORITY = 10_000;

    private final ReferenceDevice device = new ReferenceDevice(this, "reference");

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public List<Device> devices() {
        return List.of(device);
    }

    @Override
    public int priority() {
        return PRIORITY;
    }
}
