package dev.hearth.runtime.json;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** JSON strings: plain runs, escapes between them, and the errors. */
class JsonStringTest {
    @Test
    void stringsWithAndWithoutEscapes() {
        assertEquals("", Json.parse("\"\""));
        assertEquals("plain text", Json.parse("\"plain text\""));
        assertEquals("a\"b\\c/d\be\ff\ng\rh\ti\u00e9j", Json.parse("\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\\u00e9j\""));
        assertEquals("\n", Json.parse("\"\\n\""));
        assertEquals("x\ty", Json.parse("\"x\\ty\""));
        assertEquals(Map.of("k", List.of("v\"", "w")), Json.parse("{\"k\": [\"v\\\"\", \"w\"]}"));
        String big = "word ".repeat(100_000);
        assertEquals(big, Json.parse(Json.quote(big)));
        String mixed = "line\n".repeat(1000) + "tab\t\"q\"";
        assertEquals(mixed, Json.parse(Json.quote(mixed)));
    }

    @Test
    void brokenStringsAreErrors() {
        for (String bad : List.of("\"abc", "\"abc\\", "\"a\nb\"", "\"\\x\"", "\"\\u12\"", "\"\\uzzzz\"")) {
            assertThrows(Json.JsonException.class, () -> Json.parse(bad), bad);
        }
    }
}
