package dev.hearth.llama.constrain;

import dev.hearth.llama.constrain.Grammar.Chars;
import dev.hearth.llama.constrain.Grammar.Element;
import dev.hearth.llama.constrain.Grammar.Rule;
import dev.hearth.llama.constrain.Grammar.StringBody;
import dev.hearth.runtime.json.Json;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.hearth.llama.constrain.Grammar.seq;

/**
 * Compiles a JSON schema to a {@link Grammar} whose sentences are exactly the compact JSON texts
 * (one optional space after ':' and ',') that are valid for it, or a documented subset of them:
 * <ul>
 * <li>objects: the properties in the order of {@code properties}, the required ones always, the
 * others optionally; {@code additionalProperties} other than false adds no undeclared properties
 * unless there are no declared ones (then keys are free and values follow the schema);</li>
 * <li>strings without maxLength are at most {@link #DEFAULT_MAX_STRING} characters; the escapes
 * \" \\ \/ \b \f \n \r \t are written, \\u never; patterns are matched whole;</li>
 * <li>numbers have at most 16 integer and 15 fraction digits; with minimum/maximum, no exponent;</li>
 * <li>repetition without an upper bound (* + {n,} in patterns) stops at {@link #MAX_REPEAT};
 * maxItems above {@link #MAX_ITEMS} is taken as that.</li>
 * </ul>
 * Unsupported keywords are collected over the whole schema and reported at once.
 */
final class SchemaCompiler {
    static final int DEFAULT_MAX_STRING = 1000;
    static final int MAX_REPEAT = 64;
    static final int MAX_ITEMS = 10_000;
    static final int MAX_RULES = 200_000;
    static final long MAX_INTEGER = 9_999_999_999_999_999L; // 16 digits

