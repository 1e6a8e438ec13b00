package dev.hearth.cli;

import dev.hearth.llama.Engine;
import dev.hearth.llama.sampling.Sampler;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.gguf.GgufFile;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * stories260K (F32 weights; kv dim 32, so four heads of 8 share each block of a quantized cache)
 * with Q8_0 and Q4_0 KV caches on every device, by the teacher-forced criterion of
 * {@link StoriesTest}: llama.cpp's greedy continuations of the F32 model fed whole; at each
 * generated step our argmax against llama.cpp's token, and the perplexity of llama.cpp's tokens
 * next to the same device's with an F32 cache (1.80).
 * <ul>
 *   <li>Q8_0 keeps the bar of the F16 and Q8_0 weight files: at least 97% agreement, no
 *       disagreement where llama.cpp's top two probabilities are more than 0.05 apart, and a
 *       perplexity within 1% of the F32 cache's (measured: 198/200, +0.4%).</li>
 *   <li>Q4_0 is far coarser on this model: 16 levels per block, and a block spans four heads, so
 *       the head with the largest values sets the step for all four (measured: 123/200, perplexity
 *       4.45, 2.5 times the F32 cache's). Its bar only catches a broken cache: at least 55%
 *       agreement and a perplexity under 3 times the F32 cache's. Models whose head dim is a
 *       multiple of 32 (every model llama.cpp can run with a Q4_0 cache) do not share blocks
 *       between heads.</li>
 * </ul>
 */
@Tag("model")
class QuantizedCacheStoriesTest {
    record Stats(int agree, int steps, double perplexity, List<String> clearMisses) {
    }

    @TestFactory
    List<DynamicTest> teacherForcedAgreement() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Device d : StoriesTest.devices()) {
            tests.add(DynamicTest.dynamicTest(d.name() + " cache Q8_0", () -> {
                Stats base = run(d, DType.F32, 0.05), q = run(d, DType.Q8_0, 0.05);
                assertTrue(q.clearMisses().isEmpty(), "disagreements where llama.cpp's margin exceeds 0.05: " + q.clearMisses());
                assertTrue(q.agree() >= 0.97 * q.steps(), "agreement " + q.agree() + "/" + q.steps());
                assertTrue(q.perplexity() <= 1.01 * base.perplexity(), "perplexity " + q.perplexity() + ", with an F32 cache " + base.perplexity());
            }));
            tests.add(DynamicTest.dynamicTest(d.name() + " cache Q4_0", () -> {
                Stats base = run(d, DType.F32, 1), q = run(d, DType.Q4_0, 1);
                assertTrue(q.agree() >= 0.55 * q.steps(), "agreement " + q.agree() + "/" + q.steps());
                assertTrue(q.perplexity() <= 3 * base.perplexity(), "perplexity " + q.perplexity() + ", with an F32 cache " + base.perplexity());
            }));
        }
        return tests;
    }

    /** Teacher-forced agreement and perplexity with {@code cache}; misses where llama.cpp's margin exceeds {@code margin}. */
    private static Stats run(Device d, DType cache, double margin) throws Exception {
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> cases = (List<Map<String, Object>>) ((Map<String, Object>) StoriesTest.greedy().get("models")).get("stories260K-f32.gguf");
        try (GgufFile f = GgufFile.open(StoriesTest.models().resolve("stories260K-f32.gguf")); Engine e = StoriesTest.engine(f, d, cache)) {
            int vocab = e.config().vocabSize();
            int steps = 0, agree = 0;
            double nll = 0;
            float[] probs = new float[vocab];
            List<String> clearMisses = new ArrayList<>();
            for (Map<String, Object> c : cases) {
                int[] prompt = StoriesTest.ints(c.get("prompt_tokens"));
                int[] gen = StoriesTest.ints(c.get("generated"));
                @SuppressWarnings("unchecked")
                List<List<List<Number>>> top3 = (List<List<List<Number>>>) c.get("top3");
                int[] all = new int[prompt.length + gen.length];
                System.arraycopy(prompt, 0, all, 0, prompt.length);
                System.arraycopy(gen, 0, all, prompt.length, gen.length);
                float[] logits = e.eval(all, 0, true);
                for (int i = 0; i < gen.length; i++) {
                    int pos = prompt.length - 1 + i;
                    int mine = Sampler.argmax(Arrays.copyOfRange(logits, pos * vocab, (pos + 1) * vocab), vocab);
                    ScoreCommand.softmax(logits, pos * vocab, probs, vocab);
                    nll -= Math.log(probs[gen[i]]);
                    steps++;
                    if (mine == gen[i]) {
                        agree++;
                        continue;
                    }
                    double p1 = top3.get(i).get(0).get(1).doubleValue();
                    double p2 = top3.get(i).size() > 1 ? top3.get(i).get(1).get(1).doubleValue() : 0;
                    if (p1 - p2 > margin) clearMisses.add(c.get("prompt") + " step " + i + ": " + mine + " vs " + gen[i] + " (margin " + (p1 - p2) + ")");
                }
            }
            Stats s = new Stats(agree, steps, Math.exp(nll / steps), clearMisses);
            System.out.printf("stories260K-f32, %s cache on %s: %d/%d steps agree, perplexity of llama.cpp's tokens %.4f%n",
                    cache, d.name(), agree, steps, s.perplexity());
            return s;
        }
    }
}
