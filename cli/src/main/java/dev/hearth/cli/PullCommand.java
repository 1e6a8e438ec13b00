package dev.hearth.cli;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.gguf.GgufFile;
import dev.hearth.server.pull.Downloader;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;

/** {@code hearth pull}: downloads a GGUF file, resumable and checked. */
final class PullCommand {
    static final String HELP = """
            usage: hearth pull URL|HF_REPO/FILE [-o DIR] [options]
              URL                    an http or https address of a GGUF file
              HF_REPO/FILE           a file in a Hugging Face repository, e.g. owner/repo/model-Q4_0.gguf,
                                     fetched from $HF_ENDPOINT/owner/repo/resolve/REVISION/FILE
                                     (HF_ENDPOINT defaults to https://huggingface.co; HF_TOKEN, if set,
                                     is sent to it for private or gated repositories)
              -o, --output DIR       folder to save into (default: the current folder; made if missing)
              --revision REV         branch, tag or commit of the repository (default main)
              --sha256 HEX           the file's expected SHA-256
              --retries N            attempts after a dropped or stalled transfer (default 5)
              --force                download again even if the file is already there
            The file is written to FILE.part and renamed only once it is whole and checked, so a partial
            file never has the final name; run the same command again to resume an interrupted download.
            Checks: the size against Content-Length, Content-Range and X-Linked-Size; the SHA-256 against
            --sha256, else Hugging Face's X-Linked-Etag, an ETag of 64 hex digits, X-Checksum-Sha256, or a
            sha-256 Repr-Digest or Digest header, where the server gives one; and that the file begins with
            the GGUF magic and its header parses (a download that is not a GGUF model is removed). Progress
            goes to stderr; the path of the file to stdout.
            """;

    static int run(String[] argv) {
        if (Main.help(argv, HELP)) return 0;
        return pull(argv, System.getenv(), System.out, System.err);
    }

