package dev.hearth.cli;

import dev.hearth.llama.Session;
import dev.hearth.llama.sampling.Sampler;
import dev.hearth.llama.sampling.SamplerParams;
import dev.hearth.llama.tokenizer.Utf8Streamer;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;

/** {@code hearth run}: streams the generated text, and only it, to stdout; timings to stderr. */
final class RunCommand {
    /** The help of {@link #samplingSpec}. */
    static final String SAMPLING_HELP = """
            sampling options:
              --temp T               temperature (0: greedy; default 0.8)
              --top-k K, --top-p P, --min-p P   sampling cut-offs (defaults 40, 0.95, 0.05)
              --repeat-penalty R, --repeat-last-n N, --frequency-penalty F, --presence-penalty P
              --seed S               random seed (default: random)
            """;

    static final String HELP = """
            usage: hearth run -m MODEL -p PROMPT [options]
              -p, --prompt TEXT      the prompt (or -f FILE)
              -f, --file FILE        read the prompt from a file
              -n, --n-predict N      tokens to generate (-1: until the end of text or a full context; default -1)
              --no-display-prompt    (accepted; the prompt is never echoed)
            the placement (which device holds which layers) is printed to stderr at start
            """ + SAMPLING_HELP + ModelOptions.HELP;

    static String[] samplingSpec() {
        return new String[] {"temp|temperature", "top-k", "top-p", "min-p", "repeat-penalty", "repeat-last-n",
                "frequency-penalty", "presence-penalty", "seed|s"};
    }

    static SamplerParams sampling(Args a) {
        SamplerParams d = SamplerParams.DEFAULTS;
        float temp = a.getFloat("temp", d.temperature());
        int topK = a.getInt("top-k", d.topK());
        float topP = a.getFloat("top-p", d.topP());
        float minP = a.getFloat("min-p", d.minP());
        if (topP <= 0 || topP > 1) throw new Args.UsageException("--top-p must be in (0, 1], not " + topP);
        if (minP < 0 || minP > 1) throw new Args.UsageException("--min-p must be in [0, 1], not " + minP);
        if (temp < 0) throw new Args.UsageException("--temp must not be negative");
        return new SamplerParams(temp, topK, topP, minP, a.getFloat("repeat-penalty", d.repeatPenalty()),
                a.getFloat("frequency-penalty", d.frequencyPenalty()), a.getFloat("presence-penalty", d.presencePenalty()),
                a.getInt("repeat-last-n", d.penaltyLastN()), a.getLong("seed", -1));
    }

    static int run(String[] argv) throws Exception {
        if (Main.help(argv, HELP)) return 0;
        String[] spec = ModelOptions.with(concat(samplingSpec(), "p|prompt", "f|file", "n|n-predict|predict", "no-display-prompt!"));
        Args a = new Args("run", argv, 0, spec);
        if (!a.positional().isEmpty()) throw new Args.UsageException("unexpected argument '" + a.positional().getFirst() + "' (the prompt goes after -p)");
        String prompt;
        if (a.has("p")) prompt = a.get("p", "");
        else if (a.has("f")) prompt = Files2.readText(a.get("f", ""), "prompt file");
        else throw new Args.UsageException("needs a prompt: -p TEXT or -f FILE");
        int n = a.getInt("n", -1);
        if (n == 0 || n < -1) throw new Args.UsageException("-n must be at least 1, or -1 for no limit (got " + n + ")");
        SamplerParams sp = sampling(a);
        try (ModelOptions.Loaded m = ModelOptions.load(a, true)) {
            int[] ids = m.tokenizer().encode(prompt, true, true);
            Session s = new Session(m.engine());
            PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false);
            Utf8Streamer utf8 = new Utf8Streamer();
            Session.Stats st = s.generate(ids, n, new Sampler(sp), t -> m.tokenizer().endOfGeneration().contains(t), t -> {
                String text = utf8.accept(m.tokenizer().tokenBytes(t));
                if (!text.isEmpty()) {
                    out.print(text);
                    out.flush();
                }
                return true;
            });
            out.print(utf8.flush());
            out.println();
            out.flush();
            System.err.printf("%nprompt: %d tokens, %.2f tokens/s | generation: %d tokens, %.2f tokens/s | stop: %s%n",
                    st.promptTokens(), st.promptTokensPerSecond(), st.generatedTokens(), st.generationTokensPerSecond(), st.stopReason());
            return 0;
        }
    }

    static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
