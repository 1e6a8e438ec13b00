package dev.hearth.runtime.gguf;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.tensor.TensorDesc;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes GGUF version 3: the metadata in its map's order with its exact value types, then the
 * tensor infos and the tensor data, each tensor starting at a multiple of the alignment
 * ({@code general.alignment}, default 32) and padded with zeros to the next one.
 *
 * <p>Tensor bytes come from a {@link MemorySegment} or from a {@link TensorFiller} that writes
 * them when the file is written, so a model of many GiB can be written without holding it in
 * memory; bytes a filler skips are left as holes (zeros) and stay sparse where the file system
 * allows. The file is written under a temporary name in the target's folder and renamed onto the
 * target at the end, so a failure never leaves a partial file under the target's name.
 *
 * <pre>{@code
 * new GgufWriter(metadata)
 *     .add(TensorDesc.of("w", DType.F32, 64, 64), segment)
 *     .add(TensorDesc.of("big", DType.Q8_0, 4096, 32000), out -> out.skip(out.remaining()))
 *     .write(path);
 * }</pre>
 */
public final class GgufWriter {
    /** Writes exactly {@link TensorOutput#remaining()} bytes of one tensor (or skips some, leaving zeros). */
    @FunctionalInterface
    public interface TensorFiller {
        void fill(TensorOutput out) throws IOException;
    }

    /** Where a {@link TensorFiller} writes its tensor's bytes, in order from the first. */
    public interface TensorOutput {
        /** The tensor being written. */
        TensorDesc desc();

        /** Bytes still to write (or skip) for this tensor. */
        long remaining();

        /** Writes all remaining bytes of {@code buf} (from its position to its limit). */
        void write(ByteBuffer buf) throws IOException;

        /** Writes the bytes of {@code seg}. */
        void write(MemorySegment seg) throws IOException;

        default void write(byte[] bytes) throws IOException {
            write(ByteBuffer.wrap(bytes));
        }

        /** Leaves the next {@code n} bytes as zeros without writing them. */
        void skip(long n) throws IOException;
    }

    private record Entry(TensorDesc desc, MemorySegment data, TensorFiller filler) {
    }

    private static final long CHUNK = 1L << 30;

    private final LinkedHashMap<String, GgufValue> metadata;
    private final List<Entry> tensors = new ArrayList<>();
    private final Set<String> names = new HashSet<>();

    /** A writer with no metadata and no tensors. */
    public GgufWriter() {
        this(Map.of());
    }

    /** A writer with a copy of {@code metadata}, written in the map's iteration order. */
    public GgufWriter(Map<String, GgufValue> metadata) {
        this.metadata = new LinkedHashMap<>();
        metadata.forEach(this::put);
    }

    /** Reads back what {@code file} holds: its metadata and its tensors, whose bytes are its mapped data. */
    public static GgufWriter copyOf(GgufFile file) {
        GgufWriter w = new GgufWriter(file.metadata());
        for (GgufTensorInfo t : file.tensors().values()) w.add(t.desc(), file.data(t));
        return w;
    }

    /** Sets a metadata value; a key already present keeps its place. */
    public GgufWriter put(String key, GgufValue value) {
        if (key == null || value == null) throw new IllegalArgumentException("metadata key and value must not be null");
        if (key.equals("general.alignment")) {
            String bad = GgufReader.alignmentProblem(value);
            if (bad != null) throw new IllegalArgumentException("general.alignment " + bad);
        }
        // Refuses strings with no UTF-8 form now rather than when the file is written.
        GgufStrings.encode(key);
        checkStrings(value.value());
        metadata.put(key, value);
        return this;
    }

    private static void checkStrings(Object v) {
        if (v instanceof String s) GgufStrings.check(s);
        else if (v instanceof GgufArray a && (a.elementType() == GgufValueType.STRING || a.elementType() == GgufValueType.ARRAY)) {
            for (Object x : a.values()) checkStrings(x);
        }
    }

    /** Adds a tensor whose bytes are {@code data} (exactly {@code desc.bytes()} of them). */
    public GgufWriter add(TensorDesc desc, MemorySegment data) {
        check(desc);
        if (data.byteSize() != desc.bytes()) {
            throw new IllegalArgumentException("tensor " + desc.name() + " takes " + desc.bytes() + " bytes, its data has " + data.byteSize());
        }
        names.add(desc.name());
        tensors.add(new Entry(desc, data, null));
        return this;
    }

    /** Adds a tensor whose bytes {@code filler} writes when the file is written. */
    public GgufWriter add(TensorDesc desc, TensorFiller filler) {
        check(desc);
        if (filler == null) throw new IllegalArgumentException("tensor " + desc.name() + ": filler is null");
        names.add(desc.name());
        tensors.add(new Entry(desc, null, filler));
        return this;
    }

    private void check(TensorDesc desc) {
        if (desc.rank() < 1 || desc.rank() > GgufReader.MAX_DIMS) {
            throw new IllegalArgumentException("tensor " + desc.name() + " has " + desc.rank() + " dimensions (1 to " + GgufReader.MAX_DIMS + " allowed)");
        }
        if (desc.type().retired) throw new IllegalArgumentException("tensor " + desc.name() + " has retired type " + desc.type());
        desc.bytes(); // whole blocks, no overflow
        GgufStrings.encode(desc.name());
        if (names.contains(desc.name())) throw new IllegalArgumentException("duplicate tensor name " + desc.name());
    }

