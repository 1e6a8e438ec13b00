package dev.hearth.cli;

import dev.hearth.runtime.HearthException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Command-line options of one command: {@code -x VALUE}, {@code --name VALUE},
 * {@code --name=VALUE}, flags without values, and positional arguments. An option the command
 * does not know is an error that names it.
 */
final class Args {
    private final String command;
    private final Map<String, String> values = new LinkedHashMap<>();
    private final List<String> positional = new ArrayList<>();
    /** The spec of the last Args made on this thread: what a command accepts, which its --help must list (a test checks). */
    private static final ThreadLocal<List<String>> LAST_SPEC = new ThreadLocal<>();

    /** The options the last Args made on this thread accepts, as given to its constructor. */
    static List<String> lastSpec() {
        return LAST_SPEC.get();
    }

    /**
     * @param spec the options this command takes, each "name" for one with a value or "name!" for a
     *             flag; aliases joined with '|' ("m|model"); the first name is the key
     */
    Args(String command, String[] argv, int from, String... spec) {
        this.command = command;
        LAST_SPEC.set(List.of(spec));
        Map<String, String> keyOf = new LinkedHashMap<>();
        Set<String> flags = new java.util.HashSet<>();
        for (String s : spec) {
            boolean flag = s.endsWith("!");
            String[] names = (flag ? s.substring(0, s.length() - 1) : s).split("\\|");
            for (String n : names) {
                keyOf.put(n, names[0]);
                if (flag) flags.add(names[0]);
            }
        }
        for (int i = from; i < argv.length; i++) {
            String a = argv[i];
            if (a.startsWith("-") && a.length() > 1 && !isNumber(a)) {
                String name = a.replaceFirst("^--?", "");
                String inline = null;
                int eq = name.indexOf('=');
                if (eq > 0) {
                    inline = name.substring(eq + 1);
                    name = name.substring(0, eq);
                }
                String key = keyOf.get(name);
                if (key == null) throw new UsageException("unknown option " + a + " for 'hearth " + command + "' (see: hearth " + command + " --help)");
                if (flags.contains(key)) {
                    values.put(key, inline == null ? "true" : inline);
                } else if (inline != null) {
                    values.put(key, inline);
                } else {
                    if (i + 1 >= argv.length) throw new UsageException("option " + a + " needs a value");
                    values.put(key, argv[++i]);
                }
            } else {
                positional.add(a);
            }
        }
    }

    private static boolean isNumber(String s) {
        try {
            Double.parseDouble(s);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    boolean has(String key) {
        return values.containsKey(key);
    }

    String get(String key, String dflt) {
        return values.getOrDefault(key, dflt);
    }

    String require(String key, String what) {
        String v = values.get(key);
        if (v == null) throw new UsageException("'hearth " + command + "' needs " + what);
        return v;
    }

    int getInt(String key, int dflt) {
        String v = values.get(key);
        if (v == null) return dflt;
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + key + " takes a whole number, not '" + v + "'");
        }
    }

    long getLong(String key, long dflt) {
        String v = values.get(key);
        if (v == null) return dflt;
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + key + " takes a whole number, not '" + v + "'");
        }
    }

    float getFloat(String key, float dflt) {
        String v = values.get(key);
        if (v == null) return dflt;
        try {
            return Float.parseFloat(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + key + " takes a number, not '" + v + "'");
        }
    }

    boolean flag(String key) {
        return Boolean.parseBoolean(values.getOrDefault(key, "false"));
    }

    List<String> positional() {
        return positional;
    }

    /** A mistake in how the command was called: exit status 2. */
    static final class UsageException extends HearthException {
        UsageException(String message) {
            super(message);
        }
    }
}
