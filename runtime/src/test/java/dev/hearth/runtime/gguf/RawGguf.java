package dev.hearth.runtime.gguf;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Builds GGUF bytes by hand, little-endian, for files the writer would refuse to make. Starts
 * with the magic and the version; lengths and counts are 32-bit in version 1 and 64-bit after.
 */
final class RawGguf {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final int version;

    RawGguf(int version) {
        this.version = version;
        bytes("GGUF".getBytes(StandardCharsets.US_ASCII));
        u32(version);
    }

    /** Header with the counts: version 1 writes them as 32 bits. */
    static RawGguf header(int version, long nTensors, long nKv) {
        return new RawGguf(version).len(nTensors).len(nKv);
    }

    RawGguf u8(int v) {
        out.write(v);
        return this;
    }

    RawGguf u32(long v) {
        for (int k = 0; k < 4; k++) out.write((int) (v >>> (8 * k)));
        return this;
    }

    RawGguf u64(long v) {
        for (int k = 0; k < 8; k++) out.write((int) (v >>> (8 * k)));
        return this;
    }

    /** A count or length: 32 bits in version 1, 64 after. */
    RawGguf len(long v) {
        return version == 1 ? u32(v) : u64(v);
    }

    RawGguf str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        len(b.length);
        return bytes(b);
    }

    RawGguf bytes(byte[] b) {
        out.write(b, 0, b.length);
        return this;
    }

    /** A metadata entry whose value is a UINT32. */
    RawGguf kvU32(String key, long v) {
        return str(key).u32(GgufValueType.UINT32.id()).u32(v);
    }

    /** A tensor info: name, dimensions, type id and data offset. */
    RawGguf tensor(String name, long typeId, long offset, long... ne) {
        str(name).u32(ne.length);
        for (long d : ne) len(d);
        return u32(typeId).u64(offset);
    }

    /** Zeros up to the next multiple of {@code a}. */
    RawGguf pad(int a) {
        while (out.size() % a != 0) out.write(0);
        return this;
    }

    RawGguf zeros(int n) {
        for (int i = 0; i < n; i++) out.write(0);
        return this;
    }

    int size() {
        return out.size();
    }

    byte[] build() {
        return out.toByteArray();
    }
}
