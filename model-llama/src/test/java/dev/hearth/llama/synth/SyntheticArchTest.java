package dev.hearth.llama.synth;

import dev.hearth.llama.Architectures;
import dev.hearth.llama.ModelConfig;
import dev.hearth.llama.ModelWeights;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.gguf.GgufFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every synthetic shape names a registered architecture, and a small model of each shape's
 * architecture and metadata, written by {@link SyntheticModel}, loads back: the config reads its
 * metadata and every weight its architecture lists binds with the expected shape.
 */
class SyntheticArchTest {
    @Test
    void everyArchitectureHasAShapeThatLoads(@TempDir Path dir) {
        Set<String> archs = new HashSet<>();
        for (SyntheticModel.Shape s : SyntheticModel.SHAPES.values()) {
            assertTrue(Architectures.names().contains(s.arch()), s.name() + ": " + s.arch());
            if (!archs.add(s.arch())) continue;
            // the same architecture and metadata at a small size: 2 layers, dim 128, 512 tokens
            int heads = 4, kv = s.kvHeads() == s.heads() ? 4 : s.kvHeads() == 1 ? 1 : 2;
            int headDim = s.headDim() == s.dim() / s.heads() ? 32 : 64;
            var extra = new HashMap<>(s.extra());
            if (extra.containsKey("expert_count")) { // 4 experts of 64, 2 used
                extra.put("expert_count", dev.hearth.runtime.gguf.GgufValue.u32(4));
                extra.put("expert_used_count", dev.hearth.runtime.gguf.GgufValue.u32(2));
                if (extra.containsKey("expert_feed_forward_length")) extra.put("expert_feed_forward_length", dev.hearth.runtime.gguf.GgufValue.u32(64));
            }
            SyntheticModel.Shape small = new SyntheticModel.Shape("small-" + s.name(), s.arch(), 128, 2, 256, heads, kv, headDim, 512,
                    s.tied(), 256, s.ropeBase(), extra);
            Path out = dir.resolve(s.arch() + ".gguf");
            SyntheticModel.write(small, DType.Q8_0, null, 1, out);
            try (GgufFile f = GgufFile.open(out)) {
                ModelConfig c = ModelConfig.fromGguf(f);
                assertEquals(s.arch(), c.arch());
                assertEquals(headDim, c.headDim());
                assertEquals(extra.containsKey("expert_count"), c.moe(), s.name() + ": experts");
                ModelWeights w = new ModelWeights(f, c);
                assertEquals(f.tensors().size(), countSources(w), s.arch() + ": every tensor of the file is a weight's source");
            }
        }
        assertEquals(Architectures.names().size() - 1, archs.size(), "a shape for every architecture but mistral (llama's shapes)");
    }

    private static long countSources(ModelWeights w) {
        return w.all().keySet().stream().map(w::source).distinct().count();
    }
}
