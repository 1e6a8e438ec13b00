package dev.hearth.cli;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Numbers for a command's JSON output: JSON has no NaN or infinity, so a number that is not
 * finite is written as {@code null} and counted; {@link #warn} then says so once on stderr.
 */
final class JsonNumbers {
    private final String command;
    private final Map<String, Integer> nonFinite = new LinkedHashMap<>();

    JsonNumbers(String command) {
        this.command = command;
    }

    /** {@code v} formatted with {@code format} (Locale.ROOT), or {@code null} where it is NaN or infinite. */
    String num(String field, String format, double v) {
        if (Double.isFinite(v)) return String.format(Locale.ROOT, format, v);
        nonFinite.merge(field, 1, Integer::sum);
        return "null";
    }

    /** The warning for the values written as null, or null where there were none. */
    String warning() {
        if (nonFinite.isEmpty()) return null;
        StringBuilder sb = new StringBuilder(command + ": warning: ");
        int i = 0;
        for (var e : nonFinite.entrySet()) {
            if (i++ > 0) sb.append(", ");
            sb.append(e.getValue()).append(" \"").append(e.getKey()).append('"');
        }
        return sb.append(" value").append(nonFinite.values().stream().mapToInt(Integer::intValue).sum() == 1 ? " was" : "s were")
                .append(" not finite (NaN or infinite) and written as null; the model file may be damaged").toString();
    }

    /** Prints {@link #warning} on stderr where there is one. */
    void warn() {
        String w = warning();
        if (w != null) System.err.println(w);
    }
}
