package dev.hearth.runtime.gguf;

import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.tensor.TensorDesc;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A file over 4 GiB: a huge tensor the writer leaves as a hole (the file stays sparse), then a
 * small tensor whose data starts beyond 4 GiB. Runs only where the file system makes sparse
 * files cheap.
 */
class GgufLargeFileTest {
    private static final long GIB = 1L << 30;

    @Test
    void tensorDataBeyondFourGiB(@TempDir Path dir) throws IOException {
        assumeSparseFiles(dir);
        TensorDesc huge = TensorDesc.of("huge", DType.I8, 1L << 20, 4608); // 4.5 GiB
        TensorDesc tail = TensorDesc.of("tail", DType.F32, 16);
        byte[] marker = {1, 2, 3, 4, 5, 6, 7, (byte) 0xFF};
        float[] tailValues = new float[16];
        for (int i = 0; i < 16; i++) tailValues[i] = i * 0.5f - 3;
        GgufWriter w = new GgufWriter(Map.of("general.name", GgufValue.of("sparse")));
        w.add(huge, out -> {
            out.skip(out.remaining() - marker.length);
            out.write(marker);
        });
        w.add(tail, MemorySegment.ofArray(tailValues));
        Path p = dir.resolve("large.gguf");
        try {
            long t0 = System.nanoTime();
            w.write(p);
            assertTrue(System.nanoTime() - t0 < 20_000_000_000L, "writing a sparse file should be quick");
            try (GgufFile f = GgufFile.open(p)) {
                assertTrue(f.fileSize() > 4 * GIB + 512 * 1024 * 1024, "file size " + f.fileSize());
                GgufTensorInfo t = f.tensor("tail");
                assertTrue(f.dataOffset() + t.offset() > 4 * GIB, "tail starts beyond 4 GiB");
                assertArrayEquals(tailValues, f.data(t).toArray(ValueLayout.JAVA_FLOAT));
                MemorySegment h = f.data("huge");
                assertEquals(huge.bytes(), h.byteSize());
                assertArrayEquals(marker, h.asSlice(h.byteSize() - marker.length).toArray(ValueLayout.JAVA_BYTE));
                assertEquals(0, h.get(ValueLayout.JAVA_BYTE, 0));
                assertEquals(0, h.get(ValueLayout.JAVA_LONG_UNALIGNED, 4 * GIB));
                assertTrue(GgufInfo.render(f).contains("GiB"));
            }
        } finally {
            Files.deleteIfExists(p);
        }
    }

    /** Skips unless a 5 GiB file with one byte at its end can be made in well under a second. */
    private static void assumeSparseFiles(Path dir) throws IOException {
        Path probe = dir.resolve("probe");
        long t0 = System.nanoTime();
        try (RandomAccessFile f = new RandomAccessFile(probe.toFile(), "rw")) {
            f.setLength(5 * GIB);
            f.seek(5 * GIB - 1);
            f.write(1);
        } catch (IOException e) {
            assumeTrue(false, "cannot make a 5 GiB sparse file here: " + e.getMessage());
        } finally {
            Files.deleteIfExists(probe);
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assumeTrue(ms < 1000, "the file system took " + ms + " ms for a 5 GiB sparse file; skipping the large-file test");
    }
}
