package dev.hearth.server.pull;

import dev.hearth.runtime.HearthException;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Downloads one file over HTTP(S) into {@code NAME.part} beside its final name, resuming with
 * Range requests (after a dropped connection within a run, and from a {@code .part} left by an
 * earlier run), checking the size against Content-Length, Content-Range and X-Linked-Size, and
 * the SHA-256 where one is known, then renaming it to its final name. A partial or wrong file is
 * never left under the final name.
 *
 * <p>The SHA-256 comes from, first found: the caller ({@code --sha256}); Hugging Face's
 * {@code X-Linked-Etag} (on the redirect of an LFS file, or the answer); an {@code ETag} that
 * is 64 hex digits; {@code X-Checksum-Sha256}; a {@code sha-256} entry of {@code Repr-Digest} or
 * {@code Digest}. Where none is given the size is the only check.
 */
public final class Downloader {
    /** What the downloader reports as it goes. */
    public interface Listener {
        /** Bytes in the .part file so far, of {@code total} (-1 if unknown). */
        void progress(long done, long total);

        /** A line to show (a retry, a restart, verifying). */
        void note(String line);
    }

    /** A check of the whole downloaded file before it takes its final name: null where it is good, else what is wrong. */
    public interface Check {
        String problem(Path file);
    }

    /**
     * retries: further attempts after a dropped or stalled transfer; stall: how long without bytes counts as one;
     * check: what the whole file must pass (a file that fails it is removed), or null.
     */
    public record Options(int retries, Duration retryDelay, Duration connectTimeout, Duration stall, String sha256, String token, String userAgent,
                          Check check) {
        public static Options defaults() {
            return new Options(5, Duration.ofSeconds(2), Duration.ofSeconds(20), Duration.ofSeconds(60), null, null, "hearth", null);
        }

        public Options withCheck(Check c) {
            return new Options(retries, retryDelay, connectTimeout, stall, sha256, token, userAgent, c);
        }

        public Options withRetries(int n, Duration delay) {
            return new Options(n, delay, connectTimeout, stall, sha256, token, userAgent, check);
        }

        public Options withStall(Duration s) {
            return new Options(retries, retryDelay, connectTimeout, s, sha256, token, userAgent, check);
        }

        public Options withSha256(String s) {
            return new Options(retries, retryDelay, connectTimeout, stall, s, token, userAgent, check);
        }

        public Options withToken(String t) {
            return new Options(retries, retryDelay, connectTimeout, stall, sha256, t, userAgent, check);
        }
    }

    private static final int MAX_REDIRECTS = 10;

    private final HttpClient http;
    private final Options options;
    private final Listener listener;

