package dev.hearth.cli;

import dev.hearth.llama.ModelConfig;
import dev.hearth.llama.Engine;
import dev.hearth.llama.ModelWeights;
import dev.hearth.llama.Placement;
import dev.hearth.runtime.backend.Backends;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.gguf.GgufFile;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Loading prepares the CPU's weights (repacked Q4_0 and Q8_0 matrices) as a phase of its own with
 * progress up to the whole, and does nothing of the kind for F32 weights.
 */
@Tag("model")
class PrepareWeightsTest {
    private record Seen(List<String> phases, List<long[]> updates) implements Engine.Progress {
        @Override
        public void update(long done, long total) {
            updates.add(new long[] {done, total});
        }

        @Override
        public void phase(String what) {
            phases.add(what);
        }
    }

    private static Seen load(String file) throws Exception {
        Seen seen = new Seen(new ArrayList<>(), new ArrayList<>());
        Device cpu = Backends.provider("cpu").devices().getFirst();
        try (GgufFile f = GgufFile.open(StoriesTest.models().resolve(file))) {
            ModelConfig c = ModelConfig.fromGguf(f);
            try (Engine e = new Engine(new ModelWeights(f, c), Placement.single(cpu, c.layers(), List.of(cpu)), 64, 8, DType.F16, seen)) {
                assertEquals(c.vocabSize(), e.config().vocabSize());
            }
        }
        return seen;
    }

    @Test
    void quantizedMatricesArePreparedAtLoadWithProgress() throws Exception {
        for (String file : new String[] {"stories260K-q4_0.gguf", "stories260K-q8_0.gguf"}) {
            Seen s = load(file);
            assertEquals(List.of("preparing weights"), s.phases(), file);
            assertTrue(s.updates().size() > 1, file);
            long[] last = s.updates().getLast();
            assertEquals(last[1], last[0], file + ": progress ends at the whole");
            for (int i = 1; i < s.updates().size(); i++) assertTrue(s.updates().get(i)[0] >= s.updates().get(i - 1)[0], file);
        }
    }

    @Test
    void floatWeightsNeedNoPreparation() throws Exception {
        Seen s = load("stories260K-f32.gguf");
        assertTrue(s.phases().isEmpty(), s.phases().toString());
        assertTrue(s.updates().isEmpty());
    }
}
