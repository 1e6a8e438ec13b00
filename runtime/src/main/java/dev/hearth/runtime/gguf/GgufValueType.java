package dev.hearth.runtime.gguf;

/** The metadata value types of GGUF, by their ids. */
public enum GgufValueType {
    UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64;

    public static GgufValueType byId(long id) {
        return id >= 0 && id < values().length ? values()[(int) id] : null;
    }
}