    public Downloader(Options options, Listener listener) {
        this.options = options;
        this.listener = listener;
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).connectTimeout(options.connectTimeout()).build();
    }

    /** What the server said about the whole file, gathered over redirects and answers. */
    private static final class Facts {
        long linkedSize = -1;
        String sha256;
        String validator; // strong ETag or Last-Modified, for If-Range
        long total = -1;
    }

    /** The part file cannot be the file: it is removed. */
    private static final class Corrupt extends HearthException {
        Corrupt(String message) {
            super(message);
        }
    }

    /** Thrown inside an attempt: worth another try (the transfer broke), or not (the server refuses). */
    private static final class Retry extends Exception {
        Retry(String message) {
            super(message);
        }
    }

    /**
     * Downloads {@code uri} to {@code target} (its folder must exist). Returns {@code target}.
     *
     * @throws HearthException with what went wrong and what to do
     */
    public Path download(URI uri, Path target) {
        Path part = target.resolveSibling(target.getFileName() + ".part");
        Facts facts = new Facts();
        boolean remove = false;
        try (FileChannel ch = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) throw new HearthException(part + " is being written by another download; wait for it to finish");
            boolean complete = false;
            String lastProblem = null;
            for (int attempt = 0; attempt <= options.retries() && !complete; attempt++) {
                if (attempt > 0) {
                    listener.note("retrying from byte " + ch.size() + " (" + lastProblem + ")");
                    sleep(options.retryDelay().multipliedBy(1L << Math.min(attempt - 1, 5)));
                }
                try {
                    complete = attempt(uri, ch, facts);
                } catch (Retry r) {
                    lastProblem = r.getMessage();
                } catch (Corrupt c) {
                    ch.truncate(0);
                    remove = true;
                    throw c;
                } catch (HearthException e) {
                    remove = ch.size() == 0; // keep what was downloaded: a later run can resume it
                    throw e;
                }
            }
            if (!complete) {
                long have = ch.size();
                throw new HearthException("the download of " + uri + " did not finish after " + (options.retries() + 1) + " attempts (" + lastProblem
                        + "); " + have + (facts.total >= 0 ? " of " + facts.total : "") + " bytes are kept in " + part + ": run the same command again to resume");
            }
            long size = ch.size();
            if (facts.total >= 0 && size != facts.total) throw fail(ch, part, "the file is " + size + " bytes, but the server said " + facts.total);
            if (facts.linkedSize >= 0 && size != facts.linkedSize) throw fail(ch, part, "the file is " + size + " bytes, but X-Linked-Size says " + facts.linkedSize);
            String expected = options.sha256() != null ? options.sha256().toLowerCase(Locale.ROOT) : facts.sha256;
            if (expected != null) {
                listener.note("checking sha256");
                String got = sha256(ch);
                if (!got.equals(expected)) {
                    throw fail(ch, part, "sha256 mismatch: expected " + expected + ", got " + got + " (the download was removed; run again to fetch it anew)");
                }
            }
            ch.force(true);
            if (options.check() != null) {
                String problem = options.check().problem(part);
                if (problem != null) throw fail(ch, part, uri + ": " + problem + "; the download was removed");
            }
            lock.release();
        } catch (IOException e) {
            throw new HearthException("cannot write " + part + ": " + reason(e));
        } finally {
            if (remove) {
                try {
                    Files.deleteIfExists(part);
                } catch (IOException ignored) {
                    // left behind; the next run truncates it
                }
            }
        }
        try {
            try {
                Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new HearthException("cannot rename " + part + " to " + target + ": " + reason(e));
        }
        return target;
    }

    /**
     * What went wrong in a file operation, in words: the JDK's file exceptions carry only the path
     * as their message, the reason is in their type.
     */
    public static String reason(IOException e) {
        String r = switch (e) {
            case java.nio.file.AccessDeniedException x -> "permission denied";
            case java.nio.file.NoSuchFileException x -> "no such file or folder";
            case java.nio.file.FileAlreadyExistsException x -> "a file of that name is in the way";
            case java.nio.file.NotDirectoryException x -> "not a folder";
            case java.nio.file.DirectoryNotEmptyException x -> "the folder is not empty";
            case java.nio.file.FileSystemException x when x.getReason() != null -> x.getReason();
            default -> e.getMessage() == null ? e.toString() : e.getMessage();
        };
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null && !r.equals(f.getReason())) r += " (" + f.getReason() + ")";
        return r;
    }

    /** Truncates and removes the part file, then gives the error to throw. */
    private static HearthException fail(FileChannel ch, Path part, String message) throws IOException {
        ch.truncate(0);
        Files.deleteIfExists(part);
        return new HearthException(message);
    }

    /** One request (following redirects) and its body into the part file; true when the file is whole. */
    private boolean attempt(URI uri, FileChannel ch, Facts facts) throws IOException, Retry {
        long offset = ch.size();
        if (facts.total >= 0 && offset > facts.total) {
            listener.note("the partial file is longer than the file; starting over");
            ch.truncate(0);
            offset = 0;
        }
        HttpResponse<InputStream> res = send(uri, offset, facts);
        try (InputStream body = res.body()) {
            int status = res.statusCode();
            HttpHeaders h = res.headers();
            learn(h, facts, status);
            long start;
            if (status == 416) {
                long total = rangeTotal(h.firstValue("content-range").orElse(""));
                if (total >= 0) setTotal(facts, total);
                if (total >= 0 && offset == total) return true; // the part file already holds everything
                listener.note("the server refused to resume; starting over");
                ch.truncate(0);
                throw new Retry("HTTP 416");
            } else if (status == 206) {
                String cr = h.firstValue("content-range").orElse("");
                long[] r = parseContentRange(cr);
                if (r == null || r[0] != offset) {
                    listener.note("the server resumed at the wrong place (" + cr + "); starting over");
                    ch.truncate(0);
                    throw new Retry("bad Content-Range '" + cr + "'");
                }
                start = offset;
                if (r[2] >= 0) setTotal(facts, r[2]);
            } else if (status == 200) {
                if (offset > 0) listener.note("the server cannot resume; starting over");
                ch.truncate(0);
                start = 0;
                long len = h.firstValueAsLong("content-length").orElse(-1);
                if (len >= 0) setTotal(facts, len);
            } else if (status == 401 || status == 403) {
                throw new HearthException("HTTP " + status + " for " + uri + ": access denied; the file may be private or gated"
                        + (options.token() == null ? " (set HF_TOKEN to a token that may read it)" : " (check that HF_TOKEN may read it)"));
            } else if (status == 404) {
                throw new HearthException("HTTP 404 for " + uri + ": not found; check the address (or repository and file name)");
            } else if (status >= 500 || status == 429 || status == 408) {
                throw new Retry("HTTP " + status);
            } else {
                throw new HearthException("HTTP " + status + " for " + uri);
            }
            if (facts.linkedSize >= 0 && facts.total >= 0 && facts.linkedSize != facts.total) {
                throw new Corrupt("the server's sizes disagree: X-Linked-Size says " + facts.linkedSize + " bytes, the answer " + facts.total
                        + "; the file is not what the repository lists, so it was not downloaded");
            }
            copy(body, ch, start, facts.total);
        } catch (IOException e) {
            throw new Retry(e.getMessage() == null ? e.toString() : e.getMessage());
        }
        long size = ch.size();
        if (facts.total < 0) return true; // no length given: the end of the body is the end of the file
        if (size < facts.total) throw new Retry("the connection closed at byte " + size + " of " + facts.total);
        return true;
    }

    private static void setTotal(Facts facts, long total) {
        if (facts.total >= 0 && facts.total != total) {
            throw new Corrupt("the server's size for the file changed between requests (" + facts.total + ", then " + total + " bytes)");
        }
        facts.total = total;
    }

    private HttpResponse<InputStream> send(URI uri, long offset, Facts facts) throws Retry {
        URI at = uri;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(at).timeout(options.stall()).header("User-Agent", options.userAgent())
                    .header("Accept-Encoding", "identity");
            if (options.token() != null && sameHost(at, uri)) b.header("Authorization", "Bearer " + options.token());
            if (offset > 0) {
                b.header("Range", "bytes=" + offset + "-");
                if (facts.validator != null) b.header("If-Range", facts.validator);
            }
            HttpResponse<InputStream> res;
            try {
                res = http.send(b.GET().build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (IOException e) {
                throw new Retry(e.getMessage() == null ? e.toString() : e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HearthException("the download was interrupted");
            }
            int s = res.statusCode();
            if (s == 301 || s == 302 || s == 303 || s == 307 || s == 308) {
                learn(res.headers(), facts, s);
                Optional<String> loc = res.headers().firstValue("location");
                try {
                    res.body().close();
                } catch (IOException ignored) {
                    // only the redirect's body
                }
                if (loc.isEmpty()) throw new HearthException("HTTP " + s + " without a Location from " + at);
                at = at.resolve(loc.get());
                continue;
            }
            return res;
        }
        throw new HearthException("more than " + MAX_REDIRECTS + " redirects from " + uri);
    }

    private static boolean sameHost(URI a, URI b) {
        return a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost()) && a.getPort() == b.getPort();
    }

    /** Size, checksum and validator from a response's headers (redirects included). */
    private static void learn(HttpHeaders h, Facts facts, int status) {
        h.firstValue("x-linked-size").ifPresent(v -> {
            try {
                facts.linkedSize = Long.parseLong(v.trim());
            } catch (NumberFormatException ignored) {
                // not a size
            }
        });
        if (facts.sha256 == null) facts.sha256 = h.firstValue("x-linked-etag").map(Downloader::hex64).orElse(null);
        if (status != 200 && status != 206) return;
        Optional<String> etag = h.firstValue("etag").filter(v -> !v.startsWith("W/"));
        if (facts.sha256 == null) {
            facts.sha256 = etag.map(Downloader::hex64)
                    .or(() -> h.firstValue("x-checksum-sha256").map(Downloader::hex64))
                    .or(() -> h.firstValue("repr-digest").map(Downloader::digestHeader))
                    .or(() -> h.firstValue("digest").map(Downloader::digestHeader))
                    .orElse(null);
        }
        if (facts.validator == null) facts.validator = etag.or(() -> h.firstValue("last-modified")).orElse(null);
    }

    /** The value as lower-case hex if it is 64 hex digits (quotes allowed), else null. */
    static String hex64(String v) {
        String s = v.trim();
        if (s.startsWith("\"") && s.endsWith("\"") && s.length() >= 2) s = s.substring(1, s.length() - 1);
        return s.length() == 64 && s.chars().allMatch(c -> Character.digit(c, 16) >= 0) ? s.toLowerCase(Locale.ROOT) : null;
    }

    /** The sha-256 of a Repr-Digest ("sha-256=:BASE64:") or Digest ("SHA-256=BASE64") header, as hex. */
    static String digestHeader(String v) {
        for (String part : v.split(",")) {
            int eq = part.indexOf('=');
            if (eq < 0 || !part.substring(0, eq).trim().equalsIgnoreCase("sha-256")) continue;
            String b64 = part.substring(eq + 1).trim();
            if (b64.startsWith(":") && b64.endsWith(":") && b64.length() >= 2) b64 = b64.substring(1, b64.length() - 1);
            try {
                byte[] d = java.util.Base64.getDecoder().decode(b64);
                if (d.length == 32) return HexFormat.of().formatHex(d);
            } catch (IllegalArgumentException ignored) {
                // not base64
            }
        }
        return null;
    }

    /** "bytes a-b/total" as {a, b, total} (total -1 for '*'); null if malformed. */
    static long[] parseContentRange(String v) {
        try {
            String s = v.trim();
            if (!s.regionMatches(true, 0, "bytes ", 0, 6)) return null;
            s = s.substring(6).trim();
            int dash = s.indexOf('-');
            int slash = s.indexOf('/');
            if (dash < 0 || slash < dash) return null;
            long a = Long.parseLong(s.substring(0, dash).trim());
            long b = Long.parseLong(s.substring(dash + 1, slash).trim());
            String t = s.substring(slash + 1).trim();
            long total = t.equals("*") ? -1 : Long.parseLong(t);
            if (a < 0 || b < a || (total >= 0 && b >= total)) return null;
            return new long[] {a, b, total};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The total of "bytes *\/total", or -1. */
    private static long rangeTotal(String v) {
        int slash = v.indexOf('/');
        if (slash < 0) return -1;
        try {
            return Long.parseLong(v.substring(slash + 1).trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Copies the body to the file from {@code start}; a stall longer than the limit closes the body. */
    private void copy(InputStream body, FileChannel ch, long start, long total) throws IOException {
        AtomicLong lastByte = new AtomicLong(System.nanoTime());
        ScheduledExecutorService watch = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "hearth-pull-stall");
            t.setDaemon(true);
            return t;
        });
        long stall = options.stall().toNanos();
        boolean[] stalled = {false};
        watch.scheduleAtFixedRate(() -> {
            if (System.nanoTime() - lastByte.get() > stall) {
                stalled[0] = true;
                try {
                    body.close();
                } catch (IOException ignored) {
                    // closing to end the read
                }
            }
        }, 200, 200, TimeUnit.MILLISECONDS);
        try {
            byte[] buf = new byte[1 << 20];
            long pos = start;
            long lastReport = 0;
            while (true) {
                int n;
                try {
                    n = body.read(buf);
                } catch (IOException e) {
                    if (stalled[0]) throw new IOException("no data for " + options.stall().toSeconds() + " s");
                    throw e;
                }
                if (n < 0) break;
                lastByte.set(System.nanoTime());
                if (total >= 0 && pos + n > total) throw new Corrupt("the server sent more than the " + total + " bytes it announced");
                ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                while (bb.hasRemaining()) pos += ch.write(bb, pos);
                long now = System.nanoTime();
                if (now - lastReport > 100_000_000L) {
                    lastReport = now;
                    listener.progress(pos, total);
                }
            }
            listener.progress(pos, total);
        } finally {
            watch.shutdownNow();
        }
    }

    private String sha256(FileChannel ch) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
        long pos = 0;
        long size = ch.size();
        while (pos < size) {
            buf.clear();
            int n = ch.read(buf, pos);
            if (n < 0) break;
            buf.flip();
            md.update(buf);
            pos += n;
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HearthException("the download was interrupted");
        }
    }

    /**
     * The address of {@code spec}: an http(s) URL as it is, or HF_REPO/FILE ("owner/repo/path/file.gguf")
     * as {@code ENDPOINT/owner/repo/resolve/REVISION/path/file.gguf}.
     */
    public static URI resolve(String spec, String endpoint, String revision) {
        java.util.regex.Matcher scheme = java.util.regex.Pattern.compile("^([A-Za-z][A-Za-z0-9+.-]*):").matcher(spec);
        if (scheme.find() && !scheme.group(1).equalsIgnoreCase("hf")
                && !spec.regionMatches(true, 0, "http://", 0, 7) && !spec.regionMatches(true, 0, "https://", 0, 8)) {
            throw new HearthException("'" + spec + "': only http and https URLs (or HF_REPO/FILE) can be pulled, not " + scheme.group(1) + ":");
        }
        if (spec.regionMatches(true, 0, "http://", 0, 7) || spec.regionMatches(true, 0, "https://", 0, 8)) {
            try {
                return URI.create(spec);
            } catch (IllegalArgumentException e) {
                throw new HearthException("not a valid URL: " + spec);
            }
        }
        String s = spec.startsWith("hf://") ? spec.substring(5) : spec;
        String[] parts = s.split("/");
        if (parts.length < 3) throw new HearthException("'" + spec + "' is neither an http(s) URL nor HF_REPO/FILE (owner/repo/file.gguf)");
        for (String p : parts) {
            if (p.isEmpty() || p.equals(".") || p.equals("..")) throw new HearthException("'" + spec + "': empty, '.' or '..' path parts are not allowed");
        }
        String base = endpoint.endsWith("/") ? endpoint.substring(0, endpoint.length() - 1) : endpoint;
        URI e = URI.create(base);
        String path = (e.getPath() == null ? "" : e.getPath()) + "/" + parts[0] + "/" + parts[1] + "/resolve/" + revision + "/"
                + String.join("/", java.util.Arrays.copyOfRange(parts, 2, parts.length));
        try {
            return new URI(e.getScheme(), e.getRawAuthority() == null ? null : e.getAuthority(), path, null, null);
        } catch (java.net.URISyntaxException x) {
            throw new HearthException("cannot make a URL of '" + spec + "': " + x.getMessage());
        }
    }

    /** The file name a download of {@code uri} gets: the last part of its path. */
    public static String fileName(URI uri) {
        String p = uri.getPath();
        if (p == null) p = "";
        String name = p.substring(p.lastIndexOf('/') + 1);
        if (name.isEmpty() || name.equals(".") || name.equals("..")) {
            throw new HearthException(uri + " does not end in a file name");
        }
        return name;
    }
}
