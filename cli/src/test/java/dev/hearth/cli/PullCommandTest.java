package dev.hearth.cli;

import com.sun.net.httpserver.HttpServer;
import dev.hearth.runtime.HearthException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code hearth pull} against a loopback server laid out like the Hugging Face hub
 * (HF_ENDPOINT points at it): a real GGUF file, fetched whole, then again across a dropped
 * connection; the file loads afterwards.
 */
class PullCommandTest {
    @TempDir
    Path dir;

    /** Serves {@code data} at /owner/repo/resolve/main/stories.gguf; the first {@code drops} answers stop half-way. */
    static HttpServer hub(byte[] data, AtomicInteger drops, List<String> ranges) throws Exception {
        HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
        s.createContext("/owner/repo/resolve/main/stories.gguf", ex -> {
            String range = ex.getRequestHeaders().getFirst("Range");
            ranges.add(range == null ? "" : range);
            int from = range == null ? 0 : Integer.parseInt(range.replaceAll("bytes=(\\d+)-", "$1"));
            if (range != null) ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (data.length - 1) + "/" + data.length);
            ex.getResponseHeaders().add("X-Linked-Size", Integer.toString(data.length));
            ex.sendResponseHeaders(range == null ? 200 : 206, data.length - from);
            OutputStream out = ex.getResponseBody();
            if (drops.getAndDecrement() > 0) {
                out.write(data, from, (data.length - from) / 2);
                out.flush();
                throw new IllegalStateException("dropping the connection on purpose");
            }
            out.write(data, from, data.length - from);
            ex.close();
        });
        s.start();
        return s;
    }

    @Test
    void pullsFromTheHubEndpointAndResumes() throws Exception {
        byte[] data = Files.readAllBytes(StoriesTest.models().resolve("stories260K-q4_0.gguf"));
        AtomicInteger drops = new AtomicInteger(0);
        List<String> ranges = new CopyOnWriteArrayList<>();
        HttpServer s = hub(data, drops, ranges);
        try {
            Map<String, String> env = Map.of("HF_ENDPOINT", "http://127.0.0.1:" + s.getAddress().getPort());
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            Path into = dir.resolve("models");
            assertEquals(0, PullCommand.pull(new String[] {"owner/repo/stories.gguf", "-o", into.toString()}, env,
                    new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8)));
            Path got = into.resolve("stories.gguf");
            assertEquals(got.toString(), out.toString(StandardCharsets.UTF_8).strip());
            assertArrayEquals(data, Files.readAllBytes(got));
            assertTrue(err.toString(StandardCharsets.UTF_8).contains("100%"), "progress on stderr: " + err);
            assertTrue(PullCommand.startsWithGgufMagic(got));

            // already there: no second download
            int before = ranges.size();
            PullCommand.pull(new String[] {"owner/repo/stories.gguf", "-o", into.toString()}, env, new PrintStream(new ByteArrayOutputStream()),
                    new PrintStream(new ByteArrayOutputStream()));
            assertEquals(before, ranges.size());

            // again with --force, across a dropped connection: resumed with a Range request
            drops.set(1);
            ByteArrayOutputStream err2 = new ByteArrayOutputStream();
            PullCommand.pull(new String[] {"owner/repo/stories.gguf", "-o", into.toString(), "--force"}, env,
                    new PrintStream(new ByteArrayOutputStream()), new PrintStream(err2, true, StandardCharsets.UTF_8));
            assertArrayEquals(data, Files.readAllBytes(got));
            assertTrue(ranges.getLast().startsWith("bytes="), "resumed: " + ranges);
            assertTrue(err2.toString(StandardCharsets.UTF_8).contains("retrying from byte"), err2.toString());
            assertFalse(Files.exists(into.resolve("stories.gguf.part")));
            try (var f = dev.hearth.runtime.gguf.GgufFile.open(got)) {
                assertEquals("llama", f.getString("general.architecture", null));
            }
        } finally {
            s.stop(0);
        }
    }

    @Test
    void badArguments() {
        Map<String, String> env = Map.of();
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        assertThrows(Args.UsageException.class, () -> PullCommand.pull(new String[] {}, env, quiet, quiet));
        assertThrows(Args.UsageException.class, () -> PullCommand.pull(new String[] {"a/b/c.gguf", "--sha256", "xyz"}, env, quiet, quiet));
        assertThrows(HearthException.class, () -> PullCommand.pull(new String[] {"justafile.gguf", "-o", dir.toString()}, env, quiet, quiet));
    }

    /** Serves {@code data} with 200 at /owner/repo/resolve/main/NAME for every NAME. */
    static HttpServer serving(byte[] data) throws Exception {
        HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
        s.createContext("/owner/repo/resolve/main/", ex -> {
            ex.getResponseHeaders().add("Content-Type", "text/html");
            ex.sendResponseHeaders(200, data.length);
            ex.getResponseBody().write(data);
            ex.close();
        });
        s.start();
        return s;
    }

    private String refused(byte[] served, String name) throws Exception {
        HttpServer s = serving(served);
        try {
            Map<String, String> env = Map.of("HF_ENDPOINT", "http://127.0.0.1:" + s.getAddress().getPort());
            Path into = dir.resolve("models");
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
            HearthException e = assertThrows(HearthException.class, () -> PullCommand.pull(
                    new String[] {"owner/repo/" + name, "-o", into.toString()}, env, new PrintStream(out), quiet));
            assertEquals("", out.toString(StandardCharsets.UTF_8), "no path printed");
            try (var left = Files.list(into)) {
                assertEquals(List.of(), left.toList(), "nothing is left behind");
            }
            return e.getMessage();
        } finally {
            s.stop(0);
        }
    }

    @Test
    void anHtmlPageIsNotAModel() throws Exception {
        String m = refused("<!DOCTYPE html>\n<html><body>Please log in to download this file.</body></html>\n"
                .getBytes(StandardCharsets.UTF_8), "model.gguf");
        assertTrue(m.contains("GGUF magic") && m.contains("HTML") && m.contains("removed"), m);
    }

    @Test
    void aHeaderThatDoesNotParseIsNotAModel() throws Exception {
        byte[] data = Files.readAllBytes(StoriesTest.models().resolve("stories260K-q4_0.gguf"));
        byte[] cut = java.util.Arrays.copyOf(data, 300); // the magic, then a header cut short
        String m = refused(cut, "cut.gguf");
        assertTrue(m.contains("header does not parse") && m.contains("not a valid GGUF file"), m);
    }

    @Test
    void anExistingFileThatIsNotAModelIsFetchedAgain() throws Exception {
        byte[] data = Files.readAllBytes(StoriesTest.models().resolve("stories260K-q4_0.gguf"));
        HttpServer s = serving(data);
        try {
            Map<String, String> env = Map.of("HF_ENDPOINT", "http://127.0.0.1:" + s.getAddress().getPort());
            Path into = Files.createDirectories(dir.resolve("models"));
            Files.writeString(into.resolve("stories.gguf"), "<html>old error page</html>");
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            assertEquals(0, PullCommand.pull(new String[] {"owner/repo/stories.gguf", "-o", into.toString()}, env,
                    new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8)));
            assertArrayEquals(data, Files.readAllBytes(into.resolve("stories.gguf")));
            assertTrue(err.toString(StandardCharsets.UTF_8).contains("downloading it again"), err.toString());
        } finally {
            s.stop(0);
        }
    }

    @Test
    void errorsKeepTheirReason() throws Exception {
        Map<String, String> env = Map.of();
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        String m = assertThrows(HearthException.class, () -> PullCommand.pull(new String[] {"http://127.0.0.1:1/x.gguf", "-o", file.toString()},
                env, quiet, quiet)).getMessage();
        assertTrue(m.contains(file + " is not a folder"), m);
        for (String url : List.of("file:///etc/passwd", "ftp://example.com/model.gguf", "gopher://example.com/a/b.gguf")) {
            m = assertThrows(HearthException.class, () -> PullCommand.pull(new String[] {url, "-o", dir.toString()}, env, quiet, quiet)).getMessage();
            assertTrue(m.contains("only http and https URLs"), m);
        }
        // the JDK's file errors carry only the path: the reason is said in words
        assertEquals("permission denied", dev.hearth.server.pull.Downloader.reason(new java.nio.file.AccessDeniedException("/x/model.gguf.part")));
        assertEquals("no such file or folder", dev.hearth.server.pull.Downloader.reason(new java.nio.file.NoSuchFileException("/x")));
    }

    @Test
    void anUnwritableFolderSaysPermissionDenied() throws Exception {
        Path ro = Files.createDirectories(dir.resolve("read-only"));
        ro.toFile().setWritable(false, false);
        try {
            if (Files.isWritable(ro)) return; // root writes anywhere: Downloader.reason is checked in errorsKeepTheirReason
            HttpServer s = serving(new byte[] {'G', 'G', 'U', 'F'});
            try {
                Map<String, String> env = Map.of("HF_ENDPOINT", "http://127.0.0.1:" + s.getAddress().getPort());
                PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
                String m = assertThrows(HearthException.class, () -> PullCommand.pull(new String[] {"owner/repo/m.gguf", "-o", ro.toString()},
                        env, quiet, quiet)).getMessage();
                assertTrue(m.contains("permission denied"), m);
            } finally {
                s.stop(0);
            }
        } finally {
            ro.toFile().setWritable(true, false);
        }
    }
}
