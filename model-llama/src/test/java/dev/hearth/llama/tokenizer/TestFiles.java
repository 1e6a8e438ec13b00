package dev.hearth.llama.tokenizer;

import dev.hearth.runtime.gguf.GgufFile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Locates the test data files and reads llama.cpp's tokenizer test vectors. */
final class TestFiles {
    private static final Map<String, Tokenizer> TOKENIZERS = new ConcurrentHashMap<>();

    private TestFiles() {
    }

    /** A file of the repository's test data folder (system property hearth.testdata); fails where absent. */
    static Path model(String name) {
        Path p = Path.of(System.getProperty("hearth.testdata", "../testdata"), name);
        if (!Files.isRegularFile(p)) {
            throw new AssertionError("test data file " + p.toAbsolutePath() + " is missing (set -Dhearth.testdata=DIR)");
        }
        return p;
    }

    /** The tokenizer of a shared model file, read once per test run. */
    static Tokenizer tokenizer(String name) {
        Path p = model(name);
        return TOKENIZERS.computeIfAbsent(name, n -> {
            try (GgufFile f = GgufFile.open(p)) {
                return Tokenizer.fromGguf(f);
            }
        });
    }

    record Vector(String input, int[] expected) {
        @Override
        public String toString() {
            return "'" + input.replace("\n", "\\n").replace("\t", "\\t") + "' -> " + Arrays.toString(expected);
        }
    }

    /**
     * llama.cpp's test vectors for a vocabulary: the .inp file holds the inputs, each followed by
     * a line "__ggml_vocab_test__" (so an input is exactly the text between "\n__ggml_vocab_test__\n"
     * separators, and its own last newline belongs to the separator); the .out file has one line
     * of space-separated ids per input, without BOS. Where the file does not end with a separator,
     * the text after the last one is the last input.
     */
    static List<Vector> vectors(String vocabFile) {
        try {
            String inp = Files.readString(model(vocabFile + ".inp"), StandardCharsets.UTF_8);
            List<String> outLines = Files.readAllLines(model(vocabFile + ".out"), StandardCharsets.UTF_8);
            String sep = "\n__ggml_vocab_test__\n";
            List<String> inputs = new ArrayList<>();
            int from = 0;
            for (int at = inp.indexOf(sep); at >= 0; at = inp.indexOf(sep, from)) {
                inputs.add(inp.substring(from, at));
                from = at + sep.length();
            }
            // some files (gemma-4) lack the separator after the last input: the rest is one more input
            if (from != inp.length()) inputs.add(inp.substring(from));
            if (inputs.size() != outLines.size()) {
                throw new IllegalStateException(inputs.size() + " inputs but " + outLines.size() + " expected lines");
            }
            List<Vector> vectors = new ArrayList<>();
            for (int i = 0; i < inputs.size(); i++) {
                String line = outLines.get(i).trim();
                int[] ids = line.isEmpty() ? new int[0] : Arrays.stream(line.split(" +")).mapToInt(Integer::parseInt).toArray();
                vectors.add(new Vector(inputs.get(i), ids));
            }
            return vectors;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
