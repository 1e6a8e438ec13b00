package dev.hearth.server;

import dev.hearth.llama.constrain.TokenConstraint;
import dev.hearth.llama.tokenizer.Tokenizer;
import dev.hearth.server.tools.MarkerTokens;
import dev.hearth.server.tools.ToolCall;
import dev.hearth.server.tools.ToolCallParser;
import dev.hearth.server.tools.ToolCallStream;
import dev.hearth.server.tools.ToolFormat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One chat answer that may call tools: the calls are read from the generated text in the
 * model's format and answered as OpenAI answers them, {@code message.tool_calls} with
 * {@code finish_reason: "tool_calls"} (content: the text before the calls, or null), or streamed
 * as {@code delta.tool_calls} chunks (a first one with the call's index, id, type, name and empty
 * arguments, then the arguments). Text that may be a call is held back from the stream until it
 * is known.
 */
final class ToolTurn {
    private final ToolRequest request;
    private final ToolFormat format;
    private final ToolCallParser parser;
    private final Tokenizer tokenizer;
    private final TokenConstraint constraint;
    private ToolCallStream stream;

    private ToolTurn(ToolRequest request, ToolFormat format, Tokenizer base) {
        this.request = request;
        this.format = format;
        this.parser = new ToolCallParser(format, request.names(), () -> newId(format));
        this.tokenizer = MarkerTokens.of(base, format);
        this.constraint = request.mustCall() ? ToolDecoding.forcedCall(tokenizer, format, request) : null;
    }

    /**
     * The turn for a request whose calls are to be read; null where there are no tools or
     * tool_choice is "none". A forced call's constraint is made here: a schema it cannot enforce
     * is a 400 before the request waits for a slot.
     */
    static ToolTurn of(ToolRequest request, ToolFormat format, Tokenizer base) {
        return request.active() ? new ToolTurn(request, format, base) : null;
    }

    /** The constraint to one call (tool_choice "required" or a named function), else null. */
    TokenConstraint constraint() {
        return constraint;
    }

    ToolFormat format() {
        return format;
    }

    ToolRequest request() {
        return request;
    }

    /** The tokenizer to generate with: call markers that are control tokens come out as text. */
    Tokenizer tokenizer() {
        return tokenizer;
    }

    /** Fills {@code msg}'s content and tool_calls from the whole answer; returns the finish reason. */
    String whole(Map<String, Object> msg, String text, String finish) {
        ToolCallParser.Parsed p = parser.parse(text);
        if (!p.hasCalls()) {
            msg.put("content", text);
            return finish;
        }
        msg.put("content", p.content().isBlank() ? null : p.content());
        List<Map<String, Object>> calls = new ArrayList<>();
        for (ToolCall c : kept(p.calls())) calls.add(call(c, true));
        msg.put("tool_calls", calls);
        return "tool_calls";
    }

    /** Streaming: the text of a generated piece that may be sent now. */
    String streamed(String piece) {
        if (stream == null) stream = new ToolCallStream(parser);
        return stream.add(piece);
    }

    /** Streaming, at the end: the deltas still to send (held text, or the calls) and the finish reason. */
    Map.Entry<List<Map<String, Object>>, String> streamEnd(String finish) {
        if (stream == null) stream = new ToolCallStream(parser);
        ToolCallParser.Parsed p = stream.finish();
        List<Map<String, Object>> deltas = new ArrayList<>();
        if (!p.content().isEmpty()) deltas.add(Map.of("content", p.content()));
        if (!p.hasCalls()) return Map.entry(deltas, finish);
        List<ToolCall> calls = kept(p.calls());
        for (int i = 0; i < calls.size(); i++) {
            ToolCall c = calls.get(i);
            Map<String, Object> head = new LinkedHashMap<>();
            head.put("index", i);
            head.putAll(call(c, false));
            deltas.add(Map.of("tool_calls", List.of(head)));
            Map<String, Object> args = new LinkedHashMap<>();
            args.put("index", i);
            args.put("function", Map.of("arguments", c.arguments()));
            deltas.add(Map.of("tool_calls", List.of(args)));
        }
        return Map.entry(deltas, "tool_calls");
    }

    /** What a stream held back at its end: text not yet sent, and the calls whole (as OpenAI writes them). */
    record End(String content, List<Map<String, Object>> calls) {
    }

    /** Streaming, at the end, for a client that takes each call whole (Ollama's lines). */
    End streamEndWhole() {
        if (stream == null) stream = new ToolCallStream(parser);
        ToolCallParser.Parsed p = stream.finish();
        List<Map<String, Object>> calls = new ArrayList<>();
        if (p.hasCalls()) for (ToolCall c : kept(p.calls())) calls.add(call(c, true));
        return new End(p.content(), calls);
    }

    private List<ToolCall> kept(List<ToolCall> calls) {
        return request.parallel() || calls.size() <= 1 ? calls : calls.subList(0, 1);
    }

    /** A call as OpenAI writes it; streamed, the arguments come in a later chunk. */
    private static Map<String, Object> call(ToolCall c, boolean withArguments) {
        Map<String, Object> fn = new LinkedHashMap<>();
        fn.put("name", c.name());
        fn.put("arguments", withArguments ? c.arguments() : "");
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", c.id());
        m.put("type", "function");
        m.put("function", fn);
        return m;
    }

    /** A new call id: "call_" and 24 letters and digits; Mistral's templates take exactly 9 letters and digits. */
    static String newId(ToolFormat format) {
        String a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        int n = format == ToolFormat.MISTRAL ? 9 : 24;
        StringBuilder sb = new StringBuilder(format == ToolFormat.MISTRAL ? "" : "call_");
        ThreadLocalRandom r = ThreadLocalRandom.current();
        for (int i = 0; i < n; i++) sb.append(a.charAt(r.nextInt(a.length())));
        return sb.toString();
    }
}
