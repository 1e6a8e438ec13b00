package dev.hearth.runtime.gguf;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The test data ships with the repository: every file the suite reads is in testdata/, and every
 * file there is described (origin, licence) in testdata/README.md.
 */
class TestDataTest {
    /** The files the tests of every module read, besides arch/ (which ArchitecturesTest checks). */
    static final List<String> READ_BY_TESTS = List.of(
            "stories260K-f32.gguf", "stories260K-f32-gguf-v1.gguf", "stories260K-f16.gguf",
            "stories260K-q8_0.gguf", "stories260K-q4_0.gguf",
            "stories260K.greedy.json", "stories260K-f32.ref-probs.json",
            "ggml-vocab-llama-spm.gguf", "ggml-vocab-llama-bpe.gguf", "ggml-vocab-qwen2.gguf",
            "ggml-vocab-phi-3.gguf", "ggml-vocab-command-r.gguf", "ggml-vocab-gemma-4.gguf",
            "arch/reference.json");

    @Test
    void everyFileTheTestsReadIsThere() {
        List<String> missing = new ArrayList<>();
        for (String name : READ_BY_TESTS) {
            if (!Files.isRegularFile(GgufTestSupport.models().resolve(name))) missing.add(name);
            if (name.startsWith("ggml-vocab-")) {
                for (String ext : List.of(".inp", ".out")) {
                    if (!Files.isRegularFile(GgufTestSupport.models().resolve(name + ext))) missing.add(name + ext);
                }
            }
        }
        assertEquals(List.of(), missing, "missing from " + GgufTestSupport.models().toAbsolutePath());
    }

    @Test
    void everyFileIsDescribedInTheReadme() throws IOException {
        Path dir = GgufTestSupport.models();
        List<PathMatcher> described = new ArrayList<>();
        Matcher m = Pattern.compile("`([^`\\s]+)`").matcher("");
        for (String line : Files.readAllLines(dir.resolve("README.md"))) {
            if (!line.startsWith("| `")) continue;
            String first = line.substring(1, line.indexOf('|', 1));
            m.reset(first);
            while (m.find()) described.add(FileSystems.getDefault().getPathMatcher("glob:" + m.group(1)));
        }
        assertTrue(described.size() > 10, "testdata/README.md has a table of files");
        List<String> undescribed = new ArrayList<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.filter(Files::isRegularFile).toList()) {
                Path rel = dir.relativize(p);
                if (rel.getFileName().toString().equals("README.md")) continue;
                if (described.stream().noneMatch(x -> x.matches(rel))) undescribed.add(rel.toString());
            }
        }
        assertEquals(List.of(), undescribed, "files of testdata/ that its README.md does not describe");
    }

    @Test
    void templatesAreThere() throws IOException {
        try (Stream<Path> s = Files.list(GgufTestSupport.models().resolve("templates"))) {
            assertTrue(s.filter(p -> p.toString().endsWith(".jinja")).count() >= 10, "chat templates in testdata/templates");
        }
    }
}
