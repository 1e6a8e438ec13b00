package dev.hearth.cli;

import dev.hearth.runtime.backend.BackendProvider;
import dev.hearth.runtime.backend.Backends;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.backend.MemoryInfo;

/** {@code hearth devices}: every backend, its devices and their memory, or why it has none. */
final class DevicesCommand {
    static int run(String[] argv) {
        if (Main.help(argv, "usage: hearth devices\n")) return 0;
        new Args("devices", argv, 0);
        for (BackendProvider p : Backends.providers()) {
            if (p.devices().isEmpty()) {
                System.out.printf("%-10s %s%n", p.name(), p.unavailableReason());
                continue;
            }
            for (Device d : p.devices()) {
                MemoryInfo m = d.memory();
                System.out.printf("%-10s %-50s %s  free %,d MiB of %,d MiB%n", p.name(), d.name(), d.isGpu() ? "gpu" : "   ",
                        m.free() >> 20, m.total() >> 20);
            }
        }
        return 0;
    }
}
