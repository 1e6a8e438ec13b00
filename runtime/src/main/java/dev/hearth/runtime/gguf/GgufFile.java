package dev.hearth.runtime.gguf;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.tensor.TensorDesc;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (versions 1, 2 and 3), mapped into memory. Metadata and tensor infos are parsed
 * once; each tensor's data is a zero-copy slice of the mapping.
 */
public final class GgufFile implements AutoCloseable {
    public static final int DEFAULT_ALIGNMENT = 32;

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapping;
    private final int version;
    private final Map<String, GgufValue> metadata;
    private final Map<String, GgufTensorInfo> tensors;
    private final long dataOffset;
    private final int alignment;
    private boolean closed;

    GgufFile(Path path, Arena arena, MemorySegment mapping, int version, Map<String, GgufValue> metadata,
             Map<String, GgufTensorInfo> tensors, long dataOffset, int alignment) {
        this.path = path;
        this.arena = arena;
        this.mapping = mapping;
        this.version = version;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.tensors = Collections.unmodifiableMap(tensors);
        this.dataOffset = dataOffset;
        this.alignment = alignment;
    }

    /** Maps and parses {@code path}; a damaged file gets a {@link GgufException}. */
    public static GgufFile open(Path path) {
        if (Files.isDirectory(path)) throw new HearthException(path + ": is a folder, not a GGUF file");
        long size;
        try {
            size = Files.size(path);
        } catch (NoSuchFileException e) {
            throw new HearthException(path + ": no such file");
        } catch (IOException e) {
            throw new HearthException(path + ": cannot read: " + e.getMessage());
        }
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment seg = size == 0 ? MemorySegment.NULL.reinterpret(0) : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return GgufReader.parse(path, arena, seg);
        } catch (IOException e) {
            arena.close();
            throw new HearthException(path + ": cannot read: " + e.getMessage());
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Parses a GGUF image already in memory; {@code name} stands for the file in messages.
     * Closing the result does not free {@code bytes}.
     */
    static GgufFile parse(Path name, MemorySegment bytes) {
        Arena arena = Arena.ofShared();
        try {
            return GgufReader.parse(name, arena, bytes);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public int alignment() {
        return alignment;
    }

    /** Where the tensor data starts; in a file with no tensors, where the header ends. */
    public long dataOffset() {
        return dataOffset;
    }

    public long fileSize() {
        return mapping.byteSize();
    }

    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    public Map<String, GgufTensorInfo> tensors() {
        return tensors;
    }

    public List<GgufTensorInfo> tensorList() {
        return List.copyOf(tensors.values());
    }

    public GgufTensorInfo tensor(String name) {
        return tensors.get(name);
    }

    /** The tensor's bytes, as a slice of the mapping (no copy). */
    public MemorySegment data(GgufTensorInfo t) {
        return mapping.asSlice(dataOffset + t.offset(), t.desc().bytes());
    }

    public MemorySegment data(String name) {
        GgufTensorInfo t = tensors.get(name);
        if (t == null) throw new HearthException(path + ": no tensor named " + name);
        return data(t);
    }

    /** The whole mapping, for planners that want to touch pages in order. */
    public MemorySegment mapping() {
        return mapping;
    }

    public GgufValue value(String key) {
        return metadata.get(key);
    }

    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    public String getString(String key, String dflt) {
        GgufValue v = metadata.get(key);
        return v != null && v.value() instanceof String s ? s : dflt;
    }

    public String requireString(String key) {
        String s = getString(key, null);
        if (s == null) throw missing(key, "a string");
        return s;
    }

    /** A number (or bool) as a long; a UINT64 above Long.MAX_VALUE comes back as its raw bits. */
    public long getLong(String key, long dflt) {
        GgufValue v = metadata.get(key);
        if (v == null) return dflt;
        if (v.value() instanceof Number n) return n.longValue();
        if (v.value() instanceof Boolean b) return b ? 1 : 0;
        throw new HearthException(path + ": metadata " + key + " should be a number, found " + v.type());
    }

    public int getInt(String key, int dflt) {
        long v = getLong(key, dflt);
        if (v != (int) v) throw new HearthException(path + ": metadata " + key + " is " + v + ", too large for this setting");
        return (int) v;
    }

    public int requireInt(String key) {
        if (!metadata.containsKey(key)) throw missing(key, "a number");
        return getInt(key, 0);
    }

    public float getFloat(String key, float dflt) {
        GgufValue v = metadata.get(key);
        if (v == null) return dflt;
        if (v.value() instanceof Number n) return n.floatValue();
        throw new HearthException(path + ": metadata " + key + " should be a number, found " + v.type());
    }

    public boolean getBool(String key, boolean dflt) {
        GgufValue v = metadata.get(key);
        if (v == null) return dflt;
        if (v.value() instanceof Boolean b) return b;
        if (v.value() instanceof Number n) return n.longValue() != 0;
        return dflt;
    }

    public GgufArray getArray(String key) {
        GgufValue v = metadata.get(key);
        return v != null && v.value() instanceof GgufArray a ? a : null;
    }

    private HearthException missing(String key, String what) {
        return new HearthException(path + ": metadata key " + key + " (" + what + ") is missing");
    }

    /** Copies the metadata and tensor descriptors for writing a new file. */
    public Map<String, TensorDesc> tensorDescs() {
        Map<String, TensorDesc> m = new LinkedHashMap<>();
        tensors.forEach((k, v) -> m.put(k, v.desc()));
        return m;
    }

    /** Unmaps the file; slices from {@link #data} must not be used after. Closing twice is harmless. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        arena.close();
    }
}
