package dev.hearth.cli;

import dev.hearth.llama.tokenizer.Tokenizer;
import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.gguf.GgufFile;

import java.util.StringJoiner;

/** {@code hearth tokenize -m MODEL TEXT}: the ids as one JSON array, with BOS where the model adds it. */
final class TokenizeCommand {
    static final String HELP = """
            usage: hearth tokenize -m MODEL [--no-bos] [--no-parse-special] TEXT... | -f FILE
              prints the token ids of TEXT as one JSON array (with BOS where the model adds one)
              -m, --model FILE       the GGUF file whose tokenizer is used (a vocabulary-only file will do)
              -f, --file FILE        tokenize the text of FILE instead of the arguments
              --no-bos               no BOS token at the start
              --no-parse-special     special tokens' text (<|im_start|>, ...) stays text (default: parsed)
            """;

    static int run(String[] argv) {
        if (Main.help(argv, HELP)) return 0;
        Args a = new Args("tokenize", argv, 0, "m|model", "f|file", "no-bos!", "no-parse-special!");
        String text = a.has("f") ? Files2.readText(a.get("f", ""), "text file") : String.join(" ", a.positional());
        if (!a.has("f") && a.positional().isEmpty()) throw new Args.UsageException("needs the text to tokenize (or -f FILE)");
        try (GgufFile f = GgufFile.open(ModelOptions.modelPath(a))) {
            if (!f.has("tokenizer.ggml.model")) throw new HearthException(f.path() + ": has no tokenizer (no tokenizer.ggml.model key)");
            Tokenizer tok = Tokenizer.fromGguf(f);
            int[] ids = tok.encode(text, !a.flag("no-bos"), !a.flag("no-parse-special"));
            StringJoiner j = new StringJoiner(", ", "[", "]");
            for (int id : ids) j.add(Integer.toString(id));
            System.out.println(j);
        }
        return 0;
    }
}
