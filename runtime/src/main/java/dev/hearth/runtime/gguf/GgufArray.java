package dev.hearth.runtime.gguf;

import java.util.List;

/**
 * A metadata array: its element type and values, held as {@link GgufValueType}'s Java types
 * (UINT32 as Long, UINT8 and UINT16 as Integer, UINT64 as Long holding the bits); arrays of
 * arrays nest. The values are checked and converted to those types, and the list is immutable.
 */
public record GgufArray(GgufValueType elementType, List<Object> values) {
    public GgufArray {
        if (elementType == null) throw new IllegalArgumentException("array element type is null");
        Object[] a = values.toArray();
        for (int i = 0; i < a.length; i++) a[i] = elementType.canonical(a[i]);
        values = List.of(a);
    }

    public static GgufArray of(GgufValueType elementType, List<?> values) {
        return new GgufArray(elementType, new java.util.ArrayList<Object>(values));
    }

    public int size() {
        return values.size();
    }

    public Object get(int i) {
        return values.get(i);
    }
}
