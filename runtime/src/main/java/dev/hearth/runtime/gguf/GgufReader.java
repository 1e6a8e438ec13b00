package dev.hearth.runtime.gguf;

import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.tensor.TensorDesc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses the header, metadata and tensor infos of a mapped GGUF file (versions 1 to 3; version 1
 * has 32-bit counts, lengths and dimensions). Every length and count is checked against the bytes
 * that remain, and against fixed limits, before anything is allocated, so a damaged file gets a
 * {@link GgufException} naming the offset, never an OutOfMemoryError or a negative size.
 */
final class GgufReader {
    static final int MAGIC = 0x46554747; // "GGUF" little-endian
    static final int MAX_DIMS = 4;
    static final int MAX_NESTING = 16;
    /** Limits far above any real model, so that a damaged count cannot exhaust memory. */
    static final long MAX_TENSORS = 1L << 20;
    static final long MAX_METADATA_ENTRIES = 1L << 20;
    static final long MAX_ARRAY_ITEMS = 1L << 24;
    static final long MAX_HEADER_BYTES = 256L << 20;
    static final long MAX_ALIGNMENT = 1L << 30;

    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final String file;
    private final MemorySegment seg;
    private final long size;
    private long pos;
    private int version;
    private long arrayItems;

    private GgufReader(Path path, MemorySegment seg) {
        this.file = path.toString();
        this.seg = seg;
        this.size = seg.byteSize();
    }

    static GgufFile parse(Path path, Arena arena, MemorySegment seg) {
        return new GgufReader(path, seg).parse(path, arena);
    }

