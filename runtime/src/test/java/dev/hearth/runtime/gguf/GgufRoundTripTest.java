package dev.hearth.runtime.gguf;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.tensor.TensorDesc;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.hearth.runtime.gguf.GgufTestSupport.assertSameContent;
import static dev.hearth.runtime.gguf.GgufTestSupport.randomBytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GgufWriter then GgufFile gives back what was written: metadata with its types, tensors, bytes. */
class GgufRoundTripTest {
    @TempDir
    Path dir;

    /** One value of every type, with the edges of each range, arrays of each, nested and empty arrays. */
    static LinkedHashMap<String, GgufValue> everyValueType() {
        LinkedHashMap<String, GgufValue> m = new LinkedHashMap<>();
        m.put("u8.max", GgufValue.u8(255));
        m.put("u8.zero", GgufValue.u8(0));
        m.put("i8.min", GgufValue.i8(-128));
        m.put("i8.max", GgufValue.i8(127));
        m.put("u16.max", GgufValue.u16(65535));
        m.put("i16.min", GgufValue.i16(-32768));
        m.put("u32.max", GgufValue.u32(0xFFFF_FFFFL));
        m.put("i32.min", GgufValue.i32(Integer.MIN_VALUE));
        m.put("i32.max", GgufValue.i32(Integer.MAX_VALUE));
        m.put("u64.max", GgufValue.u64(-1L));
        m.put("u64.top", GgufValue.u64(Long.MIN_VALUE));
        m.put("i64.min", GgufValue.i64(Long.MIN_VALUE));
        m.put("f32.value", GgufValue.f32(1e-5f));
        m.put("f32.negzero", GgufValue.f32(-0.0f));
        m.put("f32.nan", GgufValue.f32(Float.NaN));
        m.put("f32.inf", GgufValue.f32(Float.NEGATIVE_INFINITY));
        m.put("f64.value", GgufValue.f64(Math.PI));
        m.put("f64.min", GgufValue.f64(Double.MIN_VALUE));
        m.put("bool.true", GgufValue.bool(true));
        m.put("bool.false", GgufValue.bool(false));
        m.put("string.empty", GgufValue.of(""));
        m.put("string.ascii", GgufValue.of("hello, world"));
        m.put("string.unicode", GgufValue.of("héllo wörld ✓ 日本語 𝄞 😀 e\u0301 \u0000 \n\t\"end\""));
        m.put("string.long", GgufValue.of("x".repeat(70_000)));
        m.put("ключ.ユニコード.😀", GgufValue.of("unicode key"));
        m.put("array.u8", GgufValue.array(GgufValueType.UINT8, List.of(0, 1, 254, 255)));
        m.put("array.i8", GgufValue.array(GgufValueType.INT8, List.of(-128, 0, 127)));
        m.put("array.u16", GgufValue.array(GgufValueType.UINT16, List.of(0, 65535)));
        m.put("array.i16", GgufValue.array(GgufValueType.INT16, List.of(-32768, 32767)));
        m.put("array.u32", GgufValue.array(GgufValueType.UINT32, List.of(0L, 0xFFFF_FFFFL)));
        m.put("array.i32", GgufValue.array(GgufValueType.INT32, List.of(Integer.MIN_VALUE, -1, 0)));
        m.put("array.u64", GgufValue.array(GgufValueType.UINT64, List.of(-1L, 0L)));
        m.put("array.i64", GgufValue.array(GgufValueType.INT64, List.of(Long.MIN_VALUE, Long.MAX_VALUE)));
        m.put("array.f32", GgufValue.array(GgufValueType.FLOAT32, List.of(1.5f, -0.0f, Float.NaN)));
        m.put("array.f64", GgufValue.array(GgufValueType.FLOAT64, List.of(-1e300, 2.5)));
        m.put("array.bool", GgufValue.array(GgufValueType.BOOL, List.of(true, false, true)));
        m.put("array.string", GgufValue.array(GgufValueType.STRING, List.of("", "a", "ü", "😀", "▁the")));
        for (GgufValueType t : GgufValueType.values()) {
            m.put("array.empty." + t.name().toLowerCase(), GgufValue.array(t, List.of()));
        }
        GgufArray ints = GgufArray.of(GgufValueType.INT32, List.of(1, 2, 3));
        GgufArray strings = GgufArray.of(GgufValueType.STRING, List.of("x", "yz"));
        GgufArray empty = GgufArray.of(GgufValueType.FLOAT64, List.of());
        m.put("array.of.arrays", GgufValue.array(GgufValueType.ARRAY, List.of(ints, strings, empty)));
        m.put("array.deep", GgufValue.array(GgufValueType.ARRAY,
                List.of(GgufArray.of(GgufValueType.ARRAY, List.of(GgufArray.of(GgufValueType.ARRAY, List.of(ints)))))));
        return m;
    }

