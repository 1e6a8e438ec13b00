package dev.hearth.server;

import dev.hearth.llama.constrain.JsonSchemaConstraint;
import dev.hearth.llama.constrain.TokenConstraint;
import dev.hearth.llama.constrain.UnsupportedSchemaException;
import dev.hearth.llama.tokenizer.Tokenizer;
import dev.hearth.server.http.ApiError;

import java.util.Map;

/**
 * A request's {@code response_format}: {"type": "text"} (the default), {"type": "json_object"}
 * (any JSON object) or {"type": "json_schema", "json_schema": {"name": ..., "schema": {...},
 * "strict": ...}}; llama.cpp's top-level {@code json_schema} is taken too. Both JSON kinds are
 * enforced by constrained decoding, strict or not.
 */
record ResponseFormat(String type, Map<String, Object> schema) {
    static final ResponseFormat TEXT = new ResponseFormat("text", null);

    /** Reads response_format (or a top-level json_schema) from a request body. */
    static ResponseFormat parse(Params p) {
        Map<String, Object> rf = p.object("response_format");
        Map<String, Object> top = p.object("json_schema");
        if (rf == null) return top == null ? TEXT : new ResponseFormat("json_schema", top);
        Params f = new Params(rf);
        String type = f.string("type");
        if (type == null) throw Params.missing("response_format.type");
        return switch (type) {
            case "text" -> TEXT;
            case "json_object" -> new ResponseFormat("json_object", null);
            case "json_schema" -> {
                Object js = f.raw("json_schema");
                if (js == null) throw Params.missing("response_format.json_schema");
                if (!(js instanceof Map<?, ?> m)) throw Params.wrongType("response_format.json_schema", "an object", js);
                @SuppressWarnings("unchecked")
                Params s = new Params((Map<String, Object>) m);
                s.string("name");
                s.bool("strict");
                Object schema = s.raw("schema");
                if (schema != null && !(schema instanceof Map)) throw Params.wrongType("response_format.json_schema.schema", "an object", schema);
                @SuppressWarnings("unchecked")
                Map<String, Object> sm = (Map<String, Object>) schema;
                yield new ResponseFormat("json_schema", sm);
            }
            default -> throw ApiError.invalid("response_format", "invalid_value",
                    "Invalid value: '" + type + "'. Supported values are: 'text', 'json_object' and 'json_schema'.");
        };
    }

    /** The constraint that enforces this format, or null for text; an unsupported schema is a 400 naming its keywords. */
    TokenConstraint constraint(Tokenizer tok) {
        if (type.equals("text")) return null;
        try {
            return schema == null ? JsonSchemaConstraint.anyJsonObject(tok) : JsonSchemaConstraint.of(tok, schema, "", "");
        } catch (UnsupportedSchemaException e) {
            throw ApiError.invalid("response_format", "invalid_value", "Invalid 'response_format': " + e.getMessage()
                    + " See docs/structured-output.md.");
        }
    }
}
