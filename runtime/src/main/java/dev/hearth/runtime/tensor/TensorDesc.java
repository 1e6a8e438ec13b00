package dev.hearth.runtime.tensor;

import dev.hearth.runtime.dtype.DType;

import java.util.Arrays;

/**
 * A tensor's type, shape and name. Dimensions are in GGUF and ggml order: {@code ne[0]} is the
 * innermost (contiguous) one, so a matrix of {@code N} rows of {@code K} elements is
 * {@code ne = [K, N]}. Tensors are contiguous: {@link #nb(int)} derives the byte strides.
 */
public record TensorDesc(String name, DType type, long[] ne) {
    public TensorDesc {
        ne = ne.clone();
    }

    public static TensorDesc of(String name, DType type, long... ne) {
        return new TensorDesc(name, type, ne);
    }

    public int rank() {
        return ne.length;
    }

    public long ne(int i) {
        return i < ne.length ? ne[i] : 1;
    }

    @Override
    public long[] ne() {
        return ne.clone();
    }

    public long elements() {
        long n = 1;
        for (long d : ne) n = Math.multiplyExact(n, d);
        return n;
    }

    /** Elements in one row (the innermost dimension). */
    public long rowLength() {
        return ne(0);
    }

    /** Rows: the product of all dimensions but the first. */
    public long rows() {
        long n = 1;
        for (int i = 1; i < ne.length; i++) n = Math.multiplyExact(n, ne[i]);
        return n;
    }

    public long rowBytes() {
        return type.bytesFor(ne(0));
    }

    public long bytes() {
        return Math.multiplyExact(rowBytes(), rows());
    }

    /** Byte stride of dimension {@code i}. */
    public long nb(int i) {
        if (i == 0) return type.typeSize;
        long s = rowBytes();
        for (int d = 1; d < i; d++) s *= ne(d);
        return s;
    }

    public TensorDesc withName(String n) {
        return new TensorDesc(n, type, ne);
    }

    public String shapeString() {
        return Arrays.toString(ne);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorDesc t && t.name.equals(name) && t.type == type && Arrays.equals(t.ne, ne);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(ne);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + shapeString();
    }
}
