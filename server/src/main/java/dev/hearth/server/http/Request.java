package dev.hearth.server.http;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;

/**
 * One HTTP request as read off the wire: method, path (without the query), query, headers
 * (names lower-cased; a repeated header keeps the last value) and the whole body.
 */
public record Request(String method, String path, String query, String version, Map<String, String> headers, byte[] body) {
    public String header(String name) {
        return headers.get(name.toLowerCase(Locale.ROOT));
    }

    /** The body as UTF-8 text; malformed UTF-8 is a 400. */
    public String bodyText() {
        boolean ascii = true;
        for (byte b : body) {
            if (b < 0) {
                ascii = false;
                break;
            }
        }
        if (ascii) return new String(body, StandardCharsets.ISO_8859_1); // no decoder buffer: one byte a character
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            throw ApiError.invalid(null, "The request body is not valid UTF-8.");
        }
    }

    /** Whether the client asked to keep the connection open after this exchange. */
    public boolean keepAlive() {
        String c = header("connection");
        if (c != null && c.toLowerCase(Locale.ROOT).contains("close")) return false;
        if (version.equals("HTTP/1.0")) return c != null && c.toLowerCase(Locale.ROOT).contains("keep-alive");
        return true;
    }
}
