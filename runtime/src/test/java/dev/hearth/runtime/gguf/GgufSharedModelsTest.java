package dev.hearth.runtime.gguf;

import dev.hearth.runtime.dtype.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.hearth.runtime.gguf.GgufTestSupport.assertSameContent;
import static dev.hearth.runtime.gguf.GgufTestSupport.model;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shared model files: version 1 against version 3, and copies written by GgufWriter. */
class GgufSharedModelsTest {
    @Test
    void versionOneAndThreeHoldTheSameModel() {
        try (GgufFile v1 = GgufFile.open(model("stories260K-f32-gguf-v1.gguf"));
             GgufFile v3 = GgufFile.open(model("stories260K-f32.gguf"))) {
            assertEquals(1, v1.version());
            assertEquals(3, v3.version());
            List<String> names1 = v1.tensorList().stream().map(GgufTensorInfo::name).toList();
            List<String> names3 = v3.tensorList().stream().map(GgufTensorInfo::name).toList();
            assertEquals(names3, names1);
            assertEquals(48, names1.size()); // 5 layers of 9 tensors, embedding, output norm, output
            for (GgufTensorInfo t3 : v3.tensorList()) {
                GgufTensorInfo t1 = v1.tensor(t3.name());
                assertEquals(t3.desc(), t1.desc(), t3.name());
                assertEquals(DType.F32, t1.desc().type());
                assertEquals(-1, v3.data(t3).mismatch(v1.data(t1)), "bytes of " + t3.name());
            }
            int shared = 0;
            for (var kv : v1.metadata().entrySet()) {
                GgufValue other = v3.value(kv.getKey());
                if (other == null) continue;
                shared++;
                assertEquals(other, kv.getValue(), kv.getKey());
            }
            assertEquals(v1.metadata().size(), shared, "every v1 key is in the v3 file");
            assertEquals(512, v1.getArray("tokenizer.ggml.tokens").size());
            assertEquals(64, v1.getInt("llama.embedding_length", 0));
            assertEquals("llama", v1.requireString("general.architecture"));
        }
    }

    @Test
    void copiesHoldEqualContent(@TempDir Path dir) throws Exception {
        for (String name : GgufTestSupport.MODEL_FILES) {
            Path src = model(name);
            Path out = dir.resolve("copy-" + name);
            try (GgufFile f = GgufFile.open(src)) {
                GgufWriter.copyOf(f).write(out);
                try (GgufFile c = GgufFile.open(out)) {
                    assertEquals(3, c.version());
                    assertSameContent(f, c);
                    assertEquals(f.alignment(), c.alignment());
                }
            }
            if (!name.contains("v1")) {
                // The shared v3 files are laid out canonically, so the copy is the same file.
                assertEquals(-1L, Files.mismatch(src, out), name + ": copy differs from the original");
            }
            Files.delete(out);
        }
        try (var s = Files.list(dir)) {
            assertFalse(s.findAny().isPresent(), "no temporary files remain");
        }
    }

    @Test
    void vocabularyFilesHaveNoTensors() {
        try (GgufFile f = GgufFile.open(model("ggml-vocab-llama-bpe.gguf"))) {
            assertTrue(f.tensors().isEmpty());
            assertEquals(128256, f.getArray("tokenizer.ggml.tokens").size());
            assertEquals(280147, f.getArray("tokenizer.ggml.merges").size());
            assertEquals(f.fileSize(), f.dataOffset(), "no data section after the header");
        }
    }
}