    /** The metadata to be written, in order (read-only). */
    public Map<String, GgufValue> metadata() {
        return Collections.unmodifiableMap(metadata);
    }

    /** The tensors to be written, in order. */
    public List<TensorDesc> tensors() {
        return tensors.stream().map(Entry::desc).toList();
    }

    public int alignment() {
        GgufValue a = metadata.get("general.alignment");
        return a == null ? GgufFile.DEFAULT_ALIGNMENT : (int) ((Number) a.value()).longValue();
    }

    /** The layout of the file as {@link #write} will produce it. */
    public record Layout(byte[] header, long dataOffset, long[] offsets, long fileSize) {
    }

    /** Encodes the header and places the tensors: offsets are relative to the data section. */
    public Layout layout() {
        int alignment = alignment();
        long[] offsets = new long[tensors.size()];
        long at = 0;
        for (int i = 0; i < offsets.length; i++) {
            offsets[i] = at;
            at = Math.addExact(at, GgufReader.align(tensors.get(i).desc().bytes(), alignment));
        }
        byte[] header = GgufEncoder.header(metadata, tensors(), offsets, offsets.length);
        // With no tensors there is no data section and no padding after the header.
        long dataOffset = offsets.length == 0 ? header.length : GgufReader.align(header.length, alignment);
        return new Layout(header, dataOffset, offsets, Math.addExact(dataOffset, at));
    }

    /**
     * Writes the file to {@code target}, replacing any file there only once the new one is
     * complete. Throws HearthException where the file cannot be written; the exception of a
     * filler that fails passes through (an IOException wrapped in a HearthException).
     */
    public void write(Path target) {
        Layout layout = layout();
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            tmp = createTemp(dir, target.getFileName().toString());
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                writeFully(ch, ByteBuffer.wrap(layout.header()), 0);
                for (int i = 0; i < tensors.size(); i++) {
                    Entry e = tensors.get(i);
                    Output out = new Output(ch, e.desc(), layout.dataOffset() + layout.offsets()[i]);
                    try {
                        if (e.data() != null) out.write(e.data());
                        else e.filler().fill(out);
                    } catch (IOException ex) {
                        throw new HearthException(target + ": cannot write tensor " + e.desc().name() + ": " + ex.getMessage(), ex);
                    }
                    if (out.remaining() != 0) {
                        throw new HearthException(target + ": tensor " + e.desc().name() + " was given " + (e.desc().bytes() - out.remaining())
                                + " of its " + e.desc().bytes() + " bytes");
                    }
                }
                // Padding and skipped bytes are holes; make the file its full length.
                if (ch.size() < layout.fileSize()) writeFully(ch, ByteBuffer.allocate(1), layout.fileSize() - 1);
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException ex) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw new HearthException(target + ": cannot write: " + describe(e), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the write already failed; its exception says why
                }
            }
        }
    }

    private static String describe(IOException e) {
        return switch (e) {
            case java.nio.file.NoSuchFileException x -> "no such file or folder " + x.getFile();
            case java.nio.file.AccessDeniedException x -> "permission denied on " + x.getFile();
            default -> e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        };
    }

    private static Path createTemp(Path dir, String name) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path p = dir.resolve("." + name + "." + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16) + ".tmp");
            try {
                FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return p;
            } catch (FileAlreadyExistsException e) {
                if (attempt > 100) throw e;
            }
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b, long at) throws IOException {
        while (b.hasRemaining()) at += ch.write(b, at);
    }

    /** Writes one tensor's bytes at increasing positions of the channel. */
    private static final class Output implements TensorOutput {
        private final FileChannel ch;
        private final TensorDesc desc;
        private long pos;
        private long remaining;
        private ByteBuffer bounce;

        Output(FileChannel ch, TensorDesc desc, long pos) {
            this.ch = ch;
            this.desc = desc;
            this.pos = pos;
            this.remaining = desc.bytes();
        }

        @Override
        public TensorDesc desc() {
            return desc;
        }

        @Override
        public long remaining() {
            return remaining;
        }

        private void take(long n) {
            if (n > remaining) {
                throw new IllegalStateException("tensor " + desc.name() + ": " + n + " bytes given, only " + remaining + " of its "
                        + desc.bytes() + " remain");
            }
        }

        @Override
        public void write(ByteBuffer buf) throws IOException {
            long n = buf.remaining();
            take(n);
            writeFully(ch, buf, pos);
            pos += n;
            remaining -= n;
        }

        @Override
        public void write(MemorySegment seg) throws IOException {
            take(seg.byteSize());
            boolean direct = seg.isNative() || seg.heapBase().orElse(null) instanceof byte[];
            for (long at = 0; at < seg.byteSize(); ) {
                long n = Math.min(direct ? CHUNK : 1 << 20, seg.byteSize() - at);
                MemorySegment part = seg.asSlice(at, n);
                if (direct) {
                    write(part.asByteBuffer());
                } else {
                    if (bounce == null) bounce = ByteBuffer.allocateDirect(1 << 20);
                    bounce.clear().limit((int) n);
                    MemorySegment.ofBuffer(bounce).copyFrom(part);
                    write(bounce);
                }
                at += n;
            }
        }

        @Override
        public void skip(long n) {
            if (n < 0) throw new IllegalArgumentException("cannot skip " + n + " bytes");
            take(n);
            pos += n;
            remaining -= n;
        }
    }
}
