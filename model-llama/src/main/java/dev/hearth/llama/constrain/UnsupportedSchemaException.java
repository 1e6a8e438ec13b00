package dev.hearth.llama.constrain;

import dev.hearth.runtime.HearthException;

import java.util.List;

/** A JSON schema that uses keywords (or values of them) that constrained decoding cannot enforce. */
public final class UnsupportedSchemaException extends HearthException {
    private final List<String> keywords;

    public UnsupportedSchemaException(List<String> keywords, String message) {
        super(message);
        this.keywords = List.copyOf(keywords);
    }

    /** The unsupported keywords, each with where it was found (e.g. "properties.age: multipleOf"). */
    public List<String> keywords() {
        return keywords;
    }
}
