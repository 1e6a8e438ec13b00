package dev.hearth.llama.constrain;

/**
 * Limits which tokens may come next, so that the generated text stays in a language (JSON for a
 * schema, a tool call). The sampler calls {@link #mask} on the logits before it samples and
 * {@link #accept} with the token it picked; generation ends once {@link #finished()}.
 * Instances hold the state of one generation and are not thread-safe; {@link #copy} gives an
 * independent one at the same point.
 */
public interface TokenConstraint {

    /**
     * Sets the logits of tokens that may not come next to negative infinity. End-of-generation
     * tokens are allowed only when {@link #complete()}.
     */
    void mask(float[] logits);

    /**
     * Tells the constraint that at most {@code tokens} tokens (this next one included) may still be
     * generated, so that it can steer to an end in time. Called before {@link #mask}; by default ignored.
     */
    default void limit(int tokens) {
    }

    /**
     * Whether the limit shaped the text: at some step the token the model rated highest was refused
     * so that the text could end in time (the text is complete but shorter than the model wanted).
     */
    default boolean cutShort() {
        return false;
    }

    /** Advances past {@code token}, which must have been allowed by {@link #mask}. */
    void accept(int token);

    /** Whether the text accepted so far is a whole sentence of the language. */
    boolean complete();

    /** Whether the text is complete and nothing more may follow it, so generation can end here. */
    default boolean finished() {
        return complete();
    }

    /** An independent constraint in the same state. */
    TokenConstraint copy();
}
