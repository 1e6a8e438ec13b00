package dev.hearth.server;

import dev.hearth.llama.Session;
import dev.hearth.llama.sampling.SamplerParams;
import dev.hearth.llama.tokenizer.Tokenizer;

import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Generation for an answer that may call tools. With tool_choice "auto" it is plain generation;
 * "required" or a named function needs decoding constrained to one call in the model's format.
 */
final class ToolDecoding {
    private ToolDecoding() {
    }

    static Generation.Result run(Session session, Tokenizer tok, int[] prompt, int maxTokens, SamplerParams params, List<String> stops,
                                 Generation.Sink sink, BooleanSupplier cancelled, ToolTurn tools) {
        return Generation.run(session, tok, prompt, maxTokens, params, stops, sink, cancelled);
    }
}
