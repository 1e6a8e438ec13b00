package dev.hearth.cli;

import dev.hearth.llama.ModelConfig;
import dev.hearth.llama.Engine;
import dev.hearth.llama.ModelWeights;
import dev.hearth.llama.Placement;
import dev.hearth.llama.Session;
import dev.hearth.llama.sampling.Sampler;
import dev.hearth.llama.sampling.SamplerParams;
import dev.hearth.offload.MemoryProfile;
import dev.hearth.offload.Plan;
import dev.hearth.offload.PlanRequest;
import dev.hearth.offload.Planner;
import dev.hearth.runtime.backend.BackendProvider;
import dev.hearth.runtime.backend.Backends;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.gguf.GgufFile;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.sched.Schedule;
import dev.hearth.runtime.sched.Split;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * CPU and OpenCL together: stories260K split at every layer boundary agrees with llama.cpp, each
 * step moves one activation per device boundary, and the planner's estimate matches what the
 * engine allocates.
 */
@Tag("opencl")
@Tag("model")
class HybridTest {
    static Device opencl() {
        BackendProvider p = Backends.provider("opencl");
        List<Device> ds = p == null ? List.of() : p.devices();
        if (ds.isEmpty()) {
            String why = p == null ? "no opencl backend on the class path" : p.unavailableReason();
            if ("true".equals(System.getenv("CI"))) fail("CI needs an OpenCL platform (PoCL): " + why);
            Assumptions.abort(why);
        }
        return ds.getFirst();
    }

    static Device cpu() {
        return Backends.provider("cpu").devices().getFirst();
    }

    /** Blocks from {@code gpuFrom} on (and the head, when every block is there) on the GPU device. */
    static Placement split(ModelConfig c, Device gpu, int gpuFrom) {
        Device[] d = new Device[c.layers() + 2];
        d[0] = cpu();
        for (int l = 0; l < c.layers(); l++) d[l + 1] = l >= gpuFrom ? gpu : cpu();
        d[c.layers() + 1] = gpuFrom == 0 ? gpu : cpu();
        return new Placement(d, List.of(gpu, cpu(), Backends.provider("reference").devices().getFirst()));
    }

    @TestFactory
    List<DynamicTest> everySplitPointMatchesLlamaCpp() throws Exception {
        Map<String, Object> g = StoriesTest.greedy();
        @SuppressWarnings("unchecked")
        Map<String, Object> first = ((List<Map<String, Object>>) ((Map<String, Object>) g.get("models")).get("stories260K-f32.gguf")).getFirst();
        int[] prompt = StoriesTest.ints(first.get("prompt_tokens"));
        int[] expected = StoriesTest.ints(first.get("generated"));
        List<DynamicTest> tests = new ArrayList<>();
        for (int k = 0; k <= 5; k++) {
            int gpuFrom = k;
            tests.add(DynamicTest.dynamicTest("opencl from block " + k, () -> {
                Device gpu = opencl();
                try (GgufFile f = GgufFile.open(StoriesTest.models().resolve("stories260K-f32.gguf"))) {
                    ModelConfig c = ModelConfig.fromGguf(f);
                    try (Engine e = new Engine(new ModelWeights(f, c), split(c, gpu, gpuFrom), 512, 64, DType.F32, null)) {
                        List<Integer> got = new ArrayList<>();
                        new Session(e).generate(prompt, expected.length, new Sampler(SamplerParams.greedy()), t -> false, got::add);
                        assertEquals(java.util.Arrays.toString(expected), got.toString().replace(" ", "").replace(",", ", "));
                        Schedule s = e.schedule(1, false);
                        int boundaries = 0;
                        for (int i = 1; i < s.splits().size(); i++) if (s.splits().get(i).device() != s.splits().get(i - 1).device()) boundaries++;
                        int activations = 0;
                        for (Split sp : s.splits()) {
                            for (var n : sp.imports()) if (!(n.op() instanceof Op.Input) && !(n.op() instanceof Op.Weight)) activations++;
                        }
                        assertEquals(boundaries, activations, "one activation copy per device boundary per step");
                    }
                }
            }));
        }
        return tests;
    }

    @Test
    void quantizedSplitAgreesTeacherForced() throws Exception {
        Device gpu = opencl();
        Map<String, Object> g = StoriesTest.greedy();
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> cases = (List<Map<String, Object>>) ((Map<String, Object>) g.get("models")).get("stories260K-q4_0.gguf");
        try (GgufFile f = GgufFile.open(StoriesTest.models().resolve("stories260K-q4_0.gguf"))) {
            ModelConfig c = ModelConfig.fromGguf(f);
            try (Engine e = new Engine(new ModelWeights(f, c), split(c, gpu, 2), 512, 64, DType.F32, null)) {
                int steps = 0;
                int agree = 0;
                for (Map<String, Object> cs : cases) {
                    int[] prompt = StoriesTest.ints(cs.get("prompt_tokens"));
                    int[] gen = StoriesTest.ints(cs.get("generated"));
                    int[] all = new int[prompt.length + gen.length];
                    System.arraycopy(prompt, 0, all, 0, prompt.length);
                    System.arraycopy(gen, 0, all, prompt.length, gen.length);
                    float[] logits = e.eval(all, 0, true);
                    int vocab = c.vocabSize();
                    for (int i = 0; i < gen.length; i++) {
                        int pos = prompt.length - 1 + i;
                        float[] row = java.util.Arrays.copyOfRange(logits, pos * vocab, (pos + 1) * vocab);
                        steps++;
                        if (Sampler.argmax(row, vocab) == gen[i]) agree++;
                    }
                }
                assertTrue(agree >= 0.97 * steps, agree + "/" + steps);
            }
        }
    }

    @Test
    void plannerEstimateIsWithinFivePercentOfTheAllocations() throws Exception {
        Device gpu = opencl();
        try (GgufFile f = GgufFile.open(StoriesTest.models().resolve("stories260K-f32.gguf"))) {
            ModelConfig c = ModelConfig.fromGguf(f);
            ModelWeights w = new ModelWeights(f, c);
            int ctx = 512;
            int batch = 64;
            MemoryProfile profile = MemoryProfile.of(w, DType.F16, ctx, batch);
            PlanRequest req = new PlanRequest(profile, List.of(new PlanRequest.GpuInfo(gpu.name(), gpu.memory().free())), ctx, 256, 0,
                    PlanRequest.AUTO, null, null, 0);
            Plan plan = Planner.plan(req);
            assertEquals(c.layers(), plan.gpuLayerCount());
            Device[] d = new Device[c.layers() + 2];
            d[0] = cpu();
            for (int l = 0; l <= c.layers(); l++) d[l + 1] = gpu;
            try (Engine e = new Engine(w, new Placement(d, List.of(gpu, cpu())), ctx, batch, DType.F16, null)) {
                int[] tokens = new int[batch];
                e.eval(tokens, 0, false); // builds the worst-case (full batch) graph
                e.eval(new int[] {1}, batch, false);
                Plan.Row row = plan.rows().getFirst();
                long estimate = row.weights() + row.kv() + row.compute();
                long actual = e.allocatedBytes(gpu);
                double err = Math.abs(estimate - actual) / (double) actual;
                assertTrue(err <= 0.05, "estimate " + estimate + " vs allocated " + actual + " (" + Math.round(err * 100) + "%)");
            }
        }
    }
}
