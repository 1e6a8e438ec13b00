package dev.hearth.runtime.gguf;

import dev.hearth.runtime.HearthException;

/** A GGUF file that cannot be read: names the file, the byte offset and what was wrong. */
public final class GgufException extends HearthException {
    public GgufException(String file, long offset, String what) {
        super(file + ": not a valid GGUF file at byte " + offset + ": " + what);
    }

    public GgufException(String message) {
        super(message);
    }
}
