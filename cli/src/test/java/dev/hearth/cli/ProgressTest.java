package dev.hearth.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Progress where stderr is not a terminal: a line at the start, a few on the way, one at the end; no repaints. */
class ProgressTest {
    private static final long MIB = 1 << 20;

    @Test
    void loadProgressIntoAFile() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Progress p = new Progress("repacking", new PrintStream(buf, true, StandardCharsets.UTF_8), false);
        long total = 1000 * MIB;
        for (long done = 0; done <= total; done += MIB) p.update(done, total);
        String out = buf.toString(StandardCharsets.UTF_8);
        assertFalse(out.contains("\r"), out);
        List<String> lines = out.lines().toList();
        assertTrue(lines.size() >= 2 && lines.size() <= 6, out);
        assertTrue(lines.getFirst().contains("  0%"), out);
        assertTrue(lines.getLast().contains("100%"), out);
    }

    @Test
    void loadProgressOnATerminalRepaints() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Progress p = new Progress("repacking", new PrintStream(buf, true, StandardCharsets.UTF_8), true);
        long total = 100 * MIB;
        for (long done = 0; done <= total; done += MIB) p.update(done, total);
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(101, out.chars().filter(c -> c == '\r').count());
        assertEquals(1, out.chars().filter(c -> c == '\n').count(), "one line, repainted");
    }

    @Test
    void downloadProgressIntoAFile() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PullCommand.Bar bar = new PullCommand.Bar(new PrintStream(buf, true, StandardCharsets.UTF_8), "model.gguf", false);
        long total = 600 * MIB;
        for (long done = 0; done <= total; done += MIB / 4) bar.progress(done, total);
        bar.end();
        String out = buf.toString(StandardCharsets.UTF_8);
        assertFalse(out.contains("\r"), out);
        List<String> lines = out.lines().toList();
        assertTrue(lines.size() >= 2 && lines.size() <= 6, out);
        assertTrue(lines.getLast().contains("100%"), out);

        // no size known: a line at the start and one at the end
        buf.reset();
        bar = new PullCommand.Bar(new PrintStream(buf, true, StandardCharsets.UTF_8), "model.gguf", false);
        for (long done = 0; done <= 50 * MIB; done += MIB / 4) bar.progress(done, -1);
        bar.end();
        out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(2, out.lines().count(), out);
        assertTrue(out.lines().toList().getLast().contains("50.0 MiB"), out);
    }
}
