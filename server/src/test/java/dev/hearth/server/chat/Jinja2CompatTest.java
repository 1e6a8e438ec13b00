package dev.hearth.server.chat;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Pieces of Jinja2 compatibility, each against what Python 3.11 / Jinja2 3.1.6 give. */
class Jinja2CompatTest {
    static String render(String template, Map<String, Object> vars) {
        List<Map<String, Object>> messages = new ArrayList<>();
        return new JinjaChatTemplate(template, "", "").render(messages, false, vars);
    }

    @Test
    void tojsonIsPythonsJsonDumps() {
        assertEquals("[1.0, 1e-05, 0.0001, 1e+16, 123456789012345.6, -2.5, 1e+100, 0.30000000000000004]",
                PyJson.dumps(List.of(1.0, 1e-05, 0.0001, 1e16, 123456789012345.6, -2.5, 1e100, 0.1 + 0.2), null, ", ", ": ", false));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("a", List.of());
        m.put("b", Map.of());
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("d", null);
        m.put("c", List.of(1L, d));
        m.put("e", "\u0001\t\u2028é\"\\");
        assertEquals("{\n  \"a\": [],\n  \"b\": {},\n  \"c\": [\n    1,\n    {\n      \"d\": null\n    }\n  ],\n  \"e\": \"\\u0001\\t\u2028é\\\"\\\\\"\n}",
                PyJson.dumps(m, "  ", ",", ": ", false));
        assertEquals("{\"b\": 1, \"a\": \"<&'>\"}", render("{{ x|tojson }}", Map.of("x", new LinkedHashMap<String, Object>(Map.of("b", 1L)) {{ put("a", "<&'>"); }})));
        assertEquals("{\"a\":1}", render("{{ x|tojson(separators=(',', ':')) }}", Map.of("x", Map.of("a", 1L))));
        assertEquals("{\"a\": 1, \"b\": 2}", render("{{ x|tojson(sort_keys=true) }}", Map.of("x", new LinkedHashMap<>(Map.of("b", 2L)) {{ put("a", 1L); }})));
    }

    @Test
    void indentIsJinja2s() {
        String t = "{{ s|indent(3) }}|{{ s|indent(2, first=true) }}|{{ s|indent(2, blank=true) }}";
        assertEquals("a\n   b\n\n   c|  a\n  b\n\n  c|a\n  b\n  \n  c", render(t, Map.of("s", "a\nb\n\nc")));
        assertEquals("{\n|  {\n|{\n  ", render(t, Map.of("s", "{\n")));
        assertEquals("|  |", render(t, Map.of("s", "")));
    }

    @Test
    void notBindsLooserThanIsAndIn() {
        assertEquals("yes", render("{% if not x is defined %}yes{% endif %}", Map.of()));
        assertEquals("", render("{% if not x is defined %}yes{% endif %}", Map.of("x", false)));
        assertEquals("yes", render("{% if not 'a' in xs %}yes{% endif %}", Map.of("xs", List.of("b"))));
        assertEquals("", render("{% if not 'a' in xs %}yes{% endif %}", Map.of("xs", List.of("a"))));
        assertEquals("", render("{% if not x.y is none %}yes{% endif %}", Map.of("x", new LinkedHashMap<>())));
        assertEquals("not a is defined, not b in c, d[::-1], loop.previtem", render("{{ 'not a is defined, not b in c, d[::-1], loop.previtem' }}", Map.of()),
                "string literals are not rewritten");
        assertEquals("b", render("{% for m in xs %}{% if m == 'b' %}{{ loop.previtem }}{% endif %}{% endfor %}", Map.of("xs", List.of("b", "b"))));
    }

    @Test
    void notBindsLooserThanFiltersAndComparisons() {
        // Llama 3.1's "{%- if not message.tool_calls|length == 1 %}"
        assertEquals("raise", render("{% if not xs|length == 1 %}raise{% endif %}", Map.of("xs", List.of(1L, 2L))));
        assertEquals("", render("{% if not xs|length == 1 %}raise{% endif %}", Map.of("xs", List.of(1L))));
        assertEquals("yes", render("{% if not n > 2 %}yes{% endif %}", Map.of("n", 1L)));
    }

    @Test
    void toolSchemaMacros() {
        // a dict's .items is its method (no key lookup): defined, no attributes, not iterable
        assertEquals("ac", render("{% if d.items is defined %}a{% endif %}{% if d.items is iterable %}b{% endif %} "
                + "{%- if d.items.type is iterable %}c{% endif %}", Map.of("d", Map.of("items", Map.of("type", "string")))));
        assertEquals("string", render("{{ d['items']['type'] }}", Map.of("d", Map.of("items", Map.of("type", "string")))));
        // macros that call themselves, as tool templates walk schemas
        String t = "{% macro ty(s) %}{% if s.type == 'array' %}list[{{ ty(s['items']) }}]{% else %}{{ s.type }}{% endif %}{% endmacro %}{{ ty(x) }}";
        assertEquals("list[list[int]]", render(t, Map.of("x", Map.of("type", "array", "items", Map.of("type", "array", "items", Map.of("type", "int"))))));
    }

    @Test
    void loopsAndSlices() {
        assertEquals("3,2,1", render("{% for x in xs[::-1] %}{{ x }}{% if not loop.last %},{% endif %}{% endfor %}", Map.of("xs", List.of(1L, 2L, 3L))));
        assertEquals("-:1 1:2 2:3 ", render("{% for x in xs %}{{ loop.previtem if loop.previtem else '-' }}:{{ x }} {% endfor %}", Map.of("xs", List.of(1L, 2L, 3L))));
        assertEquals("2 3 - ", render("{% for x in xs %}{{ loop.nextitem if loop.nextitem is not none else '-' }} {% endfor %}", Map.of("xs", List.of(1L, 2L, 3L))));
        assertEquals("a=1;b=2;", render("{% for k, v in m|items %}{{ k }}={{ v }};{% endfor %}", Map.of("m", new LinkedHashMap<>(Map.of("a", 1L)) {{ put("b", 2L); }})));
        assertEquals("2", render("{% set ns = namespace(n=xs|length - 1) %}{{ ns.n }}", Map.of("xs", List.of(1L, 2L, 3L))));
    }

    @Test
    void whitespaceControlIsJinja2s() {
        assertEquals("1 2 |a b|  cd1\ne  f\ng", render("{% for x in xs %}{{ x }} {% endfor %}|a {% if 1 %}b{% endif %}|  {% if 1 %}c{% endif %}\n"
                + "  {% if 1 %}d{% endif %}\n{{ 1 }}\ne {# c #} f\n  {# c #}\ng", Map.of("xs", List.of(1L, 2L))));
        assertEquals("  x\ty", render("  {%+ if 1 %}x{% endif %}\n\t{%+ if 1 %}y{% endif %}", Map.of()));
        assertEquals("a  {% if %}\n", render("{% raw %}a  {% if %}\n{% endraw %}", Map.of()));
    }

    @Test
    void stringsAreIterableAndGlobalsDefined() {
        assertEquals("yes", render("{% if s is iterable %}yes{% endif %}", Map.of("s", "abc")));
        assertEquals("yes", render("{% if strftime_now is defined and raise_exception is defined %}yes{% endif %}", Map.of()));
    }
}