    @Test
    void everyMetadataTypeComesBack() {
        LinkedHashMap<String, GgufValue> meta = everyValueType();
        Path p = dir.resolve("types.gguf");
        new GgufWriter(meta).write(p);
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(3, f.version());
            assertEquals(new ArrayList<>(meta.entrySet()), new ArrayList<>(f.metadata().entrySet()));
            assertTrue(f.tensors().isEmpty());
            // Spot checks that do not rely on record equality.
            assertEquals(-1L, f.value("u64.max").value());
            assertEquals(GgufValueType.UINT64, f.value("u64.max").type());
            assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits((Float) f.value("f32.negzero").value()));
            assertEquals("héllo wörld ✓ 日本語 𝄞 😀 e\u0301 \u0000 \n\t\"end\"", f.getString("string.unicode", null));
            GgufArray nested = f.getArray("array.of.arrays");
            assertEquals(GgufValueType.ARRAY, nested.elementType());
            assertEquals(List.of("x", "yz"), ((GgufArray) nested.get(1)).values());
        }
    }

    @Test
    void javaTypesAreCanonical() {
        // An Integer given for a UINT32 is held as a Long, so it equals what the reader gives back.
        assertEquals(GgufValue.u32(7), new GgufValue(GgufValueType.UINT32, 7));
        assertEquals(5, new GgufValue(GgufValueType.UINT8, (byte) 5).value());
        assertEquals(2.0f, new GgufValue(GgufValueType.FLOAT32, 2.0).value());
        assertThrows(IllegalArgumentException.class, () -> GgufValue.u8(256));
        assertThrows(IllegalArgumentException.class, () -> GgufValue.u32(-1));
        assertThrows(IllegalArgumentException.class, () -> GgufValue.i8(128));
        assertThrows(IllegalArgumentException.class, () -> new GgufValue(GgufValueType.INT32, 1.5));
        assertThrows(IllegalArgumentException.class, () -> new GgufValue(GgufValueType.STRING, 1));
        assertThrows(IllegalArgumentException.class, () -> GgufValue.array(GgufValueType.STRING, List.of("a", 2)));
        assertThrows(IllegalArgumentException.class, () -> new GgufValue(GgufValueType.BOOL, null));
    }

    @Test
    void tensorsOfManyTypesAndRanksComeBack() {
        GgufWriter w = new GgufWriter(Map.of("general.architecture", GgufValue.of("test")));
        List<TensorDesc> descs = List.of(
                TensorDesc.of("f32.1d", DType.F32, 5),
                TensorDesc.of("f16.2d", DType.F16, 3, 7),
                TensorDesc.of("bf16.3d", DType.BF16, 2, 3, 4),
                TensorDesc.of("i8.4d", DType.I8, 1, 2, 3, 5),
                TensorDesc.of("q4_0", DType.Q4_0, 64, 3),
                TensorDesc.of("q8_0", DType.Q8_0, 32, 1),
                TensorDesc.of("q4_k", DType.Q4_K, 256, 2),
                TensorDesc.of("q6_k", DType.Q6_K, 512),
                TensorDesc.of("mxfp4", DType.MXFP4, 32, 2),
                TensorDesc.of("f64", DType.F64, 3),
                TensorDesc.of("empty", DType.F32, 0, 3),
                TensorDesc.of("имя.😀", DType.I32, 2));
        List<byte[]> data = new ArrayList<>();
        for (int i = 0; i < descs.size(); i++) {
            data.add(randomBytes(100 + i, descs.get(i).bytes()));
            w.add(descs.get(i), MemorySegment.ofArray(data.get(i)));
        }
        Path p = dir.resolve("tensors.gguf");
        w.write(p);
        GgufWriter.Layout layout = w.layout();
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(descs, f.tensorList().stream().map(GgufTensorInfo::desc).toList());
            for (int i = 0; i < descs.size(); i++) {
                GgufTensorInfo t = f.tensorList().get(i);
                GgufTestSupport.assertBytes(data.get(i), f.data(t), t.name());
                assertEquals(0, t.offset() % 32, "offset of " + t.name());
                assertEquals(layout.offsets()[i], t.offset());
            }
            assertEquals(layout.fileSize(), f.fileSize());
            assertEquals(layout.dataOffset(), f.dataOffset());
            assertEquals(0, f.fileSize() % 32, "the last tensor is padded too");
        }
    }

    @Test
    void customAlignmentIsRespected() {
        for (long a : new long[]{1, 8, 64, 4096}) {
            LinkedHashMap<String, GgufValue> meta = everyValueType();
            meta.put("general.alignment", GgufValue.u32(a));
            GgufWriter w = new GgufWriter(meta);
            byte[] x = randomBytes(a, 12), y = randomBytes(a + 1, 34 * 2);
            w.add(TensorDesc.of("x", DType.F32, 3), MemorySegment.ofArray(x));
            w.add(TensorDesc.of("y", DType.Q8_0, 32, 2), MemorySegment.ofArray(y));
            Path p = dir.resolve("aligned-" + a + ".gguf");
            w.write(p);
            try (GgufFile f = GgufFile.open(p)) {
                assertEquals(a, f.alignment());
                assertEquals(0, f.dataOffset() % a);
                assertEquals(GgufReader.align(12, a), f.tensor("y").offset(), "y follows x padded to " + a);
                assertEquals(f.dataOffset() + GgufReader.align(12, a) + GgufReader.align(68, a), f.fileSize());
                GgufTestSupport.assertBytes(x, f.data("x"), "x");
                GgufTestSupport.assertBytes(y, f.data("y"), "y");
                assertEquals(new ArrayList<>(meta.entrySet()), new ArrayList<>(f.metadata().entrySet()));
                // Padding bytes are zeros.
                MemorySegment pad = f.mapping().asSlice(f.dataOffset() + 12, GgufReader.align(12, a) - 12);
                for (long i = 0; i < pad.byteSize(); i++) assertEquals(0, pad.get(ValueLayout.JAVA_BYTE, i));
            }
        }
    }

    @Test
    void writerRefusesBadInput() {
        GgufWriter w = new GgufWriter();
        assertThrows(IllegalArgumentException.class, () -> w.put("general.alignment", GgufValue.u32(48)));
        assertThrows(IllegalArgumentException.class, () -> w.put("general.alignment", GgufValue.u32(0)));
        assertThrows(IllegalArgumentException.class, () -> w.put("general.alignment", GgufValue.f32(32)));
        assertThrows(IllegalArgumentException.class, () -> w.put("bad.string", GgufValue.of("lone \uD800 surrogate")));
        w.add(TensorDesc.of("a", DType.F32, 2), MemorySegment.ofArray(new byte[8]));
        assertThrows(IllegalArgumentException.class, () -> w.add(TensorDesc.of("a", DType.F32, 2), MemorySegment.ofArray(new byte[8])));
        assertThrows(IllegalArgumentException.class, () -> w.add(TensorDesc.of("b", DType.F32, 2), MemorySegment.ofArray(new byte[7])));
        assertThrows(IllegalArgumentException.class, () -> w.add(TensorDesc.of("c", DType.Q4_2, 32), out -> { }));
        assertThrows(IllegalArgumentException.class, () -> w.add(TensorDesc.of("d", DType.F32, 1, 1, 1, 1, 1), out -> { }));
        assertThrows(HearthException.class, () -> w.add(TensorDesc.of("e", DType.Q8_0, 33), out -> { }));
        assertEquals(List.of("a"), w.tensors().stream().map(TensorDesc::name).toList());
    }

    @Test
    void fillersStreamTheirBytes() throws IOException {
        TensorDesc big = TensorDesc.of("big", DType.F32, 1000, 300);
        TensorDesc after = TensorDesc.of("after", DType.F16, 10);
        byte[] afterBytes = randomBytes(7, after.bytes());
        GgufWriter w = new GgufWriter(Map.of("general.name", GgufValue.of("streamed")));
        w.add(big, out -> {
            assertEquals(big, out.desc());
            // Row r holds the float r; every tenth row is skipped and so stays zero.
            float[] row = new float[1000];
            for (int r = 0; r < 300; r++) {
                if (r % 10 == 0) {
                    out.skip(4000);
                    continue;
                }
                java.util.Arrays.fill(row, r);
                ByteBuffer b = ByteBuffer.allocate(4000).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(row);
                out.write(b);
            }
            assertEquals(0, out.remaining());
        });
        w.add(after, out -> out.write(MemorySegment.ofArray(afterBytes)));
        Path p = dir.resolve("streamed.gguf");
        w.write(p);
        try (GgufFile f = GgufFile.open(p)) {
            MemorySegment d = f.data("big");
            for (int r = 0; r < 300; r++) {
                float expect = r % 10 == 0 ? 0 : r;
                assertEquals(expect, d.get(ValueLayout.JAVA_FLOAT_UNALIGNED, r * 4000L));
                assertEquals(expect, d.get(ValueLayout.JAVA_FLOAT_UNALIGNED, r * 4000L + 3996));
            }
            GgufTestSupport.assertBytes(afterBytes, f.data("after"), "after");
        }
        // A heap segment over a float array goes through a bounce buffer; the bytes are the same.
        float[] fl = {1f, -2f, 3.5f};
        GgufWriter w2 = new GgufWriter();
        w2.add(TensorDesc.of("fl", DType.F32, 3), MemorySegment.ofArray(fl));
        Path p2 = dir.resolve("floats.gguf");
        w2.write(p2);
        try (GgufFile f = GgufFile.open(p2)) {
            assertArrayEquals(fl, f.data("fl").toArray(ValueLayout.JAVA_FLOAT));
        }
    }

    @Test
    void aFailedWriteLeavesNoFile() throws IOException {
        Path p = dir.resolve("model.gguf");
        GgufWriter failing = new GgufWriter();
        failing.add(TensorDesc.of("a", DType.F32, 4), out -> out.write(new byte[16]));
        failing.add(TensorDesc.of("b", DType.F32, 4), out -> {
            throw new IOException("disk on fire");
        });
        HearthException e = assertThrows(HearthException.class, () -> failing.write(p));
        assertTrue(e.getMessage().contains("disk on fire") && e.getMessage().contains("tensor a") == false && e.getMessage().contains("tensor b"),
                e.getMessage());
        assertFalse(Files.exists(p));
        assertFolderHolds();

        // A file already there stays as it was.
        GgufTestSupport.smallWriter().write(p);
        byte[] before = Files.readAllBytes(p);
        assertThrows(HearthException.class, () -> failing.write(p));
        assertArrayEquals(before, Files.readAllBytes(p));

        GgufWriter tooFew = new GgufWriter();
        tooFew.add(TensorDesc.of("a", DType.F32, 4), out -> out.write(new byte[15]));
        HearthException few = assertThrows(HearthException.class, () -> tooFew.write(p));
        assertTrue(few.getMessage().contains("15 of its 16 bytes"), few.getMessage());

        GgufWriter tooMany = new GgufWriter();
        tooMany.add(TensorDesc.of("a", DType.F32, 4), out -> out.write(new byte[17]));
        assertThrows(IllegalStateException.class, () -> tooMany.write(p));

        GgufWriter throwsUnchecked = new GgufWriter();
        throwsUnchecked.add(TensorDesc.of("a", DType.F32, 4), out -> {
            throw new ArithmeticException("bug in a generator");
        });
        assertThrows(ArithmeticException.class, () -> throwsUnchecked.write(p));
        assertArrayEquals(before, Files.readAllBytes(p));
        assertFolderHolds("model.gguf");

        HearthException noFolder = assertThrows(HearthException.class, () -> tooFew.write(dir.resolve("missing/x.gguf")));
        assertTrue(noFolder.getMessage().contains("missing"), noFolder.getMessage());
    }

    private void assertFolderHolds(String... names) throws IOException {
        try (var s = Files.list(dir)) {
            assertEquals(List.of(names), s.map(x -> x.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void bytesThatAreNotUtf8ComeBackUnchanged() throws IOException {
        // A vocabulary token holding the first byte of a three-byte character, written by hand.
        byte[] token = {(byte) 0xE6, (byte) 0x97, 'a', (byte) 0xFF, (byte) 0xED, (byte) 0xB2, (byte) 0x80};
        byte[] file = new RawGguf(3).u64(0).u64(1)
                .str("tokenizer.ggml.tokens").u32(GgufValueType.ARRAY.id()).u32(GgufValueType.STRING.id()).u64(2)
                .str("ok").u64(token.length).bytes(token)
                .build();
        Path p = dir.resolve("bytes.gguf");
        Files.write(p, file);
        Path copy = dir.resolve("bytes-copy.gguf");
        try (GgufFile f = GgufFile.open(p)) {
            String s = (String) f.getArray("tokenizer.ggml.tokens").get(1);
            assertEquals("\uDCE6\uDC97a\uDCFF\uDCED\uDCB2\uDC80", s);
            GgufWriter.copyOf(f).write(copy);
        }
        assertArrayEquals(file, Files.readAllBytes(copy));
        assertEquals("ok", new String(GgufStrings.encode("ok"), StandardCharsets.UTF_8));
    }

    @Test
    void copyOfWrittenFileIsIdentical() throws IOException {
        Path a = dir.resolve("a.gguf"), b = dir.resolve("b.gguf");
        GgufTestSupport.smallWriter().write(a);
        try (GgufFile f = GgufFile.open(a)) {
            GgufWriter.copyOf(f).write(b);
            try (GgufFile g = GgufFile.open(b)) {
                assertSameContent(f, g);
            }
            // Writing onto the file being read replaces it by rename; the mapping stays valid.
            GgufWriter.copyOf(f).write(a);
            assertInstanceOf(Long.class, f.value("llama.block_count").value());
        }
        assertEquals(-1L, Files.mismatch(a, b));
    }
}
