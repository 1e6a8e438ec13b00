package dev.hearth.server;

import dev.hearth.llama.ModelConfig;
import dev.hearth.llama.Engine;
import dev.hearth.llama.ModelWeights;
import dev.hearth.llama.Placement;
import dev.hearth.llama.sampling.SamplerParams;
import dev.hearth.llama.tokenizer.Tokenizer;
import dev.hearth.runtime.backend.Backends;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.gguf.GgufFile;
import dev.hearth.server.http.Limits;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** stories260K served on the reference device: the test server, with N slots. */
final class TestModel implements AutoCloseable {
    final GgufFile file;
    final Tokenizer tokenizer;
    final List<Engine> engines = new ArrayList<>();
    final HearthServer server;

    /** The repository's test data folder (system property hearth.testdata); fails where it is absent. */
    static Path models() {
        Path p = Path.of(System.getProperty("hearth.testdata", "../testdata"));
        if (!Files.isDirectory(p)) {
            throw new AssertionError("test data folder " + p.toAbsolutePath() + " not found (set -Dhearth.testdata=DIR)");
        }
        return p;
    }

    static Path stories() {
        Path p = models().resolve("stories260K-f32.gguf");
        if (!Files.isRegularFile(p)) throw new AssertionError("test data file " + p.toAbsolutePath() + " is missing");
        return p;
    }

    TestModel(Path gguf, int slots, int ctx, ServerOptions options) throws IOException {
        file = GgufFile.open(gguf);
        try {
            ModelConfig c = ModelConfig.fromGguf(file);
            ModelWeights w = new ModelWeights(file, c);
            Device ref = Backends.provider("reference").devices().getFirst();
            for (int i = 0; i < slots; i++) {
                engines.add(new Engine(w, Placement.single(ref, c.layers(), List.of(ref)), ctx, 64, DType.F32, null));
            }
            tokenizer = Tokenizer.fromGguf(file);
            ServedModel m = new ServedModel("stories260K", engines, tokenizer, file.getString("tokenizer.chat_template", null));
            server = HearthServer.start(options.withPort(0), m);
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    static ServerOptions options() {
        return ServerOptions.defaults().withSampling(SamplerParams.DEFAULTS).withLimits(Limits.DEFAULTS);
    }

    String base() {
        return "http://127.0.0.1:" + server.port();
    }

    @Override
    public void close() {
        if (server != null) server.close();
        for (Engine e : engines) e.close();
        file.close();
    }
}
