package dev.hearth.llama.constrain;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which texts a schema's constraint accepts in full, keyword by keyword: each valid example must be
 * accepted and complete, each invalid one refused (or left incomplete).
 */
class SchemaGrammarTest {
    private static boolean accepts(String schema, String text) {
        JsonSchemaConstraint c = JsonSchemaConstraint.of(Vocabularies.get(Vocabularies.STORIES), schema == null ? null : Vocabularies.schema(schema), "", "");
        return c.acceptText(text) && c.complete();
    }

    private static void check(String schema, List<String> valid, List<String> invalid) {
        for (String v : valid) assertTrue(accepts(schema, v), schema + " should accept " + v);
        for (String v : invalid) assertFalse(accepts(schema, v), schema + " should refuse " + v);
    }

    @Test
    void types() {
        check("{\"type\":\"boolean\"}", List.of("true", "false"), List.of("1", "null", "True", "true "));
        check("{\"type\":\"null\"}", List.of("null"), List.of("nul", "0"));
        check("{\"type\":\"integer\"}", List.of("0", "-7", "1234567890123456"), List.of("01", "-0", "1.5", "1e3", "12345678901234567", "+1"));
        check("{\"type\":\"number\"}", List.of("0", "-7.25", "3e10", "1.5E-3", "0.000001"), List.of("01", ".5", "1.", "1e", "--1"));
        check("{\"type\":\"string\"}", List.of("\"\"", "\"héllo 🦙\"", "\"a\\\"b\\\\c\\nd\\/\""), List.of("\"a", "\"a\nb\"", "\"\\u0041\"", "'a'", "\"\\x\""));
        check("{\"type\":[\"integer\",\"null\"]}", List.of("5", "null"), List.of("\"5\"", "true"));
    }

    @Test
    void objects() {
        String s = "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"age\":{\"type\":\"integer\"},\"ok\":{\"type\":\"boolean\"}},\"required\":[\"name\",\"ok\"],\"additionalProperties\":false}";
        check(s, List.of("{\"name\":\"Al\",\"age\":3,\"ok\":true}", "{\"name\":\"Al\",\"ok\":false}", "{\"name\": \"Al\", \"ok\": true}"),
                List.of("{\"ok\":true,\"name\":\"Al\"}", "{\"name\":\"Al\"}", "{\"name\":\"Al\",\"ok\":true,\"x\":1}", "{ \"name\":\"Al\",\"ok\":true}",
                        "{\"name\":\"Al\",  \"ok\":true}", "{\"name\":\"Al\",\n\"ok\":true}"));
        check("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}}}", List.of("{}", "{\"a\":1}"), List.of("{\"a\":\"x\"}", "{,\"a\":1}"));
        check("{\"type\":\"object\",\"additionalProperties\":{\"type\":\"integer\"}}", List.of("{}", "{\"x\":1, \"y\":2}"), List.of("{\"x\":\"1\"}"));
        check("{\"type\":\"object\",\"additionalProperties\":false}", List.of("{}"), List.of("{\"a\":1}"));
        check("{\"type\":\"object\",\"required\":[\"id\"]}", List.of("{\"id\":[1,{\"z\":null}]}"), List.of("{}"));
    }

    @Test
    void arrays() {
        check("{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":1,\"maxItems\":3}", List.of("[1]", "[1,2]", "[1, 2, 3]"),
                List.of("[]", "[1,2,3,4]", "[1,]", "[\"a\"]"));
        check("{\"type\":\"array\",\"prefixItems\":[{\"type\":\"string\"},{\"type\":\"boolean\"}],\"items\":false}", List.of("[\"a\",true]", "[\"a\"]", "[]"),
                List.of("[true]", "[\"a\",true,1]"));
        check("{\"type\":\"array\",\"prefixItems\":[{\"const\":1}],\"items\":{\"type\":\"null\"},\"minItems\":2}", List.of("[1,null]", "[1,null,null]"), List.of("[1]", "[null,null]"));
        check("{\"type\":\"array\"}", List.of("[]", "[1,\"a\",{},[]]"), List.of("[", "[1 2]"));
    }

