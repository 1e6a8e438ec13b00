package dev.hearth.backend.opencl;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.TensorRef;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.tensor.TensorDesc;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.hearth.backend.opencl.OpenClTesting.assertMatchesReference;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Q4_0 and Q8_0 weights repacked at load (OpenClDevice.prepareWeight, WeightRepack): which are,
 * reads of the buffer in the GGUF layout, get_rows of a repacked table (a tied output head), and
 * the refusal of other readers. mul_mat on them: MulMatTest.repackedMatchesReference.
 */
@Tag("opencl")
class RepackTest {
    @Test
    void repacksQ4_0AndQ8_0RowsOf256() {
        OpenClDevice d = OpenClTesting.device();
        TensorDesc q4 = TensorDesc.of("q4", DType.Q4_0, 256, 5), q8 = TensorDesc.of("q8", DType.Q8_0, 512, 3);
        TensorDesc short96 = TensorDesc.of("s", DType.Q8_0, 96, 4), f = TensorDesc.of("f", DType.F32, 256, 4);
        try (Buffer w = d.allocate(4096, BufferUsage.WEIGHTS); Buffer kv = d.allocate(4096, BufferUsage.KV)) {
            assertEquals(q4.bytes(), d.prepareWeight(new TensorRef(q4, w, 0)));
            assertEquals(0, d.prepareWeight(new TensorRef(q4, w, 0)), "already repacked");
            assertEquals(q8.bytes(), d.prepareWeight(new TensorRef(q8, w, 1024)));
            assertEquals(0, d.prepareWeight(new TensorRef(short96, w, 3072)), "rows of 96: not 16-byte aligned");
            assertEquals(0, d.prepareWeight(new TensorRef(f, w, 3072)), "float weights stay");
            assertEquals(0, d.prepareWeight(new TensorRef(q4, w, 3080)), "an offset not 16-byte aligned");
            assertEquals(0, d.prepareWeight(new TensorRef(q4, kv, 0)), "not a weights buffer");
            System.setProperty("hearth.opencl.repack", "false");
            try {
                assertEquals(0, d.prepareWeight(new TensorRef(q4, w, 3072)), "repacking switched off");
            } finally {
                System.clearProperty("hearth.opencl.repack");
            }
        }
    }

    /** Reads of a repacked range give the GGUF bytes back (whole rows), refuse part of a row; a write forgets the range. */
    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q8_0"})
    void readsGiveTheGgufLayoutBack(DType type) {
        OpenClDevice d = OpenClTesting.device();
        int k = 512, rows = 4;
        try (var c = new OpenClTesting.Case(2); Arena arena = Arena.ofConfined()) {
            MemorySegment gguf = c.encode(type, c.randoms(k * rows, 1f), k);
            TensorDesc desc = TensorDesc.of("w", type, k, rows);
            long at = 256, rowBytes = desc.rowBytes();
            try (OpenClBuffer b = (OpenClBuffer) d.allocate(at + gguf.byteSize() + 64, BufferUsage.WEIGHTS)) {
                b.write(at, gguf);
                assertEquals(gguf.byteSize(), d.prepareWeight(new TensorRef(desc, b, at)));
                MemorySegment all = arena.allocate(b.size());
                b.read(0, all);
                assertEquals(-1, all.asSlice(at, gguf.byteSize()).mismatch(gguf), "the whole tensor, and bytes around it");
                MemorySegment row = arena.allocate(rowBytes);
                b.read(at + 2 * rowBytes, row);
                assertEquals(-1, row.mismatch(gguf.asSlice(2 * rowBytes, rowBytes)), "one whole row");
                assertThrows(IllegalStateException.class, () -> b.read(at + 2, arena.allocate(rowBytes)), "part of a row");
                b.write(at, gguf.asSlice(0, 2));
                assertFalse(b.isRepacked(at), "a write of part of the range forgets it: its bytes are what was written");
                b.write(at, gguf);
                b.read(at, row);
                assertEquals(-1, row.mismatch(gguf.asSlice(0, rowBytes)));
            }
        }
    }

    /** A table that get_rows and mul_mat share (tied embeddings and output head), repacked: both read it so. */
    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q8_0"})
    void getRowsOfARepackedTable(DType type) {
        try (var c = new OpenClTesting.Case(3)) {
            Node table = c.weight("table", type, 256, 41, 1f);
            c.out(c.graph.getRows("rows", table, c.ints("ids", 0, 40, 7, 7, 21)));
            c.out(c.graph.mulMat("logits", table, c.input("x", DType.F32, 256, 2, 1f)));
            assertMatchesReference(c, 1e-4);
        }
    }

    @Test
    void otherReadersAreRefused() {
        OpenClDevice d = OpenClTesting.device();
        try (var c = new OpenClTesting.Case(4)) {
            Node w = c.weight("w", DType.Q8_0, 256, 4, 1f);
            c.out(c.graph.mulMat("y", w, c.input("x", DType.F32, 256, 1, 1f)));
            c.out(c.graph.convert("w32", w, DType.F32));
            HearthException e = assertThrows(HearthException.class, () -> OpenClTesting.run(c, d));
            assertTrue(e.getMessage().contains("repacked"), e.getMessage());
        }
    }
}
