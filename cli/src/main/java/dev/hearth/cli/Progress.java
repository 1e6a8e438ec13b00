package dev.hearth.cli;

import dev.hearth.llama.Engine;

import java.io.PrintStream;

/**
 * Progress of long loads and uploads on stderr; silent for small ones. On a terminal, one line
 * repainted in place; elsewhere (a file, a pipe) a line at the start, one at each quarter and
 * one at the end, so that a log does not fill with repaints.
 */
final class Progress implements Engine.Progress {
    private String label;
    private final PrintStream err;
    private final boolean terminal;
    private int lastPercent = -1;
    private int lastQuarter = -1;
    private long startNanos = System.nanoTime();

    Progress(String label) {
        this(label, System.err, Terminal.stderr());
    }

    Progress(String label, PrintStream err, boolean terminal) {
        this.label = label;
        this.err = err;
        this.terminal = terminal;
    }

    @Override
    public void phase(String what) {
        label = what;
        lastPercent = -1;
        lastQuarter = -1;
        startNanos = System.nanoTime();
    }

    @Override
    public void update(long done, long total) {
        if (total < (64L << 20)) return;
        int pct = (int) Math.min(100, Math.max(0, done * 100 / total));
        if (pct == lastPercent) return;
        lastPercent = pct;
        double secs = (System.nanoTime() - startNanos) / 1e9;
        if (!terminal) {
            int quarter = pct / 25; // 0 at the start, 1-3 on the way, 4 at the end
            if (quarter == lastQuarter) return;
            lastQuarter = quarter;
            err.printf("%s: %3d%% %,d/%,d MiB %.1fs%n", label, pct, done >> 20, total >> 20, secs);
            err.flush();
            return;
        }
        int width = 30;
        int fill = pct * width / 100;
        err.printf("\r%s [%s%s] %3d%% %,d/%,d MiB %.1fs", label, "#".repeat(fill), " ".repeat(width - fill), pct,
                done >> 20, total >> 20, secs);
        if (done >= total) err.println();
        err.flush();
    }
}
