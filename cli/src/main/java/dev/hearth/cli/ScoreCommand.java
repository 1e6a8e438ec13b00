package dev.hearth.cli;

import dev.hearth.runtime.HearthException;

import java.util.Locale;

/**
 * {@code hearth score -m MODEL --tokens ID,ID,... [--top K]}: for each position i, the K most
 * probable next tokens after tokens[0..i] (teacher forcing), as one JSON array of arrays of
 * {"id", "p"} objects.
 */
final class ScoreCommand {
    static final String HELP = """
            usage: hearth score -m MODEL --tokens ID,ID,... [--top K] [model options]
              prints, for each position i, the K (default 3) most probable next tokens after
              tokens[0..i] with their probabilities: [[{"id":..,"p":..},...],...]; a probability
              that is not a finite number (a damaged model) is null, with a warning on stderr
              --tokens ID,ID,...     the token ids
              --top K                how many of the most probable tokens per position (default 3)
            """ + ModelOptions.HELP;

    static int run(String[] argv) {
        if (Main.help(argv, HELP)) return 0;
        Args a = new Args("score", argv, 0, ModelOptions.with("tokens", "top"));
        String list = a.require("tokens", "--tokens ID,ID,...");
        int top = a.getInt("top", 3);
        if (top < 1) throw new Args.UsageException("--top must be at least 1");
        String[] parts = list.split("[,\\s]+");
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new Args.UsageException("--tokens: '" + parts[i] + "' is not a token id");
            }
        }
        if (!a.has("c")) argv = RunCommand.concat(argv, "--ctx", Integer.toString(Math.max(ids.length, 16)));
        a = new Args("score", argv, 0, ModelOptions.with("tokens", "top"));
        try (ModelOptions.Loaded m = ModelOptions.load(a, false)) {
            int vocab = m.config().vocabSize();
            for (int id : ids) {
                if (id < 0 || id >= vocab) throw new HearthException("--tokens: id " + id + " is outside the vocabulary (0.." + (vocab - 1) + ")");
            }
            float[] logits = m.engine().eval(ids, 0, true);
            JsonNumbers nums = new JsonNumbers("score");
            StringBuilder sb = new StringBuilder("[");
            float[] probs = new float[vocab];
            for (int i = 0; i < ids.length; i++) {
                softmax(logits, i * vocab, probs, vocab);
                if (i > 0) sb.append(",\n ");
                sb.append('[');
                int[] best = topK(probs, top);
                for (int j = 0; j < best.length; j++) {
                    if (j > 0) sb.append(", ");
                    sb.append("{\"id\": ").append(best[j]).append(", \"p\": ").append(nums.num("p", "%.8g", probs[best[j]])).append('}');
                }
                sb.append(']');
            }
            System.out.println(sb.append("]"));
            nums.warn();
        }
        return 0;
    }

    static void softmax(float[] logits, int off, float[] out, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, logits[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(logits[off + i] - max);
        for (int i = 0; i < n; i++) out[i] = (float) (Math.exp(logits[off + i] - max) / sum);
    }

    static int[] topK(float[] p, int k) {
        k = Math.min(k, p.length);
        int[] best = new int[k];
        java.util.Arrays.fill(best, -1);
        for (int i = 0; i < p.length; i++) {
            int j = k - 1;
            if (best[j] != -1 && p[best[j]] >= p[i]) continue;
            while (j > 0 && (best[j - 1] == -1 || p[best[j - 1]] < p[i])) {
                best[j] = best[j - 1];
                j--;
            }
            best[j] = i;
        }
        return best;
    }
}
