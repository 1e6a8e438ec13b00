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
}