    @Test
    void enumsConstsAndCombinations() {
        check("{\"enum\":[\"red\",\"green\",3,null,{\"a\":[1]}]}", List.of("\"red\"", "\"green\"", "3", "null", "{\"a\":[1]}"), List.of("\"blue\"", "4", "\"Red\""));
        check("{\"const\":\"x\"}", List.of("\"x\""), List.of("\"y\""));
        check("{\"anyOf\":[{\"type\":\"integer\"},{\"type\":\"string\",\"maxLength\":2}]}", List.of("12", "\"ab\""), List.of("\"abc\"", "true"));
        check("{\"type\":\"object\",\"oneOf\":[{\"properties\":{\"a\":{\"type\":\"integer\"}},\"required\":[\"a\"]},{\"properties\":{\"b\":{\"type\":\"null\"}},\"required\":[\"b\"]}]}",
                List.of("{\"a\":1}", "{\"b\":null}"), List.of("{\"a\":null}", "[]"));
        check("{\"allOf\":[{\"type\":\"integer\",\"maximum\":3}]}", List.of("3", "-2"), List.of("4"));
    }

    @Test
    void references() {
        String defs = "{\"$defs\":{\"pt\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"integer\"}},\"required\":[\"x\"]}},"
                + "\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/pt\"}}";
        check(defs, List.of("[{\"x\":1},{\"x\":2}]"), List.of("[{\"y\":1}]"));
        String old = "{\"definitions\":{\"n\":{\"type\":\"integer\"}},\"type\":\"object\",\"properties\":{\"v\":{\"$ref\":\"#/definitions/n\"}},\"required\":[\"v\"]}";
        check(old, List.of("{\"v\":4}"), List.of("{\"v\":\"4\"}"));
        // recursive: a tree of nodes
        String tree = "{\"$defs\":{\"node\":{\"type\":\"object\",\"properties\":{\"kids\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/node\"}}},\"required\":[\"kids\"],\"additionalProperties\":false}},\"$ref\":\"#/$defs/node\"}";
        check(tree, List.of("{\"kids\":[]}", "{\"kids\":[{\"kids\":[{\"kids\":[]}]},{\"kids\":[]}]}"), List.of("{\"kids\":[{}]}"));
    }

    @Test
    void stringLengthsPatternsAndFormats() {
        check("{\"type\":\"string\",\"minLength\":2,\"maxLength\":3}", List.of("\"ab\"", "\"abc\"", "\"\\n\\t\"", "\"é🦙\""), List.of("\"a\"", "\"abcd\""));
        check("{\"type\":\"string\",\"pattern\":\"^[A-Z]{2}-\\\\d{3,4}$\"}", List.of("\"AB-123\"", "\"XY-1234\""), List.of("\"ab-123\"", "\"AB-12\"", "\"AB-12345\""));
        check("{\"type\":\"string\",\"pattern\":\"(cat|dog)s?\"}", List.of("\"cat\"", "\"dogs\""), List.of("\"cow\""));
        check("{\"type\":\"string\",\"pattern\":\"a\\\"b[^x]c.\"}", List.of("\"a\\\"byc!\""), List.of("\"a\\\"bxc!\"", "\"a\"byc!\""));
        check("{\"type\":\"string\",\"format\":\"date\"}", List.of("\"2024-02-28\""), List.of("\"2024-13-01\"", "\"24-01-01\""));
        check("{\"type\":\"string\",\"format\":\"date-time\"}", List.of("\"2024-02-28T13:45:00Z\"", "\"2024-02-28T13:45:00.123+02:00\""), List.of("\"2024-02-28 13:45:00Z\""));
        check("{\"type\":\"string\",\"format\":\"uuid\"}", List.of("\"123e4567-e89b-12d3-a456-426614174000\""), List.of("\"123e4567\""));
        check("{\"type\":\"string\",\"format\":\"email\"}", List.of("\"ann.lee@example.com\""), List.of("\"ann@\""));
    }

    @Test
    void numberRanges() {
        check("{\"type\":\"integer\",\"minimum\":-15,\"maximum\":120}", List.of("-15", "-9", "0", "7", "99", "120"), List.of("-16", "121", "200", "-100"));
        check("{\"type\":\"integer\",\"exclusiveMinimum\":0,\"exclusiveMaximum\":10}", List.of("1", "9"), List.of("0", "10"));
        check("{\"type\":\"integer\",\"minimum\":1000}", List.of("1000", "98765"), List.of("999", "-1"));
        check("{\"type\":\"number\",\"minimum\":0,\"maximum\":1}", List.of("0", "1", "0.5"), List.of("1.5", "-0.5", "2"));
        check("{\"type\":\"number\",\"minimum\":-2.5,\"maximum\":3}", List.of("-2", "-1.75", "2.999", "3"), List.of("-3", "3.5"));
    }

