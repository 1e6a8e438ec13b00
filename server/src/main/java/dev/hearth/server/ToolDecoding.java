package dev.hearth.server;

import dev.hearth.llama.Session;
import dev.hearth.llama.constrain.JsonSchemaConstraint;
import dev.hearth.llama.constrain.TokenConstraint;
import dev.hearth.llama.constrain.UnsupportedSchemaException;
import dev.hearth.llama.sampling.SamplerParams;
import dev.hearth.llama.tokenizer.Tokenizer;
import dev.hearth.server.http.ApiError;
import dev.hearth.server.tools.ToolFormat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Generation for an answer that may call tools. With tool_choice "auto" it is plain generation;
 * with "required" or a named function, decoding is constrained to one call in the model's format:
 * the family's opening text, a JSON object with the function's name (one of the tools, or the
 * named one) and arguments valid for that function's parameter schema, the closing text.
 */
final class ToolDecoding {
    private ToolDecoding() {
    }

    /**
     * One generation of an answer, for either API: with a forced call ({@code tools} with a
     * constraint) decoding is held to that call; otherwise to {@code format} (the response
     * format; null: free text). Where tools are active their tokenizer is used, which shows call
     * markers that are control tokens as text.
     */
    static Generation.Result run(Session session, Tokenizer base, ToolTurn tools, TokenConstraint format, int[] prompt, int maxTokens,
                                 SamplerParams params, List<String> stops, Generation.Sink sink, BooleanSupplier cancelled) {
        Tokenizer tok = tools != null ? tools.tokenizer() : base;
        TokenConstraint constraint = tools != null && tools.constraint() != null ? tools.constraint() : format;
        return Generation.run(session, tok, prompt, maxTokens, params, constraint, stops, sink, cancelled);
    }

    /** The constraint to one call of one of the callable tools, in {@code format}; a 400 where a schema cannot be enforced. */
    static TokenConstraint forcedCall(Tokenizer tok, ToolFormat format, ToolRequest request) {
        try {
            List<Map<String, Object>> callable = request.callable();
            if (format == ToolFormat.GPT_OSS && callable.size() == 1) {
                // the name is in the opening text; the JSON is the arguments
                return JsonSchemaConstraint.of(tok, arguments(ToolRequest.parameters(callable.getFirst())),
                        format.namedCallPrefix(ToolRequest.functionName(callable.getFirst())), "");
            }
            return JsonSchemaConstraint.of(tok, callSchema(format, callable), format.anyCallPrefix(), format.callSuffix());
        } catch (UnsupportedSchemaException e) {
            throw ApiError.invalid("tools", "unsupported_schema", "With tool_choice '" + (request.forced() != null ? request.forced() : request.choice())
                    + "' the call must follow the function's parameters schema: " + e.getMessage()
                    + " Leave those keywords out, or use tool_choice 'auto'.");
        }
    }

    /**
     * A function's parameters as the schema of its call's arguments: an object schema that
     * declares no properties (and says nothing of additional ones) takes none, so a function
     * without parameters is called with {}.
     */
    static Map<String, Object> arguments(Map<String, Object> parameters) {
        boolean noProperties = !(parameters.get("properties") instanceof Map<?, ?> p) || p.isEmpty();
        if (!noProperties || parameters.containsKey("additionalProperties") || !"object".equals(parameters.getOrDefault("type", "object"))) {
            return parameters;
        }
        Map<String, Object> closed = new LinkedHashMap<>(parameters);
        closed.put("type", "object");
        closed.put("additionalProperties", false);
        return closed;
    }

    /** {"anyOf": [{"name": const, "arguments": schema}, ...]} with the family's key names. */
    static Map<String, Object> callSchema(ToolFormat format, List<Map<String, Object>> tools) {
        List<Object> alternatives = new ArrayList<>();
        for (Map<String, Object> t : tools) {
            Map<String, Object> props = new LinkedHashMap<>();
            props.put(format.nameKey(), Map.of("const", ToolRequest.functionName(t)));
            props.put(format.argumentsKey(), arguments(ToolRequest.parameters(t)));
            Map<String, Object> call = new LinkedHashMap<>();
            call.put("type", "object");
            call.put("properties", props);
            call.put("required", List.of(format.nameKey(), format.argumentsKey()));
            call.put("additionalProperties", false);
            alternatives.add(call);
        }
        return alternatives.size() == 1 ? (Map<String, Object>) alternatives.getFirst() : Map.of("anyOf", alternatives);
    }
}
