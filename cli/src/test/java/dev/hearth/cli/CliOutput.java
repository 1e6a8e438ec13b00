package dev.hearth.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** A command run in the test's process with its stdout and stderr caught: its exit code and both texts. */
record CliOutput(int rc, String out, String err) {
    /** The command's body: returns its exit code. */
    interface Body {
        int run() throws Exception;
    }

    /** {@code hearth ARGV}, through {@link Main#run}. */
    static CliOutput main(String... argv) {
        try {
            return of(() -> Main.run(argv));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs {@code body} with System.out and System.err caught, and puts them back after. */
    static CliOutput of(Body body) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out, oldErr = System.err;
        int rc;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            rc = body.run();
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new CliOutput(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