    private GgufFile parse(Path path, Arena arena) {
        if (size < 4) throw fail(0, "file is " + size + " bytes long, too short for a GGUF header");
        int magic = seg.get(I32, 0);
        if (magic != MAGIC) {
            throw fail(0, "bad magic " + hexMagic(magic) + " (a GGUF file starts with \"GGUF\")");
        }
        pos = 4;
        long v = u32("version");
        if (v < 1 || v > 3) {
            long swapped = Integer.toUnsignedLong(Integer.reverseBytes((int) v));
            String hint = swapped >= 1 && swapped <= 3 ? "; the file looks big-endian, which this reader does not read" : "";
            throw fail(4, "unknown version " + v + " (this reader knows versions 1, 2 and 3)" + hint);
        }
        version = (int) v;
        long nTensorsAt = pos;
        long nTensors = count("tensor count");
        long nKvAt = pos;
        long nKv = count("metadata count");
        // Each metadata entry takes at least a key length, a type and a one-byte value.
        requireRoom(nKvAt, nKv, lenSize() + 4 + 1, "metadata count " + nKv);
        if (nKv > MAX_METADATA_ENTRIES) throw fail(nKvAt, "metadata count " + nKv + " is more than this reader accepts (" + MAX_METADATA_ENTRIES + ")");

        Map<String, GgufValue> meta = new LinkedHashMap<>();
        long alignmentAt = -1;
        for (long i = 0; i < nKv; i++) {
            long at = pos;
            String key = string("metadata key");
            long typeAt = pos;
            long typeId = u32("metadata value type of " + key);
            GgufValueType type = GgufValueType.byId(typeId);
            if (type == null) throw fail(typeAt, "metadata " + key + " has unknown value type " + typeId);
            if (key.equals("general.alignment")) alignmentAt = pos;
            Object value = value(type, key, 0);
            if (meta.put(key, new GgufValue(type, value)) != null) throw fail(at, "duplicate metadata key " + key);
        }
        int alignment = GgufFile.DEFAULT_ALIGNMENT;
        GgufValue al = meta.get("general.alignment");
        if (al != null) {
            String bad = alignmentProblem(al);
            if (bad != null) throw fail(alignmentAt, "general.alignment " + bad);
            alignment = (int) ((Number) al.value()).longValue();
        }

        // Each tensor info takes at least a name length, a dimension count, one dimension, a type and an offset.
        requireRoom(nTensorsAt, nTensors, lenSize() + 4 + (version == 1 ? 4 : 8) + 4 + 8, "tensor count " + nTensors);
        if (nTensors > MAX_TENSORS) throw fail(nTensorsAt, "tensor count " + nTensors + " is more than this reader accepts (" + MAX_TENSORS + ")");
        Map<String, GgufTensorInfo> tensors = new LinkedHashMap<>();
        for (long i = 0; i < nTensors; i++) {
            long at = pos;
            String name = string("tensor name");
            long nDims = u32("dimension count of " + name);
            if (nDims < 1 || nDims > MAX_DIMS) throw fail(pos - 4, "tensor " + name + " has " + nDims + " dimensions (1 to " + MAX_DIMS + " allowed)");
            long[] ne = new long[(int) nDims];
            for (int d = 0; d < nDims; d++) {
                long dimAt = pos;
                ne[d] = version == 1 ? u32("dimension of " + name) : i64("dimension of " + name);
                if (ne[d] < 0) throw fail(dimAt, "tensor " + name + " has negative dimension " + ne[d]);
            }
            long typeAt = pos;
            long typeId = u32("type of " + name);
            DType type = DType.byId(typeId);
            if (type == null) throw fail(typeAt, "tensor " + name + " has unknown type id " + typeId);
            if (type.retired) throw fail(typeAt, "tensor " + name + " has type " + type + ", which ggml retired; re-convert the model");
            long offsetAt = pos;
            long offset = i64("data offset of " + name);
            // The product of the non-zero dimensions must fit, so that rows and elements never overflow.
            long nonZero = 1;
            for (long d : ne) {
                if (d == 0) continue;
                if (nonZero > Long.MAX_VALUE / d) throw fail(at, "tensor " + name + " has dimensions " + shape(ne) + " whose product overflows");
                nonZero *= d;
            }
            if (ne[0] % type.blockSize != 0) {
                throw fail(at, "tensor " + name + ": row of " + ne[0] + " elements is not a whole number of " + type + " blocks of " + type.blockSize);
            }
            if (nonZero / type.blockSize > Long.MAX_VALUE / type.typeSize) {
                throw fail(at, "tensor " + name + " " + shape(ne) + " is too large (its byte size overflows)");
            }
            if (offset < 0 || offset % alignment != 0) {
                throw fail(offsetAt, "tensor " + name + " data offset " + Long.toUnsignedString(offset) + " is not a multiple of the alignment " + alignment);
            }
            TensorDesc desc = new TensorDesc(name, type, ne);
            if (tensors.put(name, new GgufTensorInfo(desc, offset)) != null) throw fail(at, "duplicate tensor name " + name);
        }
        long tensorInfoEnd = pos;
        // With no tensors there is no data section: it is taken to start where the header ends.
        long dataOffset = nTensors == 0 ? pos : align(pos, alignment);
        if (nTensors > 0 && dataOffset > size) {
            throw fail(tensorInfoEnd, "tensor data section starts at " + dataOffset + ", past the end of the file (" + size + " bytes); the file may be truncated");
        }
        for (GgufTensorInfo t : tensors.values()) {
            long bytes = t.desc().bytes();
            if (t.offset() > size - dataOffset || bytes > size - dataOffset - t.offset()) {
                throw fail(dataOffset + t.offset(), "tensor " + t.name() + " data (" + bytes + " bytes at offset " + t.offset()
                        + ") runs past the end of the file (" + size + " bytes); the file may be truncated");
            }
        }
        return new GgufFile(path, arena, seg, version, meta, tensors, dataOffset, alignment);
    }

    /** Why {@code v} cannot be the value of general.alignment, or null where it can. */
    static String alignmentProblem(GgufValue v) {
        if (v.value() instanceof Long || v.value() instanceof Integer) {
            long a = ((Number) v.value()).longValue();
            if (v.type() == GgufValueType.UINT64 && a < 0) return "must be a power of two, found " + Long.toUnsignedString(a);
            if (a <= 0 || Long.bitCount(a) != 1 || a > MAX_ALIGNMENT) return "must be a power of two up to " + MAX_ALIGNMENT + ", found " + a;
            return null;
        }
        return "must be an integer (uint32), found " + v.type() + " " + v.value();
    }

