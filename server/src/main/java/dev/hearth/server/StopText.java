package dev.hearth.server;

import java.util.List;

/**
 * Text as it is generated, checked against stop strings: {@link #add} returns only the text
 * that can no longer become part of a stop string, so a stop string is never sent, not even
 * in part; once one appears, the text before it is the last to come out.
 */
final class StopText {
    private final List<String> stops;
    private final StringBuilder text = new StringBuilder();
    private int sent;
    private boolean stopped;

    StopText(List<String> stops) {
        this.stops = stops.stream().filter(s -> !s.isEmpty()).toList();
    }

    boolean stopped() {
        return stopped;
    }

    /** Adds generated text; returns what may be sent now. */
    String add(String piece) {
        if (stopped) return "";
        text.append(piece);
        // Text already sent never holds the start of a stop string (it was held back), so
        // a stop string can only begin at or after what was sent.
        int at = -1;
        for (String s : stops) {
            int i = text.indexOf(s, sent);
            if (i >= 0 && (at < 0 || i < at)) at = i;
        }
        if (at >= 0) {
            stopped = true;
            String out = text.substring(sent, at);
            sent = at;
            text.setLength(at);
            return out;
        }
        int safe = text.length() - heldBack();
        if (safe <= sent) return "";
        String out = text.substring(sent, safe);
        sent = safe;
        return out;
    }

    /** The length of the longest tail of the text that begins some stop string. */
    private int heldBack() {
        int best = 0;
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, text.length() - sent); k > best; k--) {
                if (endsWithPrefix(s, k)) {
                    best = k;
                    break;
                }
            }
        }
        return best;
    }

    private boolean endsWithPrefix(String s, int k) {
        int off = text.length() - k;
        for (int i = 0; i < k; i++) if (text.charAt(off + i) != s.charAt(i)) return false;
        return true;
    }

    /** At the end of generation: what was held back (it never became a stop string). */
    String flush() {
        if (stopped) return "";
        String out = text.substring(sent);
        sent = text.length();
        return out;
    }

    /** All the text that was or will be sent. */
    String text() {
        return text.substring(0, stopped ? sent : text.length());
    }
}
