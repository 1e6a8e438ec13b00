package dev.hearth.server.tools;

/**
 * Tool calls in a streamed answer: text is passed on as it comes, except text that may be (the
 * start of) a call: from a call marker on ({@code <tool_call>}, {@code [TOOL_CALLS]}, ...), the
 * tail that could still become one, and an answer that begins as a JSON object (a bare call).
 * That text is held until the answer is complete; {@link #finish} then says whether it was a
 * call or text after all.
 */
public final class ToolCallStream {
    private final ToolCallParser parser;
    private final StringBuilder text = new StringBuilder();
    private int sent;
    private boolean holding;

    public ToolCallStream(ToolCallParser parser) {
        this.parser = parser;
    }

    /** Adds generated text; returns the text that may be sent now as content. */
    public String add(String piece) {
        text.append(piece);
        if (holding) return "";
        String all = text.toString();
        if (sent == 0 && mayStartBareCall(all)) return "";
        int marker = parser.markerAt(all, sent);
        int safe;
        if (marker >= 0) {
            holding = true;
            safe = marker;
        } else {
            safe = all.length() - partialMarker(all);
        }
        if (safe <= sent) return "";
        String out = all.substring(sent, safe);
        sent = safe;
        return out;
    }

    /** At the end of the answer: the calls, and the content not sent yet (all held text when there was no call). */
    public ToolCallParser.Parsed finish() {
        String all = text.toString();
        ToolCallParser.Parsed p = parser.parse(all);
        String rest;
        String sentText = all.substring(0, sent);
        if (p.content().startsWith(sentText)) rest = p.content().substring(sent);
        else rest = p.hasCalls() || sent > 0 ? "" : p.content();
        sent = all.length();
        return new ToolCallParser.Parsed(rest, p.calls());
    }

    /** Nothing but white space so far, or the start of a JSON object, a code fence or a python tag. */
    private static boolean mayStartBareCall(String all) {
        String t = all.stripLeading();
        if (t.isEmpty() || t.startsWith("{")) return true;
        for (String open : new String[]{"```json", "<|python_tag|>"}) {
            if (open.startsWith(t) || t.startsWith(open)) return true;
        }
        return false;
    }

    /** The length of the longest tail of the unsent text that begins a marker. */
    private int partialMarker(String all) {
        int best = 0;
        for (String m : parser.format().markers()) {
            for (int k = Math.min(m.length() - 1, all.length() - sent); k > best; k--) {
                if (all.startsWith(m.substring(0, k), all.length() - k)) {
                    best = k;
                    break;
                }
            }
        }
        return best;
    }
}
