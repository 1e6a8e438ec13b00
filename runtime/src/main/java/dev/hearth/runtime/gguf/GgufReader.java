package dev.hearth.runtime.gguf;

import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.tensor.TensorDesc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses the header, metadata and tensor infos of a mapped GGUF file. Every length and count is
 * checked against the bytes that remain before anything is allocated, so a damaged file gets a
 * {@link GgufException} naming the offset, never an OutOfMemoryError or a negative size.
 */
final class GgufReader {
    static final int MAGIC = 0x46554747; // "GGUF" little-endian
    static final int MAX_DIMS = 4;
    private static final int MAX_NESTING = 16;

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
        if (v < 1 || v > 3) throw fail(4, "unknown version " + v + " (this reader knows versions 1, 2 and 3)");
        version = (int) v;
        long nTensors = count("tensor count");
        long nKv = count("metadata count");
        // Each metadata entry takes at least a key length and a type; each tensor info at least
        // a name length, a dimension count, a type and an offset.
        requireRoom(nKv, lenSize() + 4, "metadata count " + nKv);

        Map<String, GgufValue> meta = new LinkedHashMap<>();
        for (long i = 0; i < nKv; i++) {
            long at = pos;
            String key = string("metadata key");
            long typeId = u32("metadata value type of " + key);
            GgufValueType type = GgufValueType.byId(typeId);
            if (type == null) throw fail(pos - 4, "metadata " + key + " has unknown value type " + typeId);
            Object value = value(type, key, 0);
            if (meta.put(key, new GgufValue(type, value)) != null) throw fail(at, "duplicate metadata key " + key);
        }
        requireRoom(nTensors, lenSize() + 4 + 4 + 8, "tensor count " + nTensors);
        int alignment = GgufFile.DEFAULT_ALIGNMENT;
        GgufValue al = meta.get("general.alignment");
        if (al != null) {
            if (!(al.value() instanceof Number n) || n.longValue() <= 0 || Long.bitCount(n.longValue()) != 1 || n.longValue() > (1 << 30)) {
                throw fail(0, "general.alignment must be a power of two, found " + al.value());
            }
            alignment = (int) ((Number) al.value()).longValue();
        }

