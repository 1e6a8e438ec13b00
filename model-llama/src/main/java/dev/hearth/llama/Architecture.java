package dev.hearth.llama;

import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.gguf.GgufFile;

/**
 * One model architecture (a value of {@code general.architecture}): everything the rest of
 * Hearth needs to know of it. The engine, the session, the commands and the offload planner see
 * models only through this interface, {@link ModelConfig}, {@link ModelWeights} and
 * {@link ModelGraph}. An implementation is one class in {@code dev.hearth.llama.arch} and an
 * entry in {@link Architectures}; see docs/models.md.
 */
public interface Architecture {
    /** The value of {@code general.architecture}. */
    String name();

    /** The hyper-parameters of {@code f}'s model, checked for range (a one-line error naming the key where not). */
    ModelConfig config(GgufFile f);

    /**
     * The weights the model needs, with their shapes (ggml order): {@code t.need(...)} for each,
     * {@code t.optional(...)} for those a file may leave out, {@code t.slice(...)} for a part of a
     * fused tensor. {@link ModelWeights} checks them against the file.
     */
    void weights(ModelConfig c, ModelWeights.Table t);

    /**
     * The forward pass from the token ids to the logits, built on {@code b}: its inputs, the
     * weights, the KV cache of each layer, and the helpers of {@link ModelGraph.Builder}.
     */
    Node forward(ModelGraph.Builder b);
}
