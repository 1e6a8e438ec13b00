package dev.hearth.llama.sampling;

/**
 * Sampling settings, with llama.cpp's defaults: temperature 0.8, top-k 40, top-p 0.95,
 * min-p 0.05, no repetition penalty (1.0) over the last 64 tokens. Temperature 0 is greedy.
 */
public record SamplerParams(float temperature, int topK, float topP, float minP, float repeatPenalty,
                            float frequencyPenalty, float presencePenalty, int penaltyLastN, long seed) {
    public static final SamplerParams DEFAULTS = new SamplerParams(0.8f, 40, 0.95f, 0.05f, 1.0f, 0f, 0f, 64, -1);

    public static SamplerParams greedy() {
        return DEFAULTS.withTemperature(0f);
    }

    public SamplerParams withTemperature(float t) {
        return new SamplerParams(t, topK, topP, minP, repeatPenalty, frequencyPenalty, presencePenalty, penaltyLastN, seed);
    }

    public SamplerParams withSeed(long s) {
        return new SamplerParams(temperature, topK, topP, minP, repeatPenalty, frequencyPenalty, presencePenalty, penaltyLastN, s);
    }

    public SamplerParams withTopP(float p) {
        return new SamplerParams(temperature, topK, p, minP, repeatPenalty, frequencyPenalty, presencePenalty, penaltyLastN, seed);
    }

    public SamplerParams withTopK(int k) {
        return new SamplerParams(temperature, k, topP, minP, repeatPenalty, frequencyPenalty, presencePenalty, penaltyLastN, seed);
    }

    public SamplerParams withMinP(float p) {
        return new SamplerParams(temperature, topK, topP, p, repeatPenalty, frequencyPenalty, presencePenalty, penaltyLastN, seed);
    }

    public SamplerParams withPenalties(float repeat, float frequency, float presence, int lastN) {
        return new SamplerParams(temperature, topK, topP, minP, repeat, frequency, presence, lastN, seed);
    }
}
