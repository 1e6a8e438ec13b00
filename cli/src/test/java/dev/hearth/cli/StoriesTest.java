package dev.hearth.cli;

import dev.hearth.llama.ModelConfig;
import dev.hearth.llama.Engine;
import dev.hearth.llama.ModelWeights;
import dev.hearth.llama.Placement;
import dev.hearth.llama.Session;
import dev.hearth.llama.sampling.Sampler;
import dev.hearth.llama.sampling.SamplerParams;
import dev.hearth.runtime.backend.Backends;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.gguf.GgufFile;
import dev.hearth.runtime.json.Json;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The stories260K model against llama.cpp's outputs, on every device found: greedy tokens and
 * per-step probabilities for the F32 file; teacher-forced argmax agreement for F16, Q8_0, Q4_0.
 */
@Tag("model")
class StoriesTest {
    /** The repository's test data folder (system property hearth.testdata); fails where it is absent. */
    static Path models() {
        Path p = Path.of(System.getProperty("hearth.testdata", "../testdata"));
        if (!Files.isDirectory(p)) {
            throw new AssertionError("test data folder " + p.toAbsolutePath() + " not found (set -Dhearth.testdata=DIR)");
        }
        return p;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> greedy() throws Exception {
        return (Map<String, Object>) Json.parse(Files.readString(models().resolve("stories260K.greedy.json")));
    }

    static int[] ints(Object list) {
        List<?> l = (List<?>) list;
        int[] r = new int[l.size()];
        for (int i = 0; i < r.length; i++) r[i] = ((Number) l.get(i)).intValue();
        return r;
    }

    static Engine engine(GgufFile f, Device d, DType cache) {
        ModelConfig c = ModelConfig.fromGguf(f);
        ModelWeights w = new ModelWeights(f, c);
        List<Device> fallbacks = new ArrayList<>(List.of(d));
        Device ref = Backends.provider("reference").devices().getFirst();
        if (d != ref) fallbacks.add(ref);
        return new Engine(w, Placement.single(d, c.layers(), fallbacks), 512, 64, cache, null);
    }

    static List<Device> devices() {
        return Backends.allDevices();
    }

    @TestFactory
    List<DynamicTest> greedyF32MatchesLlamaCpp() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Device d : devices()) {
            tests.add(DynamicTest.dynamicTest(d.name(), () -> {
                Map<String, Object> g = greedy();
                @SuppressWarnings("unchecked")
                List<Map<String, Object>> cases = (List<Map<String, Object>>) ((Map<String, Object>) g.get("models")).get("stories260K-f32.gguf");
                try (GgufFile f = GgufFile.open(models().resolve("stories260K-f32.gguf")); Engine e = engine(f, d, DType.F32)) {
                    for (Map<String, Object> c : cases) {
                        int[] prompt = ints(c.get("prompt_tokens"));
                        int[] expected = ints(c.get("generated"));
                        Session s = new Session(e);
                        List<Integer> got = new ArrayList<>();
                        s.generate(prompt, expected.length, new Sampler(SamplerParams.greedy()), t -> false, t -> got.add(t));
                        int[] actual = got.stream().mapToInt(Integer::intValue).toArray();
                        assertEquals(java.util.Arrays.toString(expected), java.util.Arrays.toString(actual), "prompt: " + c.get("prompt"));
                    }
                }
            }));
        }
        return tests;
    }

    @TestFactory
    List<DynamicTest> f32ProbabilitiesMatchLlamaCpp() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Device d : devices()) {
            tests.add(DynamicTest.dynamicTest(d.name(), () -> {
                @SuppressWarnings("unchecked")
                Map<String, Object> ref = (Map<String, Object>) Json.parse(Files.readString(models().resolve("stories260K-f32.ref-probs.json")));
                int[] prompt = ints(ref.get("promptTokens"));
                @SuppressWarnings("unchecked")
                List<Map<String, Object>> steps = (List<Map<String, Object>>) ref.get("steps");
                try (GgufFile f = GgufFile.open(models().resolve("stories260K-f32.gguf")); Engine e = engine(f, d, DType.F32)) {
                    int vocab = e.config().vocabSize();
                    List<Integer> seq = new ArrayList<>();
                    for (int t : prompt) seq.add(t);
                    float[] probs = new float[vocab];
                    double worst = 0;
                    for (Map<String, Object> step : steps) {
                        int[] ids = seq.stream().mapToInt(Integer::intValue).toArray();
                        float[] logits = e.eval(ids, 0, false);
                        ScoreCommand.softmax(logits, 0, probs, vocab);
                        @SuppressWarnings("unchecked")
                        Map<String, Object> p = (Map<String, Object>) step.get("probs");
                        for (var en : p.entrySet()) {
                            double want = ((Number) en.getValue()).doubleValue();
                            double diff = Math.abs(probs[Integer.parseInt(en.getKey())] - want);
                            worst = Math.max(worst, diff);
                        }
                        seq.add(((Number) step.get("token")).intValue());
                    }
                    assertTrue(worst <= 1e-4, "largest probability difference " + worst + " on " + d.name());
                }
            }));
        }
        return tests;
    }

    @TestFactory
    List<DynamicTest> quantizedTeacherForcedAgreement() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Device d : devices()) {
            for (String file : List.of("stories260K-f16.gguf", "stories260K-q8_0.gguf", "stories260K-q4_0.gguf")) {
                tests.add(DynamicTest.dynamicTest(d.name() + " " + file, () -> {
                    Map<String, Object> g = greedy();
                    @SuppressWarnings("unchecked")
                    List<Map<String, Object>> cases = (List<Map<String, Object>>) ((Map<String, Object>) g.get("models")).get(file);
                    try (GgufFile f = GgufFile.open(models().resolve(file)); Engine e = engine(f, d, DType.F32)) {
                        int vocab = e.config().vocabSize();
                        int steps = 0;
                        int agree = 0;
                        List<String> clearMisses = new ArrayList<>();
                        for (Map<String, Object> c : cases) {
                            int[] prompt = ints(c.get("prompt_tokens"));
                            int[] gen = ints(c.get("generated"));
                            @SuppressWarnings("unchecked")
                            List<List<List<Number>>> top3 = (List<List<List<Number>>>) c.get("top3");
                            int[] all = new int[prompt.length + gen.length];
                            System.arraycopy(prompt, 0, all, 0, prompt.length);
                            System.arraycopy(gen, 0, all, prompt.length, gen.length);
                            float[] logits = e.eval(all, 0, true);
                            for (int i = 0; i < gen.length; i++) {
                                int pos = prompt.length - 1 + i;
                                float[] row = java.util.Arrays.copyOfRange(logits, pos * vocab, (pos + 1) * vocab);
                                int mine = Sampler.argmax(row, vocab);
                                steps++;
                                if (mine == gen[i]) {
                                    agree++;
                                } else {
                                    double p1 = top3.get(i).get(0).get(1).doubleValue();
                                    double p2 = top3.get(i).size() > 1 ? top3.get(i).get(1).get(1).doubleValue() : 0;
                                    if (p1 - p2 > 0.05) clearMisses.add(c.get("prompt") + " step " + i + ": " + mine + " vs " + gen[i] + " (margin " + (p1 - p2) + ")");
                                }
                            }
                        }
                        if (!clearMisses.isEmpty()) fail("disagreements where llama.cpp's margin exceeds 0.05: " + clearMisses);
                        assertTrue(agree >= 0.97 * steps, "agreement " + agree + "/" + steps);
                    }
                }));
            }
        }
        return tests;
    }
}
