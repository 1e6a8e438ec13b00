package dev.hearth.runtime.gguf;

import java.util.List;

/**
 * One metadata value with its GGUF type, so that a file written back is the same file. The
 * value is held as the type's Java type (see {@link GgufValueType}): the constructor checks and
 * converts it, so {@code new GgufValue(UINT32, 5)} holds the Long 5.
 */
public record GgufValue(GgufValueType type, Object value) {
    public GgufValue {
        if (type == null) throw new IllegalArgumentException("metadata value type is null");
        value = type.canonical(value);
    }

    public static GgufValue of(String s) {
        return new GgufValue(GgufValueType.STRING, s);
    }

    public static GgufValue u8(int v) {
        return new GgufValue(GgufValueType.UINT8, v);
    }

    public static GgufValue i8(int v) {
        return new GgufValue(GgufValueType.INT8, v);
    }

    public static GgufValue u16(int v) {
        return new GgufValue(GgufValueType.UINT16, v);
    }

    public static GgufValue i16(int v) {
        return new GgufValue(GgufValueType.INT16, v);
    }

    public static GgufValue u32(long v) {
        return new GgufValue(GgufValueType.UINT32, v);
    }

    public static GgufValue i32(int v) {
        return new GgufValue(GgufValueType.INT32, v);
    }

    /** UINT64 from the raw bits of {@code v}. */
    public static GgufValue u64(long v) {
        return new GgufValue(GgufValueType.UINT64, v);
    }

    public static GgufValue i64(long v) {
        return new GgufValue(GgufValueType.INT64, v);
    }

    public static GgufValue f32(float v) {
        return new GgufValue(GgufValueType.FLOAT32, v);
    }

    public static GgufValue f64(double v) {
        return new GgufValue(GgufValueType.FLOAT64, v);
    }

    public static GgufValue bool(boolean v) {
        return new GgufValue(GgufValueType.BOOL, v);
    }

    public static GgufValue array(GgufValueType elementType, List<?> values) {
        return new GgufValue(GgufValueType.ARRAY, GgufArray.of(elementType, values));
    }

    public static GgufValue array(GgufArray a) {
        return new GgufValue(GgufValueType.ARRAY, a);
    }

    /** A short rendering for {@code hearth info}: long arrays and strings are summarised. */
    public String summary(int maxItems) {
        return summary(maxItems, 120);
    }

    /**
     * A one-line rendering: an array shows its element type, length and first {@code maxItems}
     * items; a string is quoted, escaped and cut after {@code maxChars} characters.
     */
    public String summary(int maxItems, int maxChars) {
        return render(type, value, maxItems, maxChars);
    }

    static String render(GgufValueType type, Object value, int maxItems, int maxChars) {
        return switch (value) {
            case GgufArray a -> {
                StringBuilder sb = new StringBuilder("[" + a.elementType().name().toLowerCase() + " x " + a.size() + "]");
                int k = Math.min(Math.max(maxItems, 0), a.size());
                for (int i = 0; i < k; i++) {
                    sb.append(i == 0 ? " " : ", ");
                    Object v = a.get(i);
                    sb.append(v instanceof GgufArray inner
                            ? "[" + inner.elementType().name().toLowerCase() + " x " + inner.size() + "]"
                            : render(a.elementType(), v, maxItems, Math.min(maxChars, 40)));
                }
                if (k < a.size()) sb.append(k == 0 ? " ..." : ", ...");
                yield sb.toString();
            }
            case String s -> quote(s, maxChars);
            case Long l when type == GgufValueType.UINT64 -> Long.toUnsignedString(l);
            default -> String.valueOf(value);
        };
    }

    /** Quotes {@code s}, escaping control characters and cutting it after {@code maxChars}. */
    static String quote(String s, int maxChars) {
        StringBuilder sb = new StringBuilder("\"");
        int n = Math.min(s.length(), Math.max(maxChars, 0));
        if (n > 0 && n < s.length() && Character.isHighSurrogate(s.charAt(n - 1))) n--;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (c < 0x20 || c == 0x7f || (c >= 0xDC80 && c <= 0xDCFF)) {
                        sb.append(String.format("\\x%02x", c < 0xDC00 ? (int) c : c - 0xDC00));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
        if (n < s.length()) sb.append("... (").append(s.length()).append(" chars)");
        return sb.toString();
    }
}
