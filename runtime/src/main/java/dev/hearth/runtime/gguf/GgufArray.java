package dev.hearth.runtime.gguf;

import java.util.List;

/**
 * A metadata array: its element type and values. Numbers are boxed Java types (UINT32 as Long,
 * UINT8 and UINT16 as Integer, UINT64 as Long holding the bits); arrays of arrays nest.
 */
public record GgufArray(GgufValueType elementType, List<Object> values) {
    public int size() {
        return values.size();
    }

    public Object get(int i) {
        return values.get(i);
    }
}
