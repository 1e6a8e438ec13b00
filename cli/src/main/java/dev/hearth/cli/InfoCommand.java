package dev.hearth.cli;

import dev.hearth.runtime.gguf.GgufFile;
import dev.hearth.runtime.gguf.GgufInfo;

import java.nio.file.Path;

/** {@code hearth info MODEL.gguf}: version, metadata, tensor table and totals by type. */
final class InfoCommand {
    static final String HELP = """
            usage: hearth info MODEL.gguf   (or -m MODEL.gguf)
              prints the GGUF version, the metadata (long arrays summarised), every tensor
              (name, type, shape, bytes) and totals by type
            """;

    static int run(String[] argv) {
        if (Main.help(argv, HELP)) return 0;
        Args a = new Args("info", argv, 0, "m|model");
        String file = a.has("m") ? a.get("m", null) : a.positional().isEmpty() ? null : a.positional().getFirst();
        if (file == null) throw new Args.UsageException("needs a GGUF file: hearth info MODEL.gguf");
        if (a.positional().size() > (a.has("m") ? 0 : 1)) throw new Args.UsageException("takes one file");
        try (GgufFile f = GgufFile.open(Path.of(file))) {
            GgufInfo.print(f, System.out);
        }
        return 0;
    }
}