    @Test
    void invalidUtf8IsRefused() {
        JsonSchemaConstraint c = JsonSchemaConstraint.of(Vocabularies.get(Vocabularies.STORIES), Vocabularies.schema("{\"type\":\"string\"}"), "", "");
        assertTrue(c.acceptText("\"ok "));
        MatchState s = c.state();
        byte[][] bad = {{(byte) 0xE0, (byte) 0x82, (byte) 0x80}, {(byte) 0xC0, (byte) 0x80}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
                {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0xF0, (byte) 0x80, (byte) 0x80, (byte) 0x80}, {(byte) 0x80}, {(byte) 0xFF}};
        for (byte[] b : bad) assertTrue(s.steps(b) == null, java.util.Arrays.toString(b));
        byte[][] good = {{(byte) 0xE0, (byte) 0xA0, (byte) 0x80}, {(byte) 0xC2, (byte) 0x80}, {(byte) 0xED, (byte) 0x9F, (byte) 0xBF},
                {(byte) 0xF4, (byte) 0x8F, (byte) 0xBF, (byte) 0xBF}, {(byte) 0xF0, (byte) 0x90, (byte) 0x80, (byte) 0x80}};
        for (byte[] b : good) assertTrue(s.steps(b) != null, java.util.Arrays.toString(b));
    }

    @Test
    void prefixAndSuffix() {
        JsonSchemaConstraint c = JsonSchemaConstraint.of(Vocabularies.get(Vocabularies.STORIES), Vocabularies.schema("{\"type\":\"integer\"}"), "<call>", "</call>");
        assertTrue(c.acceptText("<call>42</call>"));
        assertTrue(c.complete() && c.finished());
        JsonSchemaConstraint any = JsonSchemaConstraint.anyJsonObject(Vocabularies.get(Vocabularies.STORIES));
        assertFalse(any.copy().acceptText("[1]"));
        assertTrue(any.acceptText("{\"a\": {\"b\": [1, 2.5, \"x\", true, null]}}") && any.finished());
    }

    @Test
    void unsupportedKeywordsAreAllNamed() {
        var e = assertThrows(UnsupportedSchemaException.class, () -> JsonSchemaConstraint.of(Vocabularies.get(Vocabularies.STORIES), Vocabularies.schema(
                "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\",\"multipleOf\":2},\"s\":{\"type\":\"string\",\"pattern\":\"(?=a)b\"}},"
                        + "\"patternProperties\":{\"x\":{}},\"not\":{}}"), "", ""));
        assertEquals(4, e.keywords().size(), e.keywords().toString());
        for (String k : List.of("#/properties/n: multipleOf", "#: patternProperties", "#: not", "#/properties/s/pattern: lookaround")) {
            assertTrue(e.keywords().stream().anyMatch(x -> x.startsWith(k)), k + " in " + e.keywords());
        }
        assertTrue(e.getMessage().contains("multipleOf"), e.getMessage());
        // a schema whose grammar would be huge is refused quickly instead of filling the memory
        StringBuilder big = new StringBuilder("{\"type\":\"object\",\"properties\":{");
        for (int i = 0; i < 40; i++) big.append(i == 0 ? "" : ",").append("\"p").append(i).append("\":{\"type\":\"array\",\"maxItems\":10000}");
        big.append("}}");
        long t0 = System.nanoTime();
        var huge = assertThrows(UnsupportedSchemaException.class, () -> JsonSchemaConstraint.of(Vocabularies.get(Vocabularies.STORIES), Vocabularies.schema(big.toString()), "", ""));
        assertTrue(huge.getMessage().contains("too large") && (System.nanoTime() - t0) < 5_000_000_000L, huge.getMessage());
        for (String bad : List.of("{\"format\":\"ipv4\"}", "{\"$ref\":\"http://x/y\"}", "{\"type\":\"array\",\"uniqueItems\":true}",
                "{\"allOf\":[{\"type\":\"integer\"},{\"minimum\":1}]}", "{\"type\":\"integer\",\"minimum\":0.2,\"maximum\":0.8}",
                "{\"type\":\"strin\"}", "{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/a\"}},\"$ref\":\"#/$defs/a\"}", "{\"pattern\":\"a\\\\1\"}")) {
            assertThrows(UnsupportedSchemaException.class, () -> JsonSchemaConstraint.of(Vocabularies.get(Vocabularies.STORIES), Vocabularies.schema(bad), "", ""), bad);
        }
    }
}
