package dev.hearth.runtime.backend;

/** Free and total bytes of a device's memory, asked of the driver at the time of the call. */
public record MemoryInfo(long free, long total) {
}
