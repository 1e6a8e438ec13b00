package dev.hearth.cli;

import dev.hearth.runtime.HearthException;

import java.util.Arrays;

/**
 * {@code hearth perplexity -m MODEL -f TEXT}: as llama-perplexity computes it. The text is cut
 * into chunks of the context length; each chunk starts with BOS where the model adds one, and
 * only the second half of each chunk is scored (each token predicted with at least half a
 * context before it). Prints the running estimate per chunk and the final value.
 */
final class PerplexityCommand {
    static final String HELP = """
            usage: hearth perplexity -m MODEL -f TEXT_FILE [--ctx N (default 512)] [--chunks N] [model options]
              -f, --file FILE        the text whose perplexity is computed
              --chunks N             only the first N chunks of ctx tokens (default: all)
            """ + ModelOptions.HELP;

    static int run(String[] argv) {
        if (Main.help(argv, HELP)) return 0;
        Args a = new Args("perplexity", argv, 0, ModelOptions.with("f|file", "chunks"));
        String text = Files2.readText(a.require("f", "a text file: -f FILE"), "text file");
        if (!a.has("c")) argv = RunCommand.concat(argv, "--ctx", "512");
        a = new Args("perplexity", argv, 0, ModelOptions.with("f|file", "chunks"));
        int ctx = a.getInt("c", 512);
        try (ModelOptions.Loaded m = ModelOptions.load(a, true)) {
            int[] tokens = m.tokenizer().encode(text, true, false);
            if (tokens.length < 2 * ctx) {
                throw new HearthException("the text is " + tokens.length + " tokens; perplexity with a context of " + ctx
                        + " needs at least " + 2 * ctx + " (give a longer text or a smaller --ctx)");
            }
            int chunks = tokens.length / ctx;
            if (a.has("chunks")) chunks = Math.min(chunks, a.getInt("chunks", chunks));
            int vocab = m.config().vocabSize();
            boolean bos = m.tokenizer().addsBos();
            double nll = 0;
            long count = 0;
            int first = ctx / 2;
            System.err.printf("perplexity: %d tokens, %d chunks of %d%n", tokens.length, chunks, ctx);
            for (int c = 0; c < chunks; c++) {
                int[] chunk = Arrays.copyOfRange(tokens, c * ctx, (c + 1) * ctx);
                if (bos) chunk[0] = m.tokenizer().bos();
                float[] logits = m.engine().eval(chunk, 0, true);
                for (int j = first; j < ctx - 1; j++) {
                    int off = j * vocab;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int i = 0; i < vocab; i++) max = Math.max(max, logits[off + i]);
                    double sum = 0;
                    for (int i = 0; i < vocab; i++) sum += Math.exp(logits[off + i] - max);
                    int target = tokens[c * ctx + j + 1];
                    nll += -(logits[off + target] - max - Math.log(sum));
                    count++;
                }
                System.err.printf("[%d]%.4f ", c + 1, Math.exp(nll / count));
            }
            System.err.println();
            System.out.printf(java.util.Locale.ROOT, "%.4f%n", Math.exp(nll / count));
        }
        return 0;
    }
}
