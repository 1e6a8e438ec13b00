package dev.hearth.runtime.backend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;

/** The providers on the class path. */
public final class Backends {
    private static volatile List<BackendProvider> providers;

    private Backends() {
    }

    public static List<BackendProvider> providers() {
        List<BackendProvider> p = providers;
        if (p == null) {
            p = new ArrayList<>();
            for (BackendProvider bp : ServiceLoader.load(BackendProvider.class)) p.add(bp);
            p.sort(Comparator.comparingInt(BackendProvider::priority));
            providers = p = List.copyOf(p);
        }
        return p;
    }

    public static BackendProvider provider(String name) {
        for (BackendProvider p : providers()) if (p.name().equals(name)) return p;
        return null;
    }

    /** Every device of every provider. */
    public static List<Device> allDevices() {
        List<Device> all = new ArrayList<>();
        for (BackendProvider p : providers()) all.addAll(p.devices());
        return all;
    }
}