        Map<String, GgufTensorInfo> tensors = new LinkedHashMap<>();
        for (long i = 0; i < nTensors; i++) {
            long at = pos;
            String name = string("tensor name");
            long nDims = u32("dimension count of " + name);
            if (nDims < 1 || nDims > MAX_DIMS) throw fail(pos - 4, "tensor " + name + " has " + nDims + " dimensions (1 to " + MAX_DIMS + " allowed)");
            long[] ne = new long[(int) nDims];
            for (int d = 0; d < nDims; d++) {
                ne[d] = version == 1 ? u32("dimension of " + name) : i64("dimension of " + name);
                if (ne[d] < 0) throw fail(pos - 8, "tensor " + name + " has negative dimension " + ne[d]);
            }
            long typeAt = pos;
            long typeId = u32("type of " + name);
            DType type = DType.byId(typeId);
            if (type == null) throw fail(typeAt, "tensor " + name + " has unknown type id " + typeId);
            if (type.retired) throw fail(typeAt, "tensor " + name + " has type " + type + ", which ggml retired; re-convert the model");
            long offset = i64("data offset of " + name);
            long elements = 1;
            for (long d : ne) {
                if (d != 0 && elements > Long.MAX_VALUE / d) throw fail(at, "tensor " + name + " has dimensions whose product overflows");
                elements *= d;
            }
            if (ne[0] % type.blockSize != 0) {
                throw fail(at, "tensor " + name + ": row of " + ne[0] + " elements is not a whole number of " + type + " blocks of " + type.blockSize);
            }
            long bytes;
            try {
                bytes = Math.multiplyExact(elements / type.blockSize, (long) type.typeSize);
            } catch (ArithmeticException e) {
                throw fail(at, "tensor " + name + " is too large (byte size overflows)");
            }
            if (offset < 0 || offset % alignment != 0) throw fail(typeAt + 4, "tensor " + name + " data offset " + offset + " is not a multiple of the alignment " + alignment);
            TensorDesc desc = new TensorDesc(name, type, ne);
            if (tensors.put(name, new GgufTensorInfo(desc, offset)) != null) throw fail(at, "duplicate tensor name " + name);
            if (bytes < 0) throw fail(at, "tensor " + name + " has a negative size");
        }
        long dataOffset = align(pos, alignment);
        if (nTensors > 0 && dataOffset > size) throw fail(pos, "tensor data section starts at " + dataOffset + ", past the end of the file (" + size + " bytes)");
        for (GgufTensorInfo t : tensors.values()) {
            long bytes = t.desc().bytes();
            long end = dataOffset + t.offset() + bytes;
            if (t.offset() > size || end < 0 || end > size) {
                throw fail(dataOffset + t.offset(), "tensor " + t.name() + " data (" + bytes + " bytes at offset " + t.offset()
                        + ") runs past the end of the file (" + size + " bytes); the file may be truncated");
            }
        }
        return new GgufFile(path, arena, seg, version, meta, tensors, dataOffset, alignment);
    }

    private Object value(GgufValueType type, String key, int depth) {
        return switch (type) {
            case UINT8 -> Byte.toUnsignedInt(need(1, key) ? seg.get(ValueLayout.JAVA_BYTE, pos++) : 0);
            case INT8 -> (int) (need(1, key) ? seg.get(ValueLayout.JAVA_BYTE, pos++) : 0);
            case UINT16 -> { need(2, key); int v = Short.toUnsignedInt(seg.get(I16, pos)); pos += 2; yield v; }
            case INT16 -> { need(2, key); int v = seg.get(I16, pos); pos += 2; yield v; }
            case UINT32 -> u32(key);
            case INT32 -> { need(4, key); int v = seg.get(I32, pos); pos += 4; yield v; }
            case FLOAT32 -> { need(4, key); float v = seg.get(F32, pos); pos += 4; yield v; }
            case BOOL -> {
                need(1, key);
                byte b = seg.get(ValueLayout.JAVA_BYTE, pos);
                if (b != 0 && b != 1) throw fail(pos, "metadata " + key + ": bool byte is " + b);
                pos++;
                yield b == 1;
            }
            case STRING -> string(key);
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
            case UINT8, INT8, BOOL -> 1;
            case UINT16, INT16 -> 2;
            case UINT32, INT32, FLOAT32 -> 4;
            case UINT64, INT64, FLOAT64 -> 8;
            case STRING -> lenSize();
            case ARRAY -> 4 + lenSize();
        };
        if (n > (size - pos) / min) {
            throw fail(countAt, "metadata " + key + ": array of " + n + " " + et + " values runs past the end of the file");
        }
        List<Object> values = new ArrayList<>((int) n);
        for (long i = 0; i < n; i++) values.add(value(et, key, depth + 1));
        return new GgufArray(et, values);
    }

    private String string(String what) {
        long at = pos;
        long len = version == 1 ? u32(what + " length") : i64(what + " length");
        if (len < 0 || len > size - pos) throw fail(at, what + ": string length " + Long.toUnsignedString(len) + " runs past the end of the file");
        if (len > Integer.MAX_VALUE - 16) throw fail(at, what + ": string length " + len + " is too large");
        byte[] b = seg.asSlice(pos, len).toArray(ValueLayout.JAVA_BYTE);
        pos += len;
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            // Vocabularies hold byte tokens that are not valid UTF-8 on their own; keep them lossless.
            return new String(b, StandardCharsets.ISO_8859_1);
        }
    }

    private long count(String what) {
        long at = pos;
        long n = version == 1 ? u32(what) : i64(what);
        if (n < 0) throw fail(at, what + " " + Long.toUnsignedString(n) + " is too large");
        return n;
    }

    private void requireRoom(long n, long minBytesEach, String what) {
        if (n > (size - pos) / minBytesEach) throw fail(pos, what + " is larger than the file could hold (" + size + " bytes)");
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

    private boolean need(long n, String what) {
        if (pos + n > size) throw fail(pos, "file ends while reading " + what + " (truncated?)");
        return true;
    }

    private GgufException fail(long at, String what) {
        return new GgufException(file, at, what);
    }

    static long align(long x, long a) {
        return (x + a - 1) / a * a;
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
