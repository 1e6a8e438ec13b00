package dev.hearth.server;

import dev.hearth.llama.sampling.SamplerParams;
import dev.hearth.server.http.ApiError;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tool fields of a chat request: what is taken (tool_choice forms, parallel_tool_calls,
 * tool history with arguments parsed for the template) and each mistake a 400 that names the
 * field and says what was expected.
 */
class ToolRequestTest {
    static final String TOOL = "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Weather.\","
            + " \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}}, \"strict\": null}}";

    static CompletionRequest parse(String rest) {
        return CompletionRequest.parse("{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]" + rest + "}", true, SamplerParams.DEFAULTS);
    }

    static ApiError bad(String rest) {
        ApiError e = assertThrows(ApiError.class, () -> parse(rest));
        assertEquals(400, e.status());
        return e;
    }

    @Test
    void choices() {
        ToolRequest none = parse("").tools();
        assertNull(none.tools());
        assertFalse(none.active());
        ToolRequest auto = parse(", \"tools\": [" + TOOL + "]").tools();
        assertEquals("auto", auto.choice());
        assertTrue(auto.active() && !auto.mustCall() && auto.parallel());
        assertEquals(Map.of("name", "get_weather", "description", "Weather.", "parameters", Map.of("type", "object",
                "properties", Map.of("city", Map.of("type", "string")))), auto.tools().getFirst().get("function"), "null fields left out");
        ToolRequest required = parse(", \"tools\": [" + TOOL + "], \"tool_choice\": \"required\", \"parallel_tool_calls\": false").tools();
        assertTrue(required.mustCall());
        assertFalse(required.parallel());
        ToolRequest named = parse(", \"tools\": [" + TOOL + "], \"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"get_weather\"}}").tools();
        assertEquals("get_weather", named.forced());
        assertEquals(1, named.callable().size());
        ToolRequest off = parse(", \"tools\": [" + TOOL + "], \"tool_choice\": \"none\"").tools();
        assertFalse(off.active(), "none: the tools are shown, no call is read");
        assertEquals(1, off.tools().size());
        assertFalse(parse(", \"tool_choice\": \"auto\"").tools().active(), "auto without tools is no error");
    }

    @Test
    void historyForTheTemplate() {
        CompletionRequest r = CompletionRequest.parse("{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"},"
                + " {\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{\"id\": \"c1\", \"type\": \"function\","
                + " \"function\": {\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\":\\\"Rome\\\"}\"}},"
                + " {\"id\": \"c2\", \"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"arguments\": \"not json\"}}]},"
                + " {\"role\": \"tool\", \"tool_call_id\": \"c1\", \"content\": \"sunny\"}]}", true, SamplerParams.DEFAULTS);
        Map<String, Object> a = r.messages().get(1);
        assertEquals("", a.get("content"));
        List<?> calls = (List<?>) a.get("tool_calls");
        assertEquals(Map.of("name", "get_weather", "arguments", Map.of("city", "Rome")), ((Map<?, ?>) calls.get(0)).get("function"));
        assertEquals(Map.of("name", "get_weather", "arguments", "not json"), ((Map<?, ?>) calls.get(1)).get("function"), "not JSON: left as text");
        assertEquals("c1", r.messages().get(2).get("tool_call_id"));
    }

    @Test
    void mistakesAre400s() {
        assertEquals("tools", bad(", \"tools\": {}").param());
        assertEquals("tools[0].type", bad(", \"tools\": [{\"type\": \"code\"}]").param());
        assertEquals("tools[0].function.name", bad(", \"tools\": [{\"type\": \"function\", \"function\": {}}]").param());
        ApiError name = bad(", \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"get weather!\"}}]");
        assertTrue(name.getMessage().contains("^[a-zA-Z0-9_-]{1,64}$"), name.getMessage());
        assertTrue(bad(", \"tools\": [" + TOOL + ", " + TOOL + "]").getMessage().contains("used twice"));
        assertEquals("tools[0].function.parameters", bad(", \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": \"x\"}}]").param());
        assertTrue(bad(", \"tools\": [" + TOOL + "], \"tool_choice\": \"sometimes\"").getMessage().contains("'none', 'auto', 'required'"));
        ApiError unknown = bad(", \"tools\": [" + TOOL + "], \"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"fly\"}}");
        assertTrue(unknown.getMessage().contains("no function named 'fly'") && unknown.getMessage().contains("get_weather"), unknown.getMessage());
        assertTrue(bad(", \"tool_choice\": \"required\"").getMessage().contains("only allowed when 'tools' are specified"));
        assertEquals("parallel_tool_calls", bad(", \"tools\": [" + TOOL + "], \"parallel_tool_calls\": \"yes\"").param());
        ApiError noId = assertThrows(ApiError.class, () -> CompletionRequest.parse("{\"messages\": [{\"role\": \"tool\", \"content\": \"x\"}]}", true, SamplerParams.DEFAULTS));
        assertEquals("messages[0].tool_call_id", noId.param());
        ApiError args = assertThrows(ApiError.class, () -> CompletionRequest.parse("{\"messages\": [{\"role\": \"assistant\", \"tool_calls\": [{\"id\": \"a\","
                + " \"function\": {\"name\": \"f\", \"arguments\": 5}}]}]}", true, SamplerParams.DEFAULTS));
        assertEquals("messages[0].tool_calls[0].function.arguments", args.param());
    }
}
