package dev.hearth.cli;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code hearth} launcher and {@code build} script: the program's output reaches the terminal in
 * the program's order (the JVM's incubator warning filtered out all the same), and the build's
 * output carries no colour codes.
 */
class LauncherTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    /** Runs {@code script} under bash in the repository root, stdout and stderr merged; returns the output. */
    private static String bash(String script) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", script).directory(ROOT.toFile()).redirectErrorStream(true);
        pb.environment().put("HEARTH_CLASSPATH", System.getProperty("java.class.path"));
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), script);
        return new String(out, StandardCharsets.UTF_8);
    }

    @Test
    void stderrKeepsTheProgramsOrder() throws Exception {
        assertTrue(Files.isRegularFile(ROOT.resolve("hearth")), "the launcher at " + ROOT);
        // the shell prints rc only after hearth exits: the error must come first, every time
        String out = bash("for i in 1 2 3 4 5 6; do ./hearth info /nonexistent/bad.gguf; echo rc=$?; done");
        List<String> lines = out.lines().filter(l -> !l.isBlank()).toList();
        assertEquals(12, lines.size(), out);
        for (int i = 0; i < lines.size(); i += 2) {
            assertTrue(lines.get(i).startsWith("hearth info: "), "the error before the exit status: " + out);
            assertEquals("rc=1", lines.get(i + 1), out);
        }
        assertFalse(out.contains("incubator"), out);
    }

    @Test
    void stdoutAndStderrInterleaveAsWritten() throws Exception {
        // pull prints its error to stderr after the usage check; tokenize writes ids to stdout: one run
        // writing both keeps their order when both go to one file
        String out = bash("./hearth tokenize -m /nonexistent.gguf x; echo after");
        List<String> lines = out.lines().filter(l -> !l.isBlank()).toList();
        assertEquals(2, lines.size(), out);
        assertTrue(lines.get(0).startsWith("hearth tokenize: "), out);
        assertEquals("after", lines.get(1));
    }

    @Test
    void buildOutputHasNoColourCodes() throws Exception {
        String out = bash(". ci/plain.sh; printf '\\033[0m\\033[0m[ERROR] \\033[1;31mfailed\\033[m here\\n' | hearth_plain");
        assertEquals("[ERROR] failed here\n", out);
        for (String script : List.of("hearth", "build", "ci/test")) {
            String text = Files.readString(ROOT.resolve(script));
            for (String line : text.lines().filter(l -> l.matches("\\s*(\\(.*)?mvn .*")).toList()) {
                assertTrue(text.contains("hearth_plain"), script + " passes Maven's output through hearth_plain: " + line);
            }
        }
    }
}
