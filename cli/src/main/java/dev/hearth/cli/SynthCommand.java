package dev.hearth.cli;

import dev.hearth.llama.synth.SyntheticModel;

import java.nio.file.Path;

/** {@code hearth synth}: a model of a real shape with seeded random weights, for benchmarks. */
final class SynthCommand {
    static final String HELP = """
            usage: hearth synth --shape NAME --type TYPE [--vocab VOCAB.gguf] [--seed S] -o OUT.gguf
              --shape   tiny, llama-3.2-1b, llama-3.2-3b, llama-3-8b
              --type    q4_0, q8_0, q4_k, q6_k, f16, f32 (the type of every matrix)
              --vocab   copy the tokenizer from this GGUF file (its size must match the shape's)
            """;

    static int run(String[] argv) {
        if (Main.help(argv, HELP)) return 0;
        Args a = new Args("synth", argv, 0, "shape", "type", "vocab", "seed", "o|output");
        SyntheticModel.Shape shape = SyntheticModel.shape(a.require("shape", "--shape NAME"));
        var type = SyntheticModel.type(a.require("type", "--type TYPE"));
        Path out = Path.of(a.require("o", "an output file: -o OUT.gguf"));
        long t0 = System.nanoTime();
        System.err.printf("writing %s %s to %s...%n", shape.name(), type.name().toLowerCase(), out);
        SyntheticModel.write(shape, type, a.has("vocab") ? Path.of(a.get("vocab", "")) : null, a.getLong("seed", 42), out);
        System.err.printf("done in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
