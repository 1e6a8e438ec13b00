package dev.hearth.server.http;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The HTTP layer alone: keep-alive, a client that stops reading, too many connections. */
class Http1ServerTest {
    static String get(BufferedReader in, OutputStream out, String path) throws IOException {
        out.write(("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String status = in.readLine();
        int length = 0;
        String l;
        while (!(l = in.readLine()).isEmpty()) if (l.toLowerCase().startsWith("content-length:")) length = Integer.parseInt(l.substring(15).trim());
        char[] body = new char[length];
        int off = 0;
        while (off < length) off += in.read(body, off, length - off);
        return status + "|" + new String(body);
    }

    @Test
    void keepAliveServesSeveralRequestsOnOneConnection() throws Exception {
        Http1Server.Handler h = (req, ex) -> ex.sendJson(200, Map.of("path", req.path()));
        try (Http1Server s = Http1Server.start("127.0.0.1", 0, Limits.DEFAULTS, h);
             Socket c = new Socket("127.0.0.1", s.port())) {
            BufferedReader in = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8));
            for (int i = 0; i < 3; i++) assertEquals("HTTP/1.1 200 OK|{\"path\":\"/p" + i + "\"}", get(in, c.getOutputStream(), "/p" + i));
        }
    }

    @Test
    void aClientThatStopsReadingIsCutOffAndOthersGoOn() throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch writerDone = new CountDownLatch(1);
        Http1Server.Handler h = (req, ex) -> {
            if (req.path().equals("/flood")) {
                try {
                    EventStream es = ex.eventStream();
                    String line = "x".repeat(64 * 1024);
                    for (int i = 0; i < 100_000; i++) es.send(line); // far more than socket buffers hold
                } catch (IOException e) {
                    failure.set(e);
                    throw e;
                } finally {
                    writerDone.countDown();
                }
            } else {
                ex.sendJson(200, Map.of("ok", true));
            }
        };
        Limits limits = Limits.DEFAULTS.withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofMillis(500));
        try (Http1Server s = Http1Server.start("127.0.0.1", 0, limits, h);
             Socket reader = new Socket()) {
            reader.setReceiveBufferSize(4096);
            reader.connect(new java.net.InetSocketAddress("127.0.0.1", s.port()));
            reader.getOutputStream().write("GET /flood HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            reader.getOutputStream().flush();
            // never read: the write blocks, the watchdog closes the connection
            assertTrue(writerDone.await(20, TimeUnit.SECONDS), "the blocked write was ended");
            assertInstanceOf(IOException.class, failure.get());
            try (Socket other = new Socket("127.0.0.1", s.port())) {
                BufferedReader in = new BufferedReader(new InputStreamReader(other.getInputStream(), StandardCharsets.UTF_8));
                assertEquals("HTTP/1.1 200 OK|{\"ok\":true}", get(in, other.getOutputStream(), "/health"));
            }
        }
    }

    @Test
    void connectionsPastTheLimitGet503() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Http1Server.Handler h = (req, ex) -> {
            try {
                release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ex.sendJson(200, Map.of());
        };
        try (Http1Server s = Http1Server.start("127.0.0.1", 0, Limits.DEFAULTS.withMaxConnections(2), h)) {
            Socket[] busy = new Socket[2];
            for (int i = 0; i < 2; i++) {
                busy[i] = new Socket("127.0.0.1", s.port());
                busy[i].getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            long end = System.currentTimeMillis() + 5000;
            while (s.connections() < 2 && System.currentTimeMillis() < end) Thread.sleep(5);
            try (Socket third = new Socket("127.0.0.1", s.port())) {
                third.setSoTimeout(5000);
                BufferedReader in = new BufferedReader(new InputStreamReader(third.getInputStream(), StandardCharsets.UTF_8));
                assertTrue(in.readLine().startsWith("HTTP/1.1 503"));
            }
            release.countDown();
            for (Socket b : busy) b.close();
        }
    }
}