    static final Set<String> ANNOTATIONS = Set.of("title", "description", "$schema", "$id", "$comment", "examples", "default",
            "deprecated", "readOnly", "writeOnly", "$defs", "definitions", "$anchor");
    static final Set<String> KEYWORDS = Set.of("type", "properties", "required", "additionalProperties", "items", "prefixItems",
            "minItems", "maxItems", "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "minLength", "maxLength", "pattern", "format",
            "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "uniqueItems");
    static final Set<String> TYPES = Set.of("object", "array", "string", "number", "integer", "boolean", "null");
    static final Map<String, String> FORMATS = Map.of(
            "date", Patterns.DATE,
            "time", Patterns.TIME,
            "date-time", Patterns.DATE + "T" + Patterns.TIME,
            "uuid", "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "email", "[a-z0-9]{1,20}(\\.[a-z0-9]{1,20}){0,2}@[a-z0-9]{1,20}(\\.[a-z0-9]{1,20}){0,2}\\.(com|org|net|edu|io|dev)");

    private static final class Patterns {
        static final String DATE = "[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])";
        static final String TIME = "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|\\+(0[0-9]|1[0-4]):[0-5][0-9]|-(0[1-9]|1[0-2]):[0-5][0-9])";
    }

    private final Map<String, Object> root;
    private final List<String> unsupported = new ArrayList<>();
    private final Map<String, Rule> refs = new HashMap<>();
    private final Rule ws = new Rule("ws").alt().alt(seq(" "));
    private final Rule digit = new Rule("digit").alt(Chars.range('0', '9'));
    private Rule any;
    private int counter;

    private SchemaCompiler(Map<String, Object> root) {
        this.root = root;
    }

    /** The rule of prefix, a value for {@code schema} (null or empty: any object), suffix; or UnsupportedSchemaException. */
    static Rule compile(Map<String, Object> schema, String prefix, String suffix) {
        SchemaCompiler c = new SchemaCompiler(schema == null ? Map.of() : schema);
        Rule value;
        Grammar.BUDGET.set(new int[]{MAX_RULES});
        try {
            value = schema == null || schema.isEmpty() ? c.anyObject() : c.value(schema, "#");
        } catch (Grammar.TooLarge e) {
            throw new UnsupportedSchemaException(List.of("#: size"), "The JSON schema is too large to enforce (it needs more than "
                    + MAX_RULES + " grammar rules; large minItems/maxItems, maxLength-free patterns with big {n,m} counts add up).");
        } finally {
            Grammar.BUDGET.remove();
        }
        if (!c.unsupported.isEmpty()) {
            throw new UnsupportedSchemaException(c.unsupported, "The JSON schema uses what constrained decoding cannot enforce: "
                    + String.join("; ", c.unsupported) + ". Supported keywords: " + String.join(", ", KEYWORDS.stream().sorted().toList())
                    + " (and annotations such as title and description).");
        }
        return new Rule("root").alt(seq(prefix, value, suffix));
    }

    private Rule rule(String name) {
        return new Rule(name + "#" + counter++);
    }

    private Rule bad(String path, String what) {
        unsupported.add(path + ": " + what);
        return rule("unsupported").alt(seq("null"));
    }

    private Rule literal(String text) {
        return rule("literal").alt(seq(text));
    }

    @SuppressWarnings("unchecked")
    Rule value(Object schema, String path) {
        if (schema instanceof Boolean b) return b ? any() : bad(path, "the schema false allows no value");
        if (!(schema instanceof Map<?, ?> raw)) return bad(path, "a schema must be an object or a boolean, not " + Json.write(schema));
        Map<String, Object> m = (Map<String, Object>) raw;
        for (String k : m.keySet()) {
            if (!KEYWORDS.contains(k) && !ANNOTATIONS.contains(k)) unsupported.add(path + ": " + k);
        }
        if (m.get("$ref") != null) {
            for (String k : m.keySet()) {
                if (!k.equals("$ref") && KEYWORDS.contains(k)) return bad(path, "$ref with the sibling keyword " + k);
            }
            return ref(m.get("$ref"), path);
        }
        if (m.containsKey("const")) return literal(Json.write(m.get("const")));
        if (m.get("enum") != null) {
            if (!(m.get("enum") instanceof List<?> values) || values.isEmpty()) return bad(path, "enum must be a non-empty array");
            Rule r = rule("enum");
            for (Object v : values) r.alt(seq(Json.write(v)));
            return r;
        }
        for (String combo : List.of("anyOf", "oneOf", "allOf")) {
            if (m.get(combo) == null) continue;
            if (!(m.get(combo) instanceof List<?> branches) || branches.isEmpty()) return bad(path, combo + " must be a non-empty array");
            if (combo.equals("allOf") && branches.size() != 1) return bad(path + "/allOf", "allOf with more than one schema");
            Map<String, Object> siblings = new LinkedHashMap<>(m);
            siblings.remove(combo);
            Rule r = rule(combo);
            for (int i = 0; i < branches.size(); i++) {
                String at = path + "/" + combo + "/" + i;
                Object b = branches.get(i);
                if (!(b instanceof Map<?, ?> bm)) {
                    r.alt(seq(value(b, at)));
                    continue;
                }
                Map<String, Object> merged = new LinkedHashMap<>(siblings);
                boolean ok = true;
                for (var e : ((Map<String, Object>) bm).entrySet()) {
                    Object old = merged.get(e.getKey());
                    if (old != null && !old.equals(e.getValue()) && !ANNOTATIONS.contains(e.getKey())) {
                        bad(at, "'" + e.getKey() + "' differs from the same keyword beside " + combo);
                        ok = false;
                    }
                    merged.put(e.getKey(), e.getValue());
                }
                if (ok && merged.get("$ref") != null && merged.size() > 1) {
                    Map<String, Object> others = new LinkedHashMap<>(merged);
                    others.remove("$ref");
                    others.keySet().removeIf(ANNOTATIONS::contains);
                    if (!others.isEmpty()) {
                        bad(at, "$ref beside other keywords");
                        continue;
                    }
                }
                r.alt(seq(value(merged, at)));
            }
            return r;
        }
        Object type = m.get("type");
        if (type instanceof List<?> types) {
            if (types.isEmpty()) return bad(path + "/type", "an empty list of types");
            Rule r = rule("types");
            for (Object t : types) {
                if (!(t instanceof String ts) || !TYPES.contains(ts)) {
                    bad(path + "/type", "unknown type " + Json.write(t));
                    continue;
                }
                r.alt(seq(typed(ts, m, path)));
            }
            return r;
        }
        if (type != null && !(type instanceof String)) return bad(path + "/type", "type must be a string or an array of strings");
        String t = (String) type;
        if (t == null) t = inferType(m);
        if (t == null) return any();
        if (!TYPES.contains(t)) return bad(path + "/type", "unknown type " + Json.write(t));
        return typed(t, m, path);
    }

    private static String inferType(Map<String, Object> m) {
        if (m.containsKey("properties") || m.containsKey("required") || m.containsKey("additionalProperties")) return "object";
        if (m.containsKey("items") || m.containsKey("prefixItems") || m.containsKey("minItems") || m.containsKey("maxItems")) return "array";
        if (m.containsKey("pattern") || m.containsKey("format") || m.containsKey("minLength") || m.containsKey("maxLength")) return "string";
        if (m.containsKey("minimum") || m.containsKey("maximum") || m.containsKey("exclusiveMinimum") || m.containsKey("exclusiveMaximum")) return "number";
        return null;
    }

    private Rule typed(String type, Map<String, Object> m, String path) {
        return switch (type) {
            case "object" -> object(m, path);
            case "array" -> array(m, path);
            case "string" -> string(m, path);
            case "integer" -> number(m, path, true);
            case "number" -> number(m, path, false);
            case "boolean" -> rule("boolean").alt(seq("true")).alt(seq("false"));
            default -> literal("null");
        };
    }

    private Rule ref(Object ref, String path) {
        if (!(ref instanceof String s)) return bad(path + "/$ref", "$ref must be a string");
        Rule known = refs.get(s);
        if (known != null) return known;
        Object target;
        if (s.equals("#")) {
            target = root;
        } else if (s.startsWith("#/$defs/") || s.startsWith("#/definitions/")) {
            String container = s.startsWith("#/$defs/") ? "$defs" : "definitions";
            String name = s.substring(container.length() + 3).replace("~1", "/").replace("~0", "~");
            target = root.get(container) instanceof Map<?, ?> defs ? defs.get(name) : null;
            if (target == null) return bad(path + "/$ref", "no definition " + s);
        } else {
            return bad(path + "/$ref", "only references to #, #/$defs/... and #/definitions/... are supported, not " + s);
        }
        Rule r = rule("ref");
        refs.put(s, r);
        Rule body = value(target, s);
        r.alt(seq(body));
        if (leadsTo(body, r, new java.util.HashSet<>())) bad(path + "/$ref", s + " refers to itself before any character");
        return r;
    }

    /** Whether {@code from} can reach {@code target} as a first element, with nothing read before it. */
    private static boolean leadsTo(Rule from, Rule target, Set<Rule> seen) {
        if (from == target) return true;
        if (!seen.add(from)) return false;
        for (Element[] alt : from.alternatives) {
            if (alt.length > 0 && alt[0] instanceof Grammar.Ref r && leadsTo(r.rule(), target, seen)) return true;
        }
        return false;
    }

    private long integerKeyword(Map<String, Object> m, String key, String path, long fallback, long lo, long hi) {
        Object v = m.get(key);
        if (v == null) return fallback;
        if (v instanceof Long l && l >= lo && l <= hi) return l;
        if (v instanceof Double d && d == Math.rint(d) && d >= lo && d <= hi) return d.longValue();
        bad(path + "/" + key, key + " must be a whole number from " + lo + " to " + hi);
        return fallback;
    }

    @SuppressWarnings("unchecked")
    private Rule object(Map<String, Object> m, String path) {
        Map<String, Object> props = new LinkedHashMap<>();
        if (m.get("properties") != null) {
            if (m.get("properties") instanceof Map<?, ?> p) props.putAll((Map<String, Object>) p);
            else return bad(path + "/properties", "properties must be an object");
        }
        List<String> required = new ArrayList<>();
        if (m.get("required") != null) {
            if (!(m.get("required") instanceof List<?> req)) return bad(path + "/required", "required must be an array of names");
            for (Object o : req) {
                if (!(o instanceof String s)) return bad(path + "/required", "required must be an array of names");
                required.add(s);
            }
        }
        Object additional = m.get("additionalProperties");
        if (additional != null && !(additional instanceof Boolean) && !(additional instanceof Map)) {
            return bad(path + "/additionalProperties", "additionalProperties must be a boolean or a schema");
        }
        boolean closed = Boolean.FALSE.equals(additional);
        Object extraSchema = additional instanceof Map ? additional : Boolean.TRUE;
        for (String r : required) {
            if (props.containsKey(r)) continue;
            if (closed) return bad(path + "/required", "'" + r + "' is required but not in properties, and additionalProperties is false");
            props.put(r, extraSchema);
        }
        if (props.isEmpty()) {
            if (closed) return literal("{}");
            Rule kv = rule("member").alt(seq(string(Map.of(), path), ":", ws, value(extraSchema, path + "/additionalProperties")));
            return members(kv);
        }
        List<String> names = new ArrayList<>(props.keySet());
        int n = names.size();
        Rule[] first = new Rule[n + 1], later = new Rule[n + 1];
        first[n] = rule("end").alt();
        later[n] = first[n];
        for (int i = n - 1; i >= 0; i--) {
            String name = names.get(i);
            Rule v = value(props.get(name), path + "/properties/" + name);
            Element[] kv = seq(Json.quote(name) + ":", ws, v);
            first[i] = rule("props").alt(seq(kv, later[i + 1]));
            later[i] = rule("more").alt(seq(",", ws, kv, later[i + 1]));
            if (!required.contains(name)) {
                first[i].alt(seq(first[i + 1]));
                later[i].alt(seq(later[i + 1]));
            }
        }
        return rule("object").alt(seq("{", first[0], "}"));
    }

    /** {@code {}} or members separated by commas. */
    private Rule members(Rule kv) {
        Rule more = rule("members");
        more.alt().alt(seq(",", ws, kv, more));
        return rule("object").alt(seq("{}")).alt(seq("{", kv, more, "}"));
    }

    @SuppressWarnings("unchecked")
    private Rule array(Map<String, Object> m, String path) {
        List<Object> prefix = new ArrayList<>();
        if (m.get("prefixItems") != null) {
            if (!(m.get("prefixItems") instanceof List<?> p)) return bad(path + "/prefixItems", "prefixItems must be an array of schemas");
            prefix.addAll(p);
        }
        Object items = m.get("items");
        if (items instanceof List<?>) return bad(path + "/items", "items as an array (use prefixItems)");
        if (Boolean.TRUE.equals(m.get("uniqueItems"))) return bad(path, "uniqueItems");
        Object extra = items == null ? (prefix.isEmpty() ? Boolean.TRUE : null) : Boolean.FALSE.equals(items) ? null : items;
        int k = prefix.size();
        long min = integerKeyword(m, "minItems", path, 0, 0, MAX_ITEMS);
        long maxGiven = integerKeyword(m, "maxItems", path, Long.MAX_VALUE, 0, Long.MAX_VALUE);
        long max = Math.min(maxGiven, extra == null ? k : Long.MAX_VALUE);
        if (min > max) return bad(path + "/minItems", "minItems " + min + " is more than the " + max + " items allowed");
        Rule[] item = new Rule[k];
        for (int j = 0; j < k; j++) item[j] = value(prefix.get(j), path + "/prefixItems/" + j);
        Rule extraItem = extra == null ? null : value(extra, path + "/items");
        boolean bounded = max <= MAX_ITEMS;
        int last = bounded ? (int) max : (int) Math.max(Math.max(k, min), 1);
        Rule next;
        if (bounded) {
            next = rule("end").alt();
        } else {
            Rule loop = rule("items");
            loop.alt().alt(seq(",", ws, extraItem, loop));
            next = loop;
        }
        for (int j = last - 1; j >= 0; j--) {
            Rule at = rule("items");
            if (j >= min) at.alt();
            Rule it = j < k ? item[j] : extraItem;
            at.alt(j > 0 ? seq(",", ws, it, next) : seq(it, next));
            next = at;
        }
        return rule("array").alt(seq("[", next, "]"));
    }

    private Rule string(Map<String, Object> m, String path) {
        Object pattern = m.get("pattern");
        Object format = m.get("format");
        boolean lengths = m.get("minLength") != null || m.get("maxLength") != null;
        if (pattern != null || format != null) {
            if (pattern != null && format != null) return bad(path, "pattern together with format");
            if (lengths) return bad(path, (pattern != null ? "pattern" : "format") + " together with minLength/maxLength");
            String regex;
            if (pattern != null) {
                if (!(pattern instanceof String p)) return bad(path + "/pattern", "pattern must be a string");
                regex = p;
            } else {
                regex = format instanceof String f ? FORMATS.get(f) : null;
                if (regex == null) return bad(path + "/format", "format " + Json.write(format) + " (supported: " + String.join(", ", FORMATS.keySet().stream().sorted().toList()) + ")");
            }
            try {
                return rule("pattern").alt(seq("\"", new RegexCompiler(regex, MAX_REPEAT).compile(), "\""));
            } catch (IllegalArgumentException e) {
                return bad(path + "/pattern", e.getMessage());
            }
        }
        long min = integerKeyword(m, "minLength", path, 0, 0, Integer.MAX_VALUE);
        long max = integerKeyword(m, "maxLength", path, DEFAULT_MAX_STRING, 0, Long.MAX_VALUE);
        max = Math.min(max, Integer.MAX_VALUE);
        if (min > max) return bad(path + "/minLength", "minLength " + min + " is more than maxLength " + max);
        return rule("string").alt(seq("\"", new StringBody((int) min, (int) max), "\""));
    }

    private Double bound(Map<String, Object> m, String key, String path) {
        Object v = m.get(key);
        if (v == null || v instanceof Boolean) return null;
        if (v instanceof Number n && Double.isFinite(n.doubleValue())) return n.doubleValue();
        bad(path + "/" + key, key + " must be a number");
        return null;
    }

    private Rule number(Map<String, Object> m, String path, boolean integer) {
        Double min = bound(m, "minimum", path), max = bound(m, "maximum", path);
        Double xmin = bound(m, "exclusiveMinimum", path), xmax = bound(m, "exclusiveMaximum", path);
        // draft 4: exclusiveMinimum/Maximum are booleans that make minimum/maximum exclusive
        if (Boolean.TRUE.equals(m.get("exclusiveMinimum")) && min != null) { xmin = min; min = null; }
        if (Boolean.TRUE.equals(m.get("exclusiveMaximum")) && max != null) { xmax = max; max = null; }
        boolean bounded = min != null || max != null || xmin != null || xmax != null;
        if (!bounded) {
            if (integer) return integerRule();
            Rule digits = repeat(digit, 1, 15);
            Rule fraction = rule("fraction").alt().alt(seq(".", digits));
            Rule exponent = rule("exponent").alt().alt(seq(new Chars(new int[]{'E', 'E', 'e', 'e'}),
                    rule("sign").alt().alt(seq("+")).alt(seq("-")), repeat(digit, 1, 2)));
            return rule("number").alt(seq(minus(), IntegerRanges.range(0, MAX_INTEGER), fraction, exponent));
        }
        // the smallest and largest whole numbers allowed
        long lo = -MAX_INTEGER, hi = MAX_INTEGER;
        if (min != null) lo = Math.max(lo, (long) Math.ceil(Math.max(min, -1e17)));
        if (xmin != null) lo = Math.max(lo, (long) Math.floor(Math.max(xmin, -1e17)) + 1);
        if (max != null) hi = Math.min(hi, (long) Math.floor(Math.min(max, 1e17)));
        if (xmax != null) hi = Math.min(hi, (long) Math.ceil(Math.min(xmax, 1e17)) - 1);
        if (lo > hi) return bad(path, "minimum/maximum leave no whole number between them");
        Rule r = rule("range").alt(seq(IntegerRanges.range(lo, hi)));
        if (!integer) {
            // I.f lies in [I, I+1) for I >= 0 and in (I-1, I] for I < 0: allow a fraction where that interval is inside
            Rule fraction = rule("fraction").alt(seq(".", repeat(digit, 1, 15)));
            double upper = xmax != null ? (max != null ? Math.min(max, xmax) : xmax) : max != null ? max : 1e17;
            double lower = xmin != null ? (min != null ? Math.max(min, xmin) : xmin) : min != null ? min : -1e17;
            long posHi = Math.min(hi, (long) Math.floor(upper) - 1);
            long posLo = Math.max(lo, 0);
            if (posLo <= posHi) r.alt(seq(IntegerRanges.range(posLo, posHi), fraction));
            long negLo = Math.max(lo, (long) Math.ceil(lower) + 1);
            long negHi = Math.min(hi, -1);
            if (negLo <= negHi) r.alt(seq(IntegerRanges.range(negLo, negHi), fraction));
        }
        return r;
    }

    private Rule minus() {
        return rule("minus").alt().alt(seq("-"));
    }

    private Rule integerRule() {
        return IntegerRanges.range(-MAX_INTEGER, MAX_INTEGER);
    }

    /** {@code r} repeated {@code min} to {@code max} times. */
    static Rule repeat(Rule r, int min, int max) {
        Rule tail = new Rule("rep").alt();
        for (int i = max; i > min; i--) {
            Rule opt = new Rule("rep").alt().alt(seq(r, tail));
            tail = opt;
        }
        Element[] head = new Element[min + 1];
        for (int i = 0; i < min; i++) head[i] = new Grammar.Ref(r);
        head[min] = new Grammar.Ref(tail);
        return new Rule("rep").alt(head);
    }

    private Rule anyObject() {
        any();
        return anyObjectRule;
    }

    private Rule anyObjectRule;

    /** Any JSON value. */
    private Rule any() {
        if (any != null) return any;
        any = new Rule("value");
        Rule str = rule("string").alt(seq("\"", new StringBody(0, DEFAULT_MAX_STRING), "\""));
        Rule kv = rule("member").alt(seq(str, ":", ws, any));
        anyObjectRule = members(kv);
        Rule more = rule("elements");
        more.alt().alt(seq(",", ws, any, more));
        Rule arr = rule("array").alt(seq("[]")).alt(seq("[", any, more, "]"));
        Rule digits = repeat(digit, 1, 15);
        Rule fraction = rule("fraction").alt().alt(seq(".", digits));
        Rule num = rule("number").alt(seq(integerRule())).alt(seq(minus(), IntegerRanges.range(0, MAX_INTEGER), ".", digits));
        any.alt(seq(anyObjectRule)).alt(seq(arr)).alt(seq(str)).alt(seq(num)).alt(seq("true")).alt(seq("false")).alt(seq("null"));
        return any;
    }
}
