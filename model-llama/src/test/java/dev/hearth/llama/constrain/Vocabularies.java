package dev.hearth.llama.constrain;

import dev.hearth.llama.tokenizer.Tokenizer;
import dev.hearth.runtime.gguf.GgufFile;
import dev.hearth.runtime.json.Json;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Real vocabularies from the test data, read once per run, and schema helpers. */
final class Vocabularies {
    static final String STORIES = "stories260K-f32.gguf";
    static final String QWEN2 = "ggml-vocab-qwen2.gguf";
    static final String LLAMA_SPM = "ggml-vocab-llama-spm.gguf";
    private static final Map<String, Tokenizer> TOKENIZERS = new ConcurrentHashMap<>();

    private Vocabularies() {
    }

    static Tokenizer get(String name) {
        Path p = Path.of(System.getProperty("hearth.testdata", "../testdata"), name);
        if (!Files.isRegularFile(p)) throw new AssertionError("test data file " + p.toAbsolutePath() + " is missing (set -Dhearth.testdata=DIR)");
        return TOKENIZERS.computeIfAbsent(name, n -> {
            try (GgufFile f = GgufFile.open(p)) {
                return Tokenizer.fromGguf(f);
            }
        });
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> schema(String json) {
        return (Map<String, Object>) Json.parse(json);
    }
}