    static int pull(String[] argv, Map<String, String> env, PrintStream out, PrintStream err) {
        Args a = new Args("pull", argv, 0, "o|output", "revision", "sha256", "retries", "force!");
        if (a.positional().size() != 1) throw new Args.UsageException(a.positional().isEmpty() ? "needs a URL or HF_REPO/FILE to download"
                : "takes one URL or HF_REPO/FILE, not " + a.positional().size());
        String spec = a.positional().getFirst();
        String endpoint = env.getOrDefault("HF_ENDPOINT", "https://huggingface.co");
        String revision = a.get("revision", "main");
        if (revision.isEmpty() || revision.contains("..")) throw new Args.UsageException("--revision: not a revision: '" + revision + "'");
        int retries = a.getInt("retries", 5);
        if (retries < 0 || retries > 100) throw new Args.UsageException("--retries must be between 0 and 100, not " + retries);
        String sha = a.get("sha256", null);
        if (sha != null && !sha.matches("[0-9a-fA-F]{64}")) throw new Args.UsageException("--sha256 takes 64 hex digits");
        URI uri = Downloader.resolve(spec, endpoint, revision);
        boolean hub = !(spec.startsWith("http://") || spec.startsWith("https://"));
        String token = hub ? env.getOrDefault("HF_TOKEN", env.get("HUGGING_FACE_HUB_TOKEN")) : null;
        Path dir = Path.of(a.get("o", "."));
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new HearthException("-o " + dir + " is not a folder; give the folder to save the file into");
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new HearthException("cannot make the folder " + dir + ": " + Downloader.reason(e));
        }
        Path target = dir.resolve(Downloader.fileName(uri));
        if (Files.exists(target) && !a.flag("force")) {
            String problem = ggufProblem(target);
            if (problem == null) {
                err.println("hearth pull: " + target + " is already there (--force downloads it again)");
                out.println(target);
                return 0;
            }
            err.println("hearth pull: " + target + " is there but " + problem + "; downloading it again");
        }
        err.println("hearth pull: " + uri + " -> " + target);
        Downloader.Options o = Downloader.Options.defaults().withRetries(retries, Duration.ofSeconds(2)).withSha256(sha).withToken(token)
                .withCheck(PullCommand::ggufProblem);
        Bar bar = new Bar(err, target.getFileName().toString(), err == System.err && Terminal.stderr());
        Path p;
        try {
            p = new Downloader(o, bar).download(uri, target);
        } finally {
            bar.end();
        }
        out.println(p);
        return 0;
    }

    /**
     * Null where {@code p} is a GGUF file whose header parses, else what is wrong: a server that
     * answers with an HTML page (a login or error page) must not leave it under a model's name.
     */
    static String ggufProblem(Path p) {
        byte[] head;
        try (InputStream in = Files.newInputStream(p)) {
            head = in.readNBytes(16);
        } catch (IOException e) {
            return "it cannot be read (" + Downloader.reason(e) + ")";
        }
        if (!Arrays.equals(Arrays.copyOf(head, 4), new byte[] {'G', 'G', 'U', 'F'})) {
            String text = new String(head, java.nio.charset.StandardCharsets.ISO_8859_1).strip().toLowerCase(java.util.Locale.ROOT);
            return "it does not begin with the GGUF magic, so it is not a GGUF model"
                    + (text.startsWith("<") ? " (the server sent an HTML or XML page)" : "");
        }
        try (GgufFile f = GgufFile.open(p)) {
            return null;
        } catch (HearthException e) {
            String m = e.getMessage();
            if (m != null && m.startsWith(p + ": ")) m = m.substring(p.toString().length() + 2);
            return "its GGUF header does not parse (" + m + ")";
        }
    }

    static boolean startsWithGgufMagic(Path p) {
        try (InputStream in = Files.newInputStream(p)) {
            return Arrays.equals(in.readNBytes(4), new byte[] {'G', 'G', 'U', 'F'});
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Progress on stderr: percent, MiB, speed, time left. On a terminal one line rewritten in place;
     * elsewhere a line at the start, at each quarter and at the end.
     */
    static final class Bar implements Downloader.Listener {
        private final PrintStream err;
        private final String name;
        private final boolean terminal;
        private final long start = System.nanoTime();
        private long firstDone = -1;
        private boolean open;
        private int lastQuarter = -1;
        private String pending; // the latest line not yet printed (not a terminal)

        Bar(PrintStream err, String name, boolean terminal) {
            this.err = err;
            this.name = name;
            this.terminal = terminal;
        }

        @Override
        public void progress(long done, long total) {
            if (firstDone < 0) firstDone = done;
            double secs = Math.max(1e-3, (System.nanoTime() - start) / 1e9);
            double rate = (done - firstDone) / secs;
            StringBuilder sb = new StringBuilder(terminal ? "\r" : "").append(name).append(' ');
            if (total > 0) {
                sb.append(String.format("%3d%% %.1f/%.1f MiB", done * 100 / total, done / 1048576.0, total / 1048576.0));
                if (rate > 0 && done < total) sb.append(String.format(" %.1f MiB/s, %ds left", rate / 1048576.0, (long) ((total - done) / rate)));
            } else {
                sb.append(String.format("%.1f MiB", done / 1048576.0));
            }
            if (rate > 0 && (total <= 0 || done >= total)) sb.append(String.format(" %.1f MiB/s", rate / 1048576.0));
            if (!terminal) {
                int quarter = total > 0 ? (int) Math.min(4, done * 4 / total) : 0;
                if (quarter != lastQuarter) {
                    lastQuarter = quarter;
                    err.println(sb);
                    pending = null;
                } else {
                    pending = sb.toString();
                }
                return;
            }
            err.print(sb.append("   "));
            err.flush();
            open = true;
        }

        /** Ends the progress line. */
        void end() {
            if (pending != null) err.println(pending);
            pending = null;
            if (open) err.println();
            open = false;
        }

        @Override
        public void note(String line) {
            if (open) err.println();
            open = false;
            err.println("hearth pull: " + line);
        }
    }
}
