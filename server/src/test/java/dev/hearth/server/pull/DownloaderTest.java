package dev.hearth.server.pull;

import dev.hearth.runtime.HearthException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Downloads from a loopback server that behaves, and from ones that do not. */
class DownloaderTest {
    static final byte[] DATA = new byte[3 * 1024 * 1024 + 123];

    static {
        new Random(42).nextBytes(DATA);
    }

    @TempDir
    Path dir;
    FileServer server;
    final List<String> notes = new ArrayList<>();
    long lastDone = -1;

    @BeforeEach
    void start() throws Exception {
        server = new FileServer(DATA);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    Downloader downloader(Downloader.Options o) {
        return new Downloader(o, new Downloader.Listener() {
            @Override
            public void progress(long done, long total) {
                lastDone = done;
            }

            @Override
            public void note(String line) {
                notes.add(line);
            }
        });
    }

    Downloader.Options fast() {
        return Downloader.Options.defaults().withRetries(3, Duration.ofMillis(10)).withStall(Duration.ofSeconds(10));
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    Path target() {
        return dir.resolve("model.gguf");
    }

    Path part() {
        return dir.resolve("model.gguf.part");
    }

    @Test
    void downloadsWholeAndRenames() throws Exception {
        Path p = downloader(fast()).download(URI.create(server.base() + "/files/model.gguf"), target());
        assertArrayEquals(DATA, Files.readAllBytes(p));
        assertFalse(Files.exists(part()));
        assertEquals(DATA.length, lastDone);
        assertEquals(List.of(""), server.ranges);
    }

    @Test
    void resumesAfterTheConnectionDropsHalfWay() throws Exception {
        server.dropsLeft = 1;
        downloader(fast()).download(URI.create(server.base() + "/files/model.gguf"), target());
        assertArrayEquals(DATA, Files.readAllBytes(target()));
        assertEquals(2, server.ranges.size());
        assertEquals("", server.ranges.get(0));
        long from = Long.parseLong(server.ranges.get(1).replaceAll("bytes=(\\d+)-", "$1"));
        assertTrue(from > 0 && from <= DATA.length / 2, "resumed where the first answer stopped: " + server.ranges.get(1));
        assertFalse(Files.exists(part()));
    }

    @Test
    void resumesAPartFileFromAnEarlierRun() throws Exception {
        // the first run gives up after one dropped attempt and keeps the part file
        server.dropsLeft = 1;
        HearthException e = assertThrows(HearthException.class, () -> downloader(fast().withRetries(0, Duration.ZERO))
                .download(URI.create(server.base() + "/files/model.gguf"), target()));
        assertTrue(e.getMessage().contains("run the same command again to resume"), e.getMessage());
        assertFalse(Files.exists(target()), "nothing under the final name");
        long kept = Files.size(part());
        assertTrue(kept > 0 && kept <= DATA.length / 2, "kept " + kept);
        // the second run asks for the rest only
        downloader(fast()).download(URI.create(server.base() + "/files/model.gguf"), target());
        assertArrayEquals(DATA, Files.readAllBytes(target()));
        assertEquals("bytes=" + kept + "-", server.ranges.getLast());
        assertFalse(Files.exists(part()));
    }

    @Test
    void startsOverWhenTheServerIgnoresRange() throws Exception {
        Files.write(part(), Arrays.copyOf(DATA, 1000));
        server.rangeSupported = false;
        downloader(fast()).download(URI.create(server.base() + "/files/model.gguf"), target());
        assertArrayEquals(DATA, Files.readAllBytes(target()));
        assertEquals("bytes=1000-", server.ranges.getFirst());
        assertTrue(notes.stream().anyMatch(n -> n.contains("cannot resume")), notes.toString());
    }

    @Test
    void aCompletePartFileIsFinishedWithoutTheBody() throws Exception {
        Files.write(part(), DATA);
        downloader(fast()).download(URI.create(server.base() + "/files/model.gguf"), target());
        assertArrayEquals(DATA, Files.readAllBytes(target()));
        assertEquals("bytes=" + DATA.length + "-", server.ranges.getFirst());
    }

    @Test
    void wrongSizeIsRefused() throws Exception {
        // the repository lists another size than the file answers with
        server.linkedSize = (long) DATA.length + 10;
        HearthException e = assertThrows(HearthException.class, () -> downloader(fast())
                .download(URI.create(server.base() + "/redirect/model.gguf"), target()));
        assertTrue(e.getMessage().contains("X-Linked-Size"), e.getMessage());
        assertFalse(Files.exists(target()));
        assertFalse(Files.exists(part()));
    }

    @Test
    void aServerThatAlwaysSendsLessThanItSaysNeverGivesAFile() throws Exception {
        server.lie = DATA.length + 5000;
        HearthException e = assertThrows(HearthException.class, () -> downloader(fast())
                .download(URI.create(server.base() + "/files/model.gguf"), target()));
        assertTrue(e.getMessage().contains("did not finish"), e.getMessage());
        assertFalse(Files.exists(target()), "nothing under the final name");
        assertEquals(4, server.requests.get(), "one try and three retries");
    }

    @Test
    void wrongSha256IsRefusedAndRemoved() throws Exception {
        server.linkedSize = (long) DATA.length;
        server.linkedEtag = sha256("something else".getBytes());
        HearthException e = assertThrows(HearthException.class, () -> downloader(fast())
                .download(URI.create(server.base() + "/redirect/model.gguf"), target()));
        assertTrue(e.getMessage().contains("sha256 mismatch"), e.getMessage());
        assertFalse(Files.exists(target()));
        assertFalse(Files.exists(part()));
    }

    @Test
    void rightSha256FromTheRedirectPasses() throws Exception {
        server.linkedSize = (long) DATA.length;
        server.linkedEtag = sha256(DATA);
        server.dropsLeft = 1; // and across a resume
        downloader(fast()).download(URI.create(server.base() + "/redirect/model.gguf"), target());
        assertArrayEquals(DATA, Files.readAllBytes(target()));
        assertTrue(notes.contains("checking sha256"), notes.toString());
    }

    @Test
    void sha256FromOtherHeadersAndTheCaller() throws Exception {
        server.extraHeaders = List.of("ETag: \"" + sha256(new byte[] {1}) + "\"");
        assertThrows(HearthException.class, () -> downloader(fast()).download(URI.create(server.base() + "/files/model.gguf"), target()));
        server.extraHeaders = List.of("Repr-Digest: sha-256=:" + java.util.Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(DATA)) + ":");
        downloader(fast()).download(URI.create(server.base() + "/files/model.gguf"), target());
        assertArrayEquals(DATA, Files.readAllBytes(target()));
        Files.delete(target());
        server.extraHeaders = List.of();
        HearthException e = assertThrows(HearthException.class, () -> downloader(fast().withSha256("00".repeat(32)))
                .download(URI.create(server.base() + "/files/model.gguf"), target()));
        assertTrue(e.getMessage().contains("sha256 mismatch"));
        assertFalse(Files.exists(target()));
    }

    @Test
    void notFoundAndDeniedSayWhatToDo() {
        server.status = 404;
        HearthException e = assertThrows(HearthException.class, () -> downloader(fast()).download(URI.create(server.base() + "/files/model.gguf"), target()));
        assertTrue(e.getMessage().contains("404"), e.getMessage());
        assertFalse(Files.exists(part()), "no empty part file left");
        server.status = 401;
        e = assertThrows(HearthException.class, () -> downloader(fast()).download(URI.create(server.base() + "/files/model.gguf"), target()));
        assertTrue(e.getMessage().contains("HF_TOKEN"), e.getMessage());
    }

    @Test
    void hubNamesBecomeResolveUrls() {
        assertEquals(URI.create("https://huggingface.co/owner/repo/resolve/main/model-Q4_0.gguf"),
                Downloader.resolve("owner/repo/model-Q4_0.gguf", "https://huggingface.co", "main"));
        assertEquals(URI.create("http://127.0.0.1:9/mirror/o/r/resolve/v2/sub%20dir/m.gguf"),
                Downloader.resolve("o/r/sub dir/m.gguf", "http://127.0.0.1:9/mirror/", "v2"));
        assertEquals(URI.create("http://x/y.gguf"), Downloader.resolve("http://x/y.gguf", "https://huggingface.co", "main"));
        assertThrows(HearthException.class, () -> Downloader.resolve("owner/model.gguf", "https://huggingface.co", "main"));
        assertThrows(HearthException.class, () -> Downloader.resolve("o/r/../m.gguf", "https://huggingface.co", "main"));
        assertEquals("m.gguf", Downloader.fileName(URI.create("http://x/a/m.gguf")));
        assertThrows(HearthException.class, () -> Downloader.fileName(URI.create("http://x/a/")));
    }

    @Test
    void headerParsing() {
        assertEquals(List.of(5L, 9L, 10L), Arrays.stream(Downloader.parseContentRange("bytes 5-9/10")).boxed().toList());
        assertEquals(-1L, Downloader.parseContentRange("bytes 5-9/*")[2]);
        assertEquals(null, Downloader.parseContentRange("bytes 5-10/10"));
        assertEquals(null, Downloader.parseContentRange("items 1-2/3"));
        assertEquals("ab".repeat(32), Downloader.hex64("\"" + "AB".repeat(32) + "\""));
        assertEquals(null, Downloader.hex64("\"" + "ab".repeat(20) + "\""));
    }
}
