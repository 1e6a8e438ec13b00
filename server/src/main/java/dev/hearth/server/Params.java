package dev.hearth.server;

import dev.hearth.server.http.ApiError;

import java.util.List;
import java.util.Map;

/** Typed reads of a JSON request's fields, with OpenAI's wording and codes for what is wrong. */
final class Params {
    private final Map<String, Object> body;

    Params(Map<String, Object> body) {
        this.body = body;
    }

    boolean has(String name) {
        return body.get(name) != null;
    }

    Object raw(String name) {
        return body.get(name);
    }

    static String typeName(Object v) {
        return switch (v) {
            case null -> "null";
            case String s -> "a string";
            case Boolean b -> "a boolean";
            case Long l -> "an integer";
            case Number n -> "a decimal";
            case Map<?, ?> m -> "an object";
            case List<?> l -> "an array";
            default -> "a value";
        };
    }

    static ApiError wrongType(String name, String expected, Object got) {
        return ApiError.invalid(name, "invalid_type", "Invalid type for '" + name + "': expected " + expected + ", but got " + typeName(got) + " instead.");
    }

    static ApiError missing(String name) {
        return ApiError.invalid(name, "missing_required_parameter", "Missing required parameter: '" + name + "'.");
    }

    Boolean bool(String name) {
        Object v = body.get(name);
        if (v == null) return null;
        if (v instanceof Boolean b) return b;
        throw wrongType(name, "a boolean", v);
    }

    String string(String name) {
        Object v = body.get(name);
        if (v == null) return null;
        if (v instanceof String s) return s;
        throw wrongType(name, "a string", v);
    }

    /** A whole number (a decimal with no fraction is taken too), at least {@code min}. */
    Long integer(String name, long min, long max) {
        Object v = body.get(name);
        if (v == null) return null;
        long n;
        if (v instanceof Long l) n = l;
        else if (v instanceof Double d && d == Math.rint(d) && Math.abs(d) < 9e15) n = d.longValue();
        else throw wrongType(name, "an integer", v);
        if (n < min) {
            throw ApiError.invalid(name, "integer_below_min_value", "Invalid '" + name + "': integer below minimum value. Expected a value >= " + min + ", but got " + n + " instead.");
        }
        if (n > max) {
            throw ApiError.invalid(name, "integer_above_max_value", "Invalid '" + name + "': integer above maximum value. Expected a value <= " + max + ", but got " + n + " instead.");
        }
        return n;
    }

    Double number(String name, double min, double max) {
        Object v = body.get(name);
        if (v == null) return null;
        if (!(v instanceof Number num)) throw wrongType(name, "a number", v);
        double d = num.doubleValue();
        if (Double.isNaN(d) || d < min) {
            throw ApiError.invalid(name, "decimal_below_min_value", "Invalid '" + name + "': decimal below minimum value. Expected a value >= " + min + ", but got " + num + " instead.");
        }
        if (d > max) {
            throw ApiError.invalid(name, "decimal_above_max_value", "Invalid '" + name + "': decimal above maximum value. Expected a value <= " + max + ", but got " + num + " instead.");
        }
        return d;
    }

    /** {@code stop}: a string or an array of up to {@code max} strings. */
    List<String> strings(String name, int max) {
        Object v = body.get(name);
        if (v == null) return List.of();
        if (v instanceof String s) return List.of(s);
        if (!(v instanceof List<?> l)) throw wrongType(name, "a string or an array of strings", v);
        if (l.size() > max) {
            throw ApiError.invalid(name, "array_above_max_length", "Invalid '" + name + "': array too long. Expected an array with maximum length " + max + ", but got an array with length " + l.size() + " instead.");
        }
        for (int i = 0; i < l.size(); i++) {
            if (!(l.get(i) instanceof String)) throw wrongType(name + "[" + i + "]", "a string", l.get(i));
        }
        @SuppressWarnings("unchecked")
        List<String> r = (List<String>) l;
        return List.copyOf(r);
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> object(String name) {
        Object v = body.get(name);
        if (v == null) return null;
        if (v instanceof Map<?, ?> m) return (Map<String, Object>) m;
        throw wrongType(name, "an object", v);
    }
}