    private Object value(GgufValueType type, String key, int depth) {
        return switch (type) {
            case UINT8 -> { need(1, key); yield Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, pos++)); }
            case INT8 -> { need(1, key); yield (int) seg.get(ValueLayout.JAVA_BYTE, pos++); }
            case UINT16 -> { need(2, key); int v = Short.toUnsignedInt(seg.get(I16, pos)); pos += 2; yield v; }
            case INT16 -> { need(2, key); int v = seg.get(I16, pos); pos += 2; yield v; }
            case UINT32 -> u32(key);
            case INT32 -> { need(4, key); int v = seg.get(I32, pos); pos += 4; yield v; }
            case FLOAT32 -> { need(4, key); float v = seg.get(F32, pos); pos += 4; yield v; }
            case BOOL -> {
                need(1, key);
                byte b = seg.get(ValueLayout.JAVA_BYTE, pos);
                if (b != 0 && b != 1) throw fail(pos, "metadata " + key + ": bool byte is " + b + " (0 or 1 allowed)");
                pos++;
                yield b == 1;
            }
            case STRING -> string("metadata " + key);
            case UINT64, INT64 -> i64(key);
            case FLOAT64 -> { need(8, key); double v = seg.get(F64, pos); pos += 8; yield v; }
            case ARRAY -> array(key, depth);
        };
    }

    private GgufArray array(String key, int depth) {
        if (depth >= MAX_NESTING) throw fail(pos, "metadata " + key + ": arrays nested deeper than " + MAX_NESTING);
        long typeAt = pos;
        long typeId = u32("array element type of " + key);
        GgufValueType et = GgufValueType.byId(typeId);
        if (et == null) throw fail(typeAt, "metadata " + key + " is an array of unknown type " + typeId);
        long countAt = pos;
        long n = count("array length of " + key);
        long min = switch (et) {
            case STRING -> lenSize();
            case ARRAY -> 4 + lenSize();
            default -> et.fixedSize;
        };
        if (n > (size - pos) / min) {
            throw fail(countAt, "metadata " + key + ": array of " + n + " " + et + " values runs past the end of the file (" + size + " bytes)");
        }
        if (n > MAX_ARRAY_ITEMS - arrayItems) {
            throw fail(countAt, "metadata " + key + ": array of " + n + " values takes the metadata past "
                    + MAX_ARRAY_ITEMS + " array items, more than this reader accepts");
        }
        arrayItems += n;
        List<Object> values = new ArrayList<>((int) n);
        for (long i = 0; i < n; i++) values.add(value(et, key, depth + 1));
        return new GgufArray(et, values);
    }

    private String string(String what) {
        long at = pos;
        long len = version == 1 ? u32(what + " length") : i64(what + " length");
        if (len < 0 || len > size - pos) {
            throw fail(at, what + ": string length " + Long.toUnsignedString(len) + " runs past the end of the file (" + size + " bytes)");
        }
        if (pos + len > MAX_HEADER_BYTES) {
            throw fail(at, what + ": string length " + len + " takes the header past " + MAX_HEADER_BYTES + " bytes, more than this reader accepts");
        }
        if (len == 0) return "";
        byte[] b = new byte[(int) len];
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, b, 0, (int) len);
        pos += len;
        return GgufStrings.decode(b);
    }

    private long count(String what) {
        long at = pos;
        long n = version == 1 ? u32(what) : i64(what);
        if (n < 0) throw fail(at, what + " " + Long.toUnsignedString(n) + " is too large");
        return n;
    }

    private void requireRoom(long at, long n, long minBytesEach, String what) {
        if (n > (size - pos) / minBytesEach) throw fail(at, what + " is more than the file could hold (" + size + " bytes)");
    }

    private int lenSize() {
        return version == 1 ? 4 : 8;
    }

    private long u32(String what) {
        need(4, what);
        long v = Integer.toUnsignedLong(seg.get(I32, pos));
        pos += 4;
        return v;
    }

    private long i64(String what) {
        need(8, what);
        long v = seg.get(I64, pos);
        pos += 8;
        return v;
    }

    private void need(long n, String what) {
        if (n > size - pos) throw fail(pos, "file ends while reading " + what + " (" + size + " bytes; truncated?)");
    }

    private GgufException fail(long at, String what) {
        return new GgufException(file, at, what);
    }

    static long align(long x, long a) {
        return (x + a - 1) / a * a;
    }

    private static String shape(long[] ne) {
        return java.util.Arrays.toString(ne);
    }

    private static String hexMagic(int m) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < 4; i++) {
            int c = (m >>> (8 * i)) & 0xff;
            sb.append(c >= 32 && c < 127 ? Character.toString(c) : String.format("\\x%02x", c));
        }
        return sb.append('"').toString();
    }
}
