package dev.hearth.server;

import dev.hearth.llama.Engine;
import dev.hearth.llama.tokenizer.Tokenizer;

import java.util.List;

/**
 * The model a server answers with: its name in the API, one engine per slot (all of the same
 * weights and context length), its tokenizer, and its chat template source (null if none).
 */
public record ServedModel(String id, List<Engine> engines, Tokenizer tokenizer, String chatTemplate) {
    public ServedModel {
        if (engines.isEmpty()) throw new IllegalArgumentException("a served model needs at least one engine");
        engines = List.copyOf(engines);
    }

    public int contextLength() {
        return engines.getFirst().contextLength();
    }
}
