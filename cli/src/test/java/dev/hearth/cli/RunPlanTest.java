package dev.hearth.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code hearth run} prints the placement table at start on any backend, the CPU's too (as the README says). */
class RunPlanTest {
    @Test
    void runPrintsThePlanOnTheCpu() throws Exception {
        String model = StoriesTest.models().resolve("stories260K-f32.gguf").toString();
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out, oldErr = System.err;
        int rc;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            rc = RunCommand.run(new String[] {"-m", model, "-p", "Once upon a time", "-n", "4", "--temp", "0", "--backend", "cpu", "-t", "1"});
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        assertEquals(0, rc);
        String e = err.toString(StandardCharsets.UTF_8);
        assertTrue(e.lines().anyMatch(l -> l.startsWith("device") && l.contains("layers") && l.contains("weights")), e);
        assertTrue(e.contains("0-4 +head"), e);
        assertTrue(e.contains("context: "), e);
        assertTrue(e.indexOf("context: ") < Math.max(0, e.indexOf("tok/s")) || !e.contains("tok/s"), "the plan comes at start: " + e);
    }
}
