package dev.hearth.runtime.gguf;

/**
 * One metadata value with its GGUF type, so that a file written back is the same file.
 * Java types: UINT8, INT8, UINT16, INT16, INT32 as Integer; UINT32, UINT64, INT64 as Long
 * (UINT64 holds the raw bits); FLOAT32 as Float; FLOAT64 as Double; BOOL as Boolean;
 * STRING as String; ARRAY as {@link GgufArray}.
 */
public record GgufValue(GgufValueType type, Object value) {
    public static GgufValue of(String s) {
        return new GgufValue(GgufValueType.STRING, s);
    }

    public static GgufValue u32(long v) {
        return new GgufValue(GgufValueType.UINT32, v);
    }

    public static GgufValue i32(int v) {
        return new GgufValue(GgufValueType.INT32, v);
    }

    public static GgufValue f32(float v) {
        return new GgufValue(GgufValueType.FLOAT32, v);
    }

    public static GgufValue bool(boolean v) {
        return new GgufValue(GgufValueType.BOOL, v);
    }

    public static GgufValue array(GgufValueType elementType, java.util.List<?> values) {
        return new GgufValue(GgufValueType.ARRAY, new GgufArray(elementType, java.util.List.copyOf(values)));
    }

    /** A short rendering for {@code hearth info}: long arrays are summarised. */
    public String summary(int maxItems) {
        if (value instanceof GgufArray a) {
            StringBuilder sb = new StringBuilder("[" + a.elementType().name().toLowerCase() + " x " + a.size() + "]");
            if (a.size() > 0) {
                sb.append(" ");
                int k = Math.min(maxItems, a.size());
                for (int i = 0; i < k; i++) {
                    if (i > 0) sb.append(", ");
                    Object v = a.get(i);
                    sb.append(v instanceof GgufArray inner ? "[.. x " + inner.size() + "]" : quote(v));
                }
                if (k < a.size()) sb.append(", ...");
            }
            return sb.toString();
        }
        if (type == GgufValueType.UINT64) return Long.toUnsignedString((Long) value);
        return quote(value);
    }

    private static String quote(Object v) {
        if (v instanceof String s) {
            String t = s.length() > 120 ? s.substring(0, 120) + "..." : s;
            return "\"" + t.replace("\n", "\\n") + "\"";
        }
        return String.valueOf(v);
    }
}
