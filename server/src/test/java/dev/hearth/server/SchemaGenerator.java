package dev.hearth.server;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Random JSON schemas over the keywords constrained decoding supports, from a seed: objects with
 * required and optional properties, closed or not, nested objects and arrays (items, prefixItems,
 * min/maxItems), strings with lengths, enums, patterns and formats, integers and numbers with and
 * without bounds, booleans, null, type lists, const, anyOf/oneOf and $ref to $defs.
 */
final class SchemaGenerator {
    private static final List<String> PATTERNS = List.of("^[A-Z]{2}-[0-9]{2,4}$", "^(yes|no|maybe)!?$", "^[a-z]+( [a-z]+){0,2}$",
            "^\\d{3}-\\d{4}$", "^#[0-9a-f]{6}$", "^[^\"@]{1,8}$");
    private static final List<String> FORMATS = List.of("date", "time", "date-time", "uuid", "email");
    private final SplittableRandom r;
    private Map<String, Object> defs;

    SchemaGenerator(long seed) {
        r = new SplittableRandom(seed);
    }

    Map<String, Object> next() {
        defs = new LinkedHashMap<>();
        Map<String, Object> s = r.nextInt(5) == 0 ? value(0) : object(0);
        if (!defs.isEmpty()) s.put("$defs", defs);
        return s;
    }

    private Map<String, Object> object(int depth) {
        Map<String, Object> props = new LinkedHashMap<>();
        List<String> required = new ArrayList<>();
        int n = 1 + r.nextInt(depth == 0 ? 4 : 3);
        for (int i = 0; i < n; i++) {
            String name = List.of("name", "age", "tags", "city", "score", "ok", "id", "when", "kind", "note").get(r.nextInt(10)) + i;
            props.put(name, value(depth + 1));
            if (r.nextInt(3) > 0) required.add(name);
        }
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("type", "object");
        s.put("properties", props);
        if (!required.isEmpty()) s.put("required", required);
        if (r.nextBoolean()) s.put("additionalProperties", false);
        if (r.nextInt(4) == 0) s.put("description", "a thing");
        return s;
    }

    private Map<String, Object> value(int depth) {
        int kind = r.nextInt(depth >= 2 ? 11 : 15);
        Map<String, Object> s = new LinkedHashMap<>();
        switch (kind) {
            case 0, 1 -> {
                s.put("type", "string");
                s.put("maxLength", 1 + r.nextInt(12));
                if (r.nextBoolean()) s.put("minLength", r.nextInt(2));
            }
            case 2 -> s.put("enum", List.of("red", "green", "blue", "light grey").subList(0, 1 + r.nextInt(4)));
            case 3 -> {
                s.put("type", "string");
                s.put(r.nextBoolean() ? "pattern" : "format", r.nextBoolean() ? PATTERNS.get(r.nextInt(PATTERNS.size())) : FORMATS.get(r.nextInt(FORMATS.size())));
                if (s.containsKey("format")) s.put("format", FORMATS.get(r.nextInt(FORMATS.size())));
                else s.put("pattern", PATTERNS.get(r.nextInt(PATTERNS.size())));
            }
            case 4 -> {
                s.put("type", "integer");
                if (r.nextBoolean()) {
                    long lo = r.nextInt(-100, 100);
                    s.put("minimum", lo);
                    s.put("maximum", lo + r.nextInt(1, 500));
                }
            }
            case 5 -> {
                s.put("type", "number");
                if (r.nextBoolean()) {
                    s.put("minimum", r.nextInt(-5, 5) + 0.5);
                    s.put(r.nextBoolean() ? "maximum" : "exclusiveMaximum", r.nextInt(6, 40));
                }
            }
            case 6 -> s.put("type", "boolean");
            case 7 -> s.put("type", r.nextBoolean() ? "null" : List.of("integer", "null"));
            case 8 -> s.put("const", r.nextBoolean() ? "fixed" : 42L);
            case 9 -> {
                s.put("type", r.nextBoolean() ? List.of("string", "boolean") : List.of("number", "null"));
                s.put("maxLength", 6);
            }
            case 10 -> s.put(r.nextBoolean() ? "anyOf" : "oneOf", List.of(Map.of("type", "integer", "maximum", 9, "minimum", 0), Map.of("type", "boolean")));
            case 11, 12 -> {
                s.put("type", "array");
                if (r.nextInt(3) == 0) {
                    s.put("prefixItems", List.of(Map.of("type", "boolean"), Map.of("type", "string", "maxLength", 4)));
                    s.put("items", false);
                } else {
                    s.put("items", value(depth + 1));
                    s.put("minItems", r.nextInt(2));
                    s.put("maxItems", 1 + r.nextInt(3));
                }
            }
            case 13 -> {
                String name = "def" + defs.size();
                defs.put(name, object(depth + 1));
                s.put("$ref", "#/$defs/" + name);
            }
            default -> s = object(depth + 1);
        }
        return s;
    }
}
