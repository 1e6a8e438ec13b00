package dev.hearth.cli;

import dev.hearth.llama.synth.SyntheticModel;

import java.nio.file.Path;

/** {@code hearth synth}: a model of a real shape with seeded random weights, for benchmarks. */
final class SynthCommand {
    static final String HELP = """
            usage: hearth synth [--arch ARCH] --shape NAME --type TYPE [--vocab VOCAB.gguf] [--seed S] -o OUT.gguf
              --arch    the shape's architecture (checked; each shape names its own)
              --shape   tiny, llama-3.2-1b, llama-3.2-3b, llama-3-8b, mixtral-8x7b, qwen2.5-1.5b, qwen2.5-7b, qwen3-0.6b,
                        qwen3-8b, qwen3-30b-a3b, qwen3moe-16l-64e (a mixture of experts for small machines),
                        gemma-2-2b, gemma-3-1b, gemma-3-4b, phi-3-mini, command-r-35b, gpt-oss-20b
              --type    q4_0, q8_0, q4_k, q6_k, f16, f32 (the type of every matrix)
              --vocab   copy the tokenizer from this GGUF file (its size must match the shape's)
            """;

    static int run(String[] argv) {
        if (Main.help(argv, HELP)) return 0;
        Args a = new Args("synth", argv, 0, "arch", "shape", "type", "vocab", "seed", "o|output");
        SyntheticModel.Shape shape = SyntheticModel.shape(a.require("shape", "--shape NAME"));
        if (a.has("arch") && !a.get("arch", "").equals(shape.arch())) {
            String same = SyntheticModel.SHAPES.values().stream().filter(s -> s.arch().equals(a.get("arch", "")))
                    .map(SyntheticModel.Shape::name).collect(java.util.stream.Collectors.joining(", "));
            throw new dev.hearth.runtime.HearthException("shape " + shape.name() + " is a " + shape.arch() + " model, not " + a.get("arch", "")
                    + (same.isEmpty() ? "" : " (its shapes: " + same + ")"));
        }
        var type = SyntheticModel.type(a.require("type", "--type TYPE"));
        Path out = Path.of(a.require("o", "an output file: -o OUT.gguf"));
        long t0 = System.nanoTime();
        System.err.printf("writing %s %s to %s...%n", shape.name(), type.name().toLowerCase(), out);
        SyntheticModel.write(shape, type, a.has("vocab") ? Path.of(a.get("vocab", "")) : null, a.getLong("seed", 42), out);
        System.err.printf("done in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
