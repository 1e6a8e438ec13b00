package dev.hearth.runtime;

/**
 * An error the user can act on. The message says what was wrong and what to do; the CLI prints
 * it on one line, without a stack trace.
 */
public class HearthException extends RuntimeException {
    public HearthException(String message) {
        super(message);
    }

    public HearthException(String message, Throwable cause) {
        super(message, cause);
    }
}
