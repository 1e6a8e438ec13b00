package dev.hearth.runtime.gguf;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.dtype.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Damaged files each give a GgufException whose message names the file, the byte offset and what
 * was wrong; never an OutOfMemoryError, a negative size, an index out of bounds or a hang.
 */
@Timeout(120)
class GgufDamagedFileTest {
    private static final Pattern OFFSET = Pattern.compile("at byte (\\d+): ");
    private static final int STRING = GgufValueType.STRING.id(), ARRAY = GgufValueType.ARRAY.id(), U32 = GgufValueType.UINT32.id();
    private static final int F32 = DType.F32.id;

    @TempDir
    Path dir;

    /** Opens {@code bytes} as a file and returns the GgufException, checking its message. */
    private GgufException damaged(byte[] bytes, long offset, String what) throws IOException {
        Path p = dir.resolve("damaged.gguf");
        Files.write(p, bytes);
        return damaged(p, offset, what);
    }

    private static GgufException damaged(Path p, long offset, String what) {
        return damaged(p, () -> GgufFile.open(p), offset, what);
    }

    private static GgufException damaged(Path p, java.util.function.Supplier<GgufFile> open, long offset, String what) {
        GgufException e;
        try (GgufFile f = open.get()) {
            throw new AssertionError("opened a damaged file: " + f.metadata().keySet() + " " + f.tensors().keySet());
        } catch (GgufException ex) {
            e = ex;
        } catch (Throwable t) {
            throw new AssertionError("expected a GgufException (" + what + "), got " + t, t);
        }
        assertEquals(GgufException.class, e.getClass());
        String m = e.getMessage();
        assertTrue(m.startsWith(p.toString() + ": "), "names the file: " + m);
        assertTrue(m.contains(what), "says '" + what + "': " + m);
        if (offset >= 0) assertEquals(offset, offsetOf(e), m);
        return e;
    }

    private static long offsetOf(GgufException e) {
        Matcher m = OFFSET.matcher(e.getMessage());
        if (!m.find()) fail("no offset in: " + e.getMessage());
        return Long.parseLong(m.group(1));
    }

    @Test
    void wrongMagic() throws IOException {
        byte[] b = RawGguf.header(3, 0, 0).build();
        b[3] = 'X';
        damaged(b, 0, "bad magic \"GGUX\"");
        damaged(new byte[]{'l', 'm', 'g', 'g', 1, 0, 0, 0}, 0, "bad magic");
        damaged(new byte[0], 0, "0 bytes long");
        damaged(new byte[]{'G', 'G', 'U'}, 0, "3 bytes long");
    }

    @Test
    void unknownVersion() throws IOException {
        damaged(new RawGguf(0).u64(0).u64(0).build(), 4, "unknown version 0");
        damaged(new RawGguf(4).u64(0).u64(0).build(), 4, "unknown version 4");
        damaged(new RawGguf(0x0300_0000).u64(0).u64(0).build(), 4, "looks big-endian");
        damaged(new RawGguf(-1).build(), 4, "unknown version 4294967295");
    }

    @Test
    void everyVersionParses() throws IOException {
        for (int v = 1; v <= 3; v++) {
            byte[] b = RawGguf.header(v, 1, 1).kvU32("general.alignment", 16).tensor("t", F32, 0, 2).pad(16).zeros(16).build();
            Path p = dir.resolve("v" + v + ".gguf");
            Files.write(p, b);
            try (GgufFile f = GgufFile.open(p)) {
                assertEquals(v, f.version());
                assertEquals(16, f.alignment());
                assertEquals(8, f.data("t").byteSize());
            }
        }
    }

    @Test
    void stringLengthsPastTheEnd() throws IOException {
        // Key length at byte 24 (magic, version, two 8-byte counts).
        damaged(RawGguf.header(3, 0, 1).u64(1000).bytes("abcdefghijklmn".getBytes()).build(), 24, "string length 1000 runs past the end");
        damaged(RawGguf.header(3, 0, 1).u64(-1).zeros(16).build(), 24, "string length 18446744073709551615");
        damaged(RawGguf.header(3, 0, 1).u64(Long.MAX_VALUE).zeros(16).build(), 24, "runs past the end");
        damaged(RawGguf.header(1, 0, 1).u32(0xFFFF_FFFFL).zeros(16).build(), 16, "string length 4294967295 runs past the end");
        // A string value: key "k" (24 + 8 + 1), type (4), then the length at 37.
        damaged(RawGguf.header(3, 0, 1).str("k").u32(STRING).u64(1L << 40).build(), 37, "metadata k: string length");
        // A tensor name.
        damaged(RawGguf.header(3, 1, 0).u64(77).zeros(40).build(), 24, "tensor name: string length 77");
    }

