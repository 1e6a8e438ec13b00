package dev.hearth.server.chat;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps(x, ensure_ascii=False, indent=.., separators=.., sort_keys=..)},
 * which is what transformers' {@code tojson} filter calls: the same spacing, escapes and number
 * forms (1.0, 1e-05), so that tool definitions reach the prompt as the model saw them in training.
 */
final class PyJson {
    private PyJson() {
    }

    /**
     * @param indent  null for one line, else the text per level (Python's indent=4 is four spaces)
     * @param itemSep between items (Python: ", " without indent, "," with)
     * @param keySep  between a key and its value (": ")
     */
    static String dumps(Object v, String indent, String itemSep, String keySep, boolean sortKeys) {
        StringBuilder sb = new StringBuilder();
        write(sb, v, indent, itemSep, keySep, sortKeys, 0);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v, String indent, String itemSep, String keySep, boolean sortKeys, int level) {
        switch (v) {
            case null -> sb.append("null");
            case Boolean b -> sb.append(b ? "true" : "false");
            case CharSequence s -> quote(sb, s.toString());
            case Character c -> quote(sb, c.toString());
            case Double d -> sb.append(pyFloat(d));
            case Float f -> sb.append(pyFloat(f.doubleValue()));
            case Number n -> sb.append(n instanceof BigDecimal bd ? bd.toPlainString() : n.toString());
            case Map<?, ?> m -> {
                if (m.isEmpty()) {
                    sb.append("{}");
                    return;
                }
                List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
                if (sortKeys) entries.sort((a, b) -> key(a.getKey()).compareTo(key(b.getKey())));
                sb.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : entries) {
                    if (!first) sb.append(itemSep);
                    first = false;
                    newline(sb, indent, level + 1);
                    quote(sb, key(e.getKey()));
                    sb.append(keySep);
                    write(sb, e.getValue(), indent, itemSep, keySep, sortKeys, level + 1);
                }
                newline(sb, indent, level);
                sb.append('}');
            }
            case Iterable<?> it -> writeList(sb, it, indent, itemSep, keySep, sortKeys, level);
            case Object[] a -> writeList(sb, Arrays.asList(a), indent, itemSep, keySep, sortKeys, level);
            default -> quote(sb, v.toString());
        }
    }

    private static void writeList(StringBuilder sb, Iterable<?> it, String indent, String itemSep, String keySep, boolean sortKeys, int level) {
        if (!it.iterator().hasNext()) {
            sb.append("[]");
            return;
        }
        sb.append('[');
        boolean first = true;
        for (Object o : it) {
            if (!first) sb.append(itemSep);
            first = false;
            newline(sb, indent, level + 1);
            write(sb, o, indent, itemSep, keySep, sortKeys, level + 1);
        }
        newline(sb, indent, level);
        sb.append(']');
    }

    private static void newline(StringBuilder sb, String indent, int level) {
        if (indent == null) return;
        sb.append('\n');
        for (int i = 0; i < level; i++) sb.append(indent);
    }

    /** A key as json.dumps writes it: strings as they are; true/false/null and numbers as their JSON. */
    private static String key(Object k) {
        return switch (k) {
            case null -> "null";
            case Boolean b -> b ? "true" : "false";
            case Double d -> pyFloat(d);
            default -> k.toString();
        };
    }

    /** A JSON string as Python's json.dumps writes it (ensure_ascii off): the escapes of {@link dev.hearth.runtime.json.Json#quote}. */
    static void quote(StringBuilder sb, String s) {
        sb.append(dev.hearth.runtime.json.Json.quote(s));
    }

    /** Python's repr of a float: shortest digits, positional from 1e-4 up to 1e16, else d.ddde+XX. */
    static String pyFloat(double d) {
        if (Double.isNaN(d)) return "NaN";
        if (Double.isInfinite(d)) return d > 0 ? "Infinity" : "-Infinity";
        if (d == 0) return (1 / d < 0) ? "-0.0" : "0.0";
        BigDecimal bd = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        String digits = bd.unscaledValue().abs().toString();
        int exp = digits.length() - 1 - bd.scale(); // the decimal exponent of the first digit
        String sign = d < 0 ? "-" : "";
        if (exp >= -4 && exp < 16) {
            String plain = bd.abs().toPlainString();
            return sign + (plain.contains(".") ? plain : plain + ".0");
        }
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        String e = Integer.toString(Math.abs(exp));
        return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + (e.length() < 2 ? "0" + e : e);
    }
}
