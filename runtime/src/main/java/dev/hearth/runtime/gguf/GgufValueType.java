package dev.hearth.runtime.gguf;

/**
 * The metadata value types of GGUF, by their ids, and the one Java type each is held as:
 * UINT8, INT8, UINT16, INT16, INT32 as Integer; UINT32, UINT64, INT64 as Long (UINT64 holds the
 * raw bits); FLOAT32 as Float; FLOAT64 as Double; BOOL as Boolean; STRING as String; ARRAY as
 * {@link GgufArray}.
 */
public enum GgufValueType {
    UINT8(1), INT8(1), UINT16(2), INT16(2), UINT32(4), INT32(4), FLOAT32(4), BOOL(1), STRING(0), ARRAY(0),
    UINT64(8), INT64(8), FLOAT64(8);

    private static final GgufValueType[] BY_ID = values();

    /** Bytes a value of this type takes in the file; 0 for the variable-length STRING and ARRAY. */
    public final int fixedSize;

    GgufValueType(int fixedSize) {
        this.fixedSize = fixedSize;
    }

    /** The GGUF id of this type. */
    public int id() {
        return ordinal();
    }

    public static GgufValueType byId(long id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[(int) id] : null;
    }

    /**
     * {@code v} as this type's Java type: integral numbers are range-checked and boxed as the
     * canonical type (so {@code UINT32} given an Integer becomes a Long), floats accept any
     * number. Throws IllegalArgumentException where {@code v} cannot be a value of this type.
     */
    public Object canonical(Object v) {
        return switch (this) {
            case UINT8 -> (int) integral(v, 0, 0xFF);
            case INT8 -> (int) integral(v, Byte.MIN_VALUE, Byte.MAX_VALUE);
            case UINT16 -> (int) integral(v, 0, 0xFFFF);
            case INT16 -> (int) integral(v, Short.MIN_VALUE, Short.MAX_VALUE);
            case UINT32 -> integral(v, 0, 0xFFFF_FFFFL);
            case INT32 -> (int) integral(v, Integer.MIN_VALUE, Integer.MAX_VALUE);
            case UINT64, INT64 -> integral(v, Long.MIN_VALUE, Long.MAX_VALUE);
            case FLOAT32 -> v instanceof Float f ? f : (Object) floating(v).floatValue();
            case FLOAT64 -> v instanceof Double d ? d : (Object) floating(v).doubleValue();
            case BOOL -> {
                if (v instanceof Boolean b) yield b;
                throw wrong(v);
            }
            case STRING -> {
                if (v instanceof String s) yield s;
                throw wrong(v);
            }
            case ARRAY -> {
                if (v instanceof GgufArray a) yield a;
                throw wrong(v);
            }
        };
    }

    private long integral(Object v, long min, long max) {
        if (!(v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte)) throw wrong(v);
        long x = ((Number) v).longValue();
        if (x < min || x > max) {
            throw new IllegalArgumentException(this + " value " + x + " is out of range [" + min + ", " + max + "]");
        }
        return x;
    }

    private Number floating(Object v) {
        if (v instanceof Number n) return n;
        throw wrong(v);
    }

    private IllegalArgumentException wrong(Object v) {
        return new IllegalArgumentException(this + " value cannot be "
                + (v == null ? "null" : "a " + v.getClass().getSimpleName() + " (" + v + ")"));
    }
}
