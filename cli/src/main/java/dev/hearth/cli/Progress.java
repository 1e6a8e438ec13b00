package dev.hearth.cli;

import dev.hearth.llama.Engine;

import java.io.PrintStream;

/** A one-line progress bar on stderr for long loads and uploads; silent for small ones. */
final class Progress implements Engine.Progress {
    private String label;
    private final PrintStream err = System.err;
    private int lastPercent = -1;
    private long startNanos = System.nanoTime();

    Progress(String label) {
        this.label = label;
    }

    @Override
    public void phase(String what) {
        label = what;
        lastPercent = -1;
        startNanos = System.nanoTime();
    }

    @Override
    public void update(long done, long total) {
        if (total < (64L << 20)) return;
        int pct = (int) (done * 100 / total);
        if (pct == lastPercent) return;
        lastPercent = pct;
        int width = 30;
        int fill = pct * width / 100;
        double secs = (System.nanoTime() - startNanos) / 1e9;
        err.printf("\r%s [%s%s] %3d%% %,d/%,d MiB %.1fs", label, "#".repeat(fill), " ".repeat(width - fill), pct,
                done >> 20, total >> 20, secs);
        if (done >= total) err.println();
        err.flush();
    }
}