    @Test
    void stringPastTheHeaderLimitIsRefusedBeforeReading() throws IOException {
        Path p = dir.resolve("huge-string.gguf");
        Files.write(p, RawGguf.header(3, 0, 1).str("k").u32(STRING).u64(GgufReader.MAX_HEADER_BYTES).build());
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(GgufReader.MAX_HEADER_BYTES + 100); // sparse zeros
        }
        damaged(p, 37, "more than this reader accepts");
    }

    @Test
    void arrayLengthsPastTheEnd() throws IOException {
        // Key "a" ends at 33, type at 33, element type at 37, count at 41.
        damaged(RawGguf.header(3, 0, 1).str("a").u32(ARRAY).u32(U32).u64(1000).u64(0).build(), 41, "array of 1000 UINT32 values runs past the end");
        damaged(RawGguf.header(3, 0, 1).str("a").u32(ARRAY).u32(GgufValueType.UINT8.id()).u64(1L << 62).build(), 41, "runs past the end");
        damaged(RawGguf.header(3, 0, 1).str("a").u32(ARRAY).u32(STRING).u64(-1).build(), 41, "array length of a 18446744073709551615 is too large");
        damaged(RawGguf.header(3, 0, 1).str("a").u32(ARRAY).u32(ARRAY).u64(1L << 40).build(), 41, "runs past the end");
        damaged(RawGguf.header(1, 0, 1).str("a").u32(ARRAY).u32(U32).u32(0xFFFF_FFFFL).build(), 29, "runs past the end");
        // An array of strings whose third string is too long.
        byte[] b = RawGguf.header(3, 0, 1).str("a").u32(ARRAY).u32(STRING).u64(3).str("x").str("y").u64(50).build();
        damaged(b, 49 + 9 + 9, "string length 50");
    }

    @Test
    void tooManyArrayItemsIsRefusedBeforeAllocating() throws IOException {
        long n = GgufReader.MAX_ARRAY_ITEMS + 1;
        RawGguf r = RawGguf.header(3, 0, 1).str("a").u32(ARRAY).u32(GgufValueType.UINT8.id()).u64(n);
        Path p = dir.resolve("many-items.gguf");
        Files.write(p, r.build());
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(r.size() + n);
        }
        damaged(p, 41, "more than this reader accepts");
    }

    @Test
    void nestingTooDeep() throws IOException {
        RawGguf r = RawGguf.header(3, 0, 1).str("a").u32(ARRAY);
        for (int i = 0; i < 40; i++) r.u32(ARRAY).u64(1);
        r.u32(U32).u64(0);
        // The array at depth d reads its element type at 37 + 12 d; depth 16 is refused.
        damaged(r.build(), 37 + 16 * 12, "arrays nested deeper than 16");
    }

    @Test
    void countsThatOverflow() throws IOException {
        damaged(RawGguf.header(3, Long.MAX_VALUE, 0).build(), 8, "tensor count " + Long.MAX_VALUE + " is more than the file could hold");
        damaged(RawGguf.header(3, 1L << 62, 0).zeros(100).build(), 8, "tensor count " + (1L << 62));
        damaged(RawGguf.header(3, -1, 0).build(), 8, "tensor count 18446744073709551615 is too large");
        damaged(RawGguf.header(3, 0, Long.MAX_VALUE).build(), 16, "metadata count " + Long.MAX_VALUE + " is more than the file could hold");
        damaged(RawGguf.header(3, 0, 1L << 62).zeros(1000).build(), 16, "metadata count");
        damaged(RawGguf.header(3, 0, -1).build(), 16, "too large");
        damaged(RawGguf.header(1, 0xFFFF_FFFFL, 0).build(), 8, "tensor count 4294967295");
        // Room for the metadata, then more tensors than the rest of the file could describe.
        damaged(RawGguf.header(3, 3, 1).kvU32("k", 1).tensor("t", F32, 0, 1).build(), 8, "tensor count 3");
    }

    @Test
    void tensorDataPastTheEnd() throws IOException {
        // Header 24 + name (8 + 1) + ndims 4 + dim 8 + type 4 + offset 8 = 57; data at 64.
        damaged(RawGguf.header(3, 1, 0).tensor("t", F32, 0, 4).pad(32).zeros(15).build(), 64, "tensor t data (16 bytes at offset 0) runs past the end");
        damaged(RawGguf.header(3, 1, 0).tensor("t", F32, 1L << 62, 4).pad(32).zeros(16).build(), 64 + (1L << 62), "runs past the end");
        long far = Long.MAX_VALUE - 31; // aligned, and would overflow if added to the data offset
        GgufException e = damaged(RawGguf.header(3, 1, 0).tensor("t", F32, far, 4).pad(32).zeros(16).build(), -1, "runs past the end");
        assertTrue(e.getMessage().contains("offset " + far), e.getMessage());
        // Tensors present, but the file ends before the data section starts.
        damaged(RawGguf.header(3, 1, 0).tensor("t", F32, 0, 4).build(), 57, "tensor data section starts at 64, past the end");
        damaged(RawGguf.header(3, 1, 0).tensor("t", F32, 4, 4).pad(32).zeros(64).build(), 49, "data offset 4 is not a multiple of the alignment 32");
        damaged(RawGguf.header(3, 1, 0).tensor("t", F32, -32, 4).pad(32).zeros(64).build(), 49, "data offset 18446744073709551584");
    }

    @Test
    void unknownTypes() throws IOException {
        damaged(RawGguf.header(3, 1, 0).tensor("t", 99, 0, 4).pad(32).zeros(64).build(), 45, "tensor t has unknown type id 99");
        damaged(RawGguf.header(3, 1, 0).tensor("t", -1, 0, 4).pad(32).zeros(64).build(), 45, "unknown type id 4294967295");
        damaged(RawGguf.header(3, 1, 0).tensor("t", DType.Q4_2.id, 0, 32).pad(32).zeros(64).build(), 45, "retired");
        damaged(RawGguf.header(3, 0, 1).str("k").u32(13).u32(0).build(), 33, "metadata k has unknown value type 13");
        damaged(RawGguf.header(3, 0, 1).str("k").u32(ARRAY).u32(99).u64(0).build(), 37, "array of unknown type 99");
        damaged(RawGguf.header(3, 0, 1).str("k").u32(GgufValueType.BOOL.id()).u8(2).build(), 37, "bool byte is 2");
    }

    @Test
    void duplicates() throws IOException {
        damaged(RawGguf.header(3, 0, 2).kvU32("k", 1).kvU32("k", 2).build(), 24 + 17, "duplicate metadata key k");
        byte[] b = RawGguf.header(3, 2, 0).tensor("t", F32, 0, 4).tensor("t", F32, 32, 4).pad(32).zeros(64).build();
        damaged(b, 57, "duplicate tensor name t");
    }

    @Test
    void dimensions() throws IOException {
        damaged(RawGguf.header(3, 1, 0).tensor("t", DType.I8.id, 0, 1L << 32, 1L << 32).pad(32).build(), 24, "whose product overflows");
        damaged(RawGguf.header(3, 1, 0).tensor("t", DType.I8.id, 0, 0, 1L << 40, 1L << 40, 2).pad(32).build(), 24, "whose product overflows");
        damaged(RawGguf.header(3, 1, 0).tensor("t", F32, 0, 1L << 62, 0).pad(32).build(), 24, "too large");
        damaged(RawGguf.header(3, 1, 0).tensor("t", F32, 0, 1L << 62).pad(32).build(), 24, "too large");
        damaged(RawGguf.header(3, 1, 0).tensor("t", F32, 0, 1, 1, 1, 1, 1).pad(32).build(), 33, "has 5 dimensions");
        damaged(RawGguf.header(3, 1, 0).tensor("t", F32, 0).pad(32).build(), 33, "has 0 dimensions");
        damaged(RawGguf.header(3, 1, 0).str("t").u32(0xFFFF_FFFFL).zeros(40).build(), 33, "has 4294967295 dimensions");
        damaged(RawGguf.header(3, 1, 0).tensor("t", F32, 0, 4, -1).pad(32).build(), 45, "negative dimension -1");
        damaged(RawGguf.header(3, 1, 0).tensor("t", DType.Q8_0.id, 0, 33).pad(32).zeros(64).build(), 24, "not a whole number of Q8_0 blocks");
        // A tensor with a zero dimension is empty, not damaged.
        Path p = dir.resolve("empty-tensor.gguf");
        Files.write(p, RawGguf.header(3, 1, 0).tensor("t", F32, 0, 0, 1L << 40, 3).pad(32).build());
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(0, f.data("t").byteSize());
            assertEquals(0, f.tensor("t").desc().elements());
        }
    }

    @Test
    void badAlignment() throws IOException {
        // The value follows key "general.alignment" (24 + 8 + 17) and its type: byte 53.
        damaged(RawGguf.header(3, 0, 1).kvU32("general.alignment", 0).build(), 53, "general.alignment must be a power of two");
        damaged(RawGguf.header(3, 0, 1).kvU32("general.alignment", 48).build(), 53, "found 48");
        damaged(RawGguf.header(3, 0, 1).kvU32("general.alignment", 1L << 31).build(), 53, "power of two up to");
        damaged(RawGguf.header(3, 0, 1).str("general.alignment").u32(GgufValueType.FLOAT32.id()).u32(Float.floatToIntBits(32f)).build(),
                53, "must be an integer");
        damaged(RawGguf.header(3, 0, 1).str("general.alignment").u32(STRING).str("32").build(), 53, "must be an integer");
        damaged(RawGguf.header(3, 0, 1).str("general.alignment").u32(GgufValueType.UINT64.id()).u64(-32).build(), 53, "power of two");
    }

    @Test
    void notAFileAtAll() {
        HearthException missing = assertThrows(HearthException.class, () -> GgufFile.open(dir.resolve("nope.gguf")));
        assertTrue(missing.getMessage().contains("no such file"), missing.getMessage());
        HearthException folder = assertThrows(HearthException.class, () -> GgufFile.open(dir));
        assertTrue(folder.getMessage().contains("folder"), folder.getMessage());
    }

    /** Every cut of a small written file before the end of its last tensor fails; later cuts read fine. */
    @Test
    void truncationAtEveryByte() throws IOException {
        GgufWriter w = GgufTestSupport.smallWriter();
        w.put("nested", GgufValue.array(GgufValueType.ARRAY, java.util.List.of(
                GgufArray.of(GgufValueType.UINT16, java.util.List.of(1, 2)), GgufArray.of(GgufValueType.STRING, java.util.List.of("s")))));
        w.put("u64", GgufValue.u64(5));
        w.put("f64", GgufValue.f64(0.25));
        w.put("i8", GgufValue.i8(-1));
        Path full = dir.resolve("full.gguf");
        w.write(full);
        byte[] bytes = Files.readAllBytes(full);
        assertTruncationsFail(bytes, full);

        // Version 1, by hand: 32-bit lengths and dimensions.
        byte[] v1 = RawGguf.header(1, 2, 2).kvU32("a", 7).str("s").u32(ARRAY).u32(STRING).u32(2).str("xy").str("")
                .tensor("t", F32, 0, 3).tensor("u", DType.F16.id, 32, 2, 2).pad(32).zeros(48).build();
        Path p1 = dir.resolve("v1.gguf");
        Files.write(p1, v1);
        assertTruncationsFail(v1, p1);
    }

    private void assertTruncationsFail(byte[] bytes, Path full) throws IOException {
        long lastEnd;
        long headerEnd;
        try (GgufFile f = GgufFile.open(full)) {
            GgufTensorInfo last = f.tensorList().getLast();
            lastEnd = f.dataOffset() + last.offset() + last.desc().bytes();
            headerEnd = f.dataOffset();
        }
        assertTrue(lastEnd < bytes.length, "the test file ends with padding");
        Path p = dir.resolve("cut.gguf");
        int failures = 0;
        for (int cut = 0; cut <= bytes.length; cut++) {
            // Parsed from memory, and one cut in five also from a real file.
            byte[] cutBytes = Arrays.copyOf(bytes, cut);
            boolean viaFile = cut % 5 == 0;
            if (viaFile) Files.write(p, cutBytes);
            java.util.function.Supplier<GgufFile> open = viaFile ? () -> GgufFile.open(p)
                    : () -> GgufFile.parse(p, java.lang.foreign.MemorySegment.ofArray(cutBytes));
            if (cut < lastEnd) {
                GgufException e = damaged(p, open, -1, "");
                long at = offsetOf(e);
                if (cut < headerEnd) assertTrue(at <= cut, "cut at " + cut + " reported at " + at + ": " + e.getMessage());
                assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("past the end")
                        || e.getMessage().contains("more than the file could hold") || e.getMessage().contains("too short"), "cut at " + cut + ": " + e.getMessage());
                failures++;
            } else {
                try (GgufFile f = open.get(); GgufFile g = GgufFile.open(full)) {
                    GgufTestSupport.assertSameContent(g, f);
                }
            }
        }
        assertEquals(lastEnd, failures);
        assertNotEquals(0, failures);
    }
}
