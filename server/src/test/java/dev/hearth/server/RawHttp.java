package dev.hearth.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A bare HTTP/1.1 client on a socket, for requests no library would send. */
final class RawHttp {
    record Response(int status, String head, String body) {
    }

    private RawHttp() {
    }

    /** Sends {@code raw} as is, then reads until the server closes (or the timeout). */
    static Response exchange(int port, byte[] raw, int timeoutMs) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(timeoutMs);
            OutputStream out = s.getOutputStream();
            out.write(raw);
            out.flush();
            return read(s.getInputStream());
        }
    }

    /** Reads one response: the head, then a Content-Length body, a chunked body, or all until close. */
    static Response read(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int prev3 = -1, prev2 = -1, prev1 = -1;
        while (true) {
            int b = in.read();
            if (b < 0) break;
            head.write(b);
            if (prev3 == '\r' && prev2 == '\n' && prev1 == '\r' && b == '\n') break;
            prev3 = prev2;
            prev2 = prev1;
            prev1 = b;
        }
        String h = head.toString(StandardCharsets.ISO_8859_1);
        if (h.isEmpty()) throw new IOException("no response");
        int status = Integer.parseInt(h.split(" ")[1]);
        String lower = h.toLowerCase();
        byte[] body;
        int cl = lower.indexOf("content-length:");
        if (cl >= 0) {
            int n = Integer.parseInt(lower.substring(cl + 15, lower.indexOf('\r', cl)).trim());
            body = in.readNBytes(n);
        } else if (lower.contains("transfer-encoding: chunked")) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            while (true) {
                String line = line(in);
                int size = Integer.parseInt(line.trim(), 16);
                if (size == 0) {
                    line(in);
                    break;
                }
                b.write(in.readNBytes(size));
                line(in);
            }
            body = b.toByteArray();
        } else {
            body = in.readAllBytes();
        }
        return new Response(status, h, new String(body, StandardCharsets.UTF_8));
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') if (b != '\r') sb.append((char) b);
        return sb.toString();
    }

    static byte[] post(String path, String body, String... headers) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n");
        for (String h : headers) sb.append(h).append("\r\n");
        sb.append("Content-Length: ").append(b.length).append("\r\n\r\n");
        byte[] head = sb.toString().getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[head.length + b.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(b, 0, all, head.length, b.length);
        return all;
    }
}
