package dev.hearth.server.http;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Server-sent events as OpenAI sends them: each event one {@code data: ...} line and a blank
 * line, flushed at once; or, for newline-delimited JSON, each event one line. A write to a
 * client that has gone throws IOException.
 */
public final class EventStream implements AutoCloseable {
    private final OutputStream out;
    private final boolean chunked;
    private final boolean lines;
    private boolean closed;

    EventStream(OutputStream out, boolean chunked, boolean lines) {
        this.out = out;
        this.chunked = chunked;
        this.lines = lines;
    }

    /** Sends {@code data: <data>} (or the line {@code <data>}) and flushes. */
    public void send(String data) throws IOException {
        if (closed) throw new IOException("the event stream is closed");
        byte[] b = (lines ? data + "\n" : "data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8);
        if (chunked) out.write((Integer.toHexString(b.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(b);
        if (chunked) out.write(CRLF);
        out.flush();
    }

    private static final byte[] CRLF = {'\r', '\n'};

    /** Ends the stream (the last chunk); the connection stays usable. */
    @Override
    public void close() throws IOException {
        if (closed) return;
        closed = true;
        if (chunked) out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }
}
