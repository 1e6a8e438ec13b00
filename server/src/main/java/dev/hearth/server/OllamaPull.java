package dev.hearth.server;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.gguf.GgufFile;
import dev.hearth.runtime.json.Json;
import dev.hearth.server.http.ApiError;
import dev.hearth.server.http.EventStream;
import dev.hearth.server.http.Exchange;
import dev.hearth.server.pull.Downloader;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * POST /api/pull: downloads a GGUF file into the models folder, as {@code hearth pull} does
 * (resumable, size and SHA-256 checked where the server gives them, the GGUF header checked),
 * with Ollama's progress objects: {"status": "pulling manifest"}, {"status": "downloading
 * FILE", "digest", "total", "completed"} about every 100 ms, {"status": "success"}. The name is
 * what {@code hearth pull} takes: an http(s) URL of a .gguf file or HF_REPO/FILE
 * (owner/repo/file.gguf, from the Hugging Face endpoint the server was started with); Ollama's
 * own registry names ("llama3.2") are refused with a 400 that says so. Needs a models folder.
 * The file's name (without .gguf) is the model's name afterwards.
 */
final class OllamaPull {
    private static final long PROGRESS_NANOS = 100_000_000L;

    private final ModelPool pool;

    OllamaPull(ModelPool pool) {
        this.pool = pool;
    }

    void run(Map<String, Object> body, Exchange ex) throws IOException {
        Params p = new Params(body);
        String name = p.string("model");
        if (name == null) name = p.string("name");
        if (name == null || name.isBlank()) throw OllamaApi.bad("model is required: an http(s) URL of a GGUF file or HF_REPO/FILE (owner/repo/file.gguf)");
        p.bool("insecure");
        Boolean streamFlag = p.bool("stream");
        boolean stream = streamFlag == null || streamFlag;
        if (!pool.isFolder()) {
            throw OllamaApi.bad("pull needs a models folder: start the server with hearth serve --models DIR");
        }
        URI uri;
        try {
            uri = Downloader.resolve(name, pool.pullEndpoint(), "main");
        } catch (HearthException e) {
            throw OllamaApi.bad(e.getMessage() + "; this server pulls GGUF files by URL or HF_REPO/FILE, not from Ollama's registry");
        }
        String file;
        try {
            file = Downloader.fileName(uri);
        } catch (HearthException e) {
            throw OllamaApi.bad(e.getMessage());
        }
        if (!file.toLowerCase(java.util.Locale.ROOT).endsWith(".gguf")) throw OllamaApi.bad("'" + file + "' is not a .gguf file; only GGUF models can be pulled");
        Path target = pool.folder().resolve(file);
        Puller out = new Puller(stream ? ex.lineStream() : null);
        try {
            out.status("pulling manifest");
            if (!Files.exists(target) || problem(target) != null) {
                Downloader.Options o = Downloader.Options.defaults().withToken(pool.pullToken()).withCheck(OllamaPull::problem);
                new Downloader(o, new Downloader.Listener() {
                    private long last;

                    @Override
                    public void progress(long done, long total) {
                        long now = System.nanoTime();
                        if (now - last < PROGRESS_NANOS && done != total) return;
                        last = now;
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put("status", "downloading " + file);
                        m.put("digest", file);
                        if (total >= 0) m.put("total", total);
                        m.put("completed", done);
                        out.send(m);
                    }

                    @Override
                    public void note(String line) {
                        out.status(line);
                    }
                }).download(uri, target);
                out.status("verifying sha256 digest");
            }
        } catch (HearthException e) {
            if (!out.lines()) throw new ApiError(500, "server_error", null, null, "pull failed: " + e.getMessage());
            out.send(Map.of("error", "pull failed: " + e.getMessage()));
            return;
        }
        if (out.lines()) out.status("success");
        else ex.sendJson(200, Map.of("status", "success"));
    }

    /** Null where {@code p} is a GGUF file whose header parses, else what is wrong. */
    static String problem(Path p) {
        try (GgufFile f = GgufFile.open(p)) {
            return null;
        } catch (HearthException e) {
            return "it is not a GGUF model whose header parses (" + e.getMessage() + ")";
        }
    }

    /** Progress lines to the client while it listens; a client that went away stops getting them (the download goes on). */
    private static final class Puller {
        private final EventStream es;
        private boolean gone;

        Puller(EventStream es) {
            this.es = es;
        }

        boolean lines() {
            return es != null;
        }

        boolean streaming() {
            return es != null && !gone;
        }

        void status(String s) {
            send(Map.of("status", s));
        }

        void send(Map<String, ?> m) {
            if (!streaming()) return;
            try {
                es.send(Json.write(m));
            } catch (IOException e) {
                gone = true;
            }
        }
    }
}
