package dev.hearth.server;

import dev.hearth.server.http.ApiError;
import dev.hearth.server.http.Exchange;
import dev.hearth.server.http.Request;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a request must pass before a route sees it, against web pages that call a local server:
 * the Host header (on a loopback bind only loopback names, so that a DNS-rebound page cannot
 * read the answers; with {@code --allowed-hosts} the names listed too), CORS (only the origins
 * given with {@code --cors-origin} get Access-Control-Allow-Origin, and only they may send a
 * preflight), and a JSON Content-Type on POST bodies (a cross-origin form or a {@code text/plain}
 * fetch cannot start a generation without a preflight). Also writes the one-line log of every
 * error answered.
 */
final class Gate {
    private static final List<String> LOOPBACK_NAMES = List.of("localhost", "127.0.0.1", "[::1]");

    private final boolean loopbackBind;
    private final List<String> allowedHosts;
    private final List<String> corsOrigins;
    private final PrintStream log;

    Gate(ServerOptions options) {
        this.loopbackBind = isLoopback(options.host());
        this.allowedHosts = options.policy().allowedHosts();
        this.corsOrigins = options.policy().corsOrigins();
        this.log = options.log();
    }

    private static boolean isLoopback(String host) {
        if (host.equalsIgnoreCase("localhost")) return true;
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /**
     * The Host header's name must be one this server answers to: loopback names always, on a
     * loopback bind only those (and the names of {@code --allowed-hosts}), on another bind any
     * name unless {@code --allowed-hosts} lists them. A request without Host (HTTP/1.0) passes.
     *
     * @throws ApiError 403 otherwise
     */
    void checkHost(Request req) {
        String header = req.header("host");
        if (header == null) return;
        String name = hostName(header);
        if (LOOPBACK_NAMES.contains(name) || isLoopbackLiteral(name)) return;
        if (allowedHosts.contains("*") || allowedHosts.contains(name)) return;
        if (!loopbackBind && allowedHosts.isEmpty()) return;
        String why = loopbackBind
                ? "this server listens on a loopback address and answers only to localhost, 127.0.0.1 and [::1]"
                : "this server answers only to the names of --allowed-hosts (" + String.join(", ", allowedHosts) + ")";
        throw new ApiError(403, "invalid_request_error", null, "host_not_allowed",
                "Host '" + printable(header) + "' is not allowed: " + why + "; start it with --allowed-hosts " + printable(name) + " to allow it.");
    }

    /** The name of a Host header, lower-cased, without the port and a trailing dot ("[::1]" keeps its brackets). */
    static String hostName(String header) {
        String h = header.trim().toLowerCase(Locale.ROOT);
        if (h.startsWith("[")) {
            int close = h.indexOf(']');
            return close < 0 ? h : h.substring(0, close + 1);
        }
        int colon = h.indexOf(':');
        if (colon >= 0 && h.indexOf(':', colon + 1) < 0) h = h.substring(0, colon);
        if (h.endsWith(".")) h = h.substring(0, h.length() - 1);
        return h;
    }

    /** 127.x.x.x written as four decimal numbers. */
    private static boolean isLoopbackLiteral(String name) {
        String[] parts = name.split("\\.", -1);
        if (parts.length != 4 || !parts[0].equals("127")) return false;
        for (String p : parts) {
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9') || Integer.parseInt(p) > 255) return false;
        }
        return true;
    }

    /**
     * CORS. A preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered here:
     * 204 with the allowed methods and headers for an allowed origin, 403 for any other (and for
     * every origin where none is allowed); then true. Any other request from an allowed origin
     * gets Access-Control-Allow-Origin on its answer; false.
     */
    boolean cors(Request req, Exchange ex) throws IOException {
        String origin = req.header("origin");
        boolean preflight = req.method().equals("OPTIONS") && origin != null && req.header("access-control-request-method") != null;
        boolean allowed = origin != null && (corsOrigins.contains("*") || corsOrigins.contains(origin));
        if (preflight) {
            if (!allowed) {
                String hint = corsOrigins.isEmpty() ? "this server allows no cross-origin requests" : "the allowed origins are " + String.join(", ", corsOrigins);
                throw new ApiError(403, "invalid_request_error", null, "origin_not_allowed",
                        "Cross-origin requests from '" + printable(origin) + "' are not allowed (" + hint + "); start the server with --cors-origin "
                                + printable(origin) + " to allow them.");
            }
            Map<String, String> h = new LinkedHashMap<>();
            h.put("Access-Control-Allow-Origin", corsOrigins.contains("*") ? "*" : origin);
            h.put("Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS");
            String asked = req.header("access-control-request-headers");
            h.put("Access-Control-Allow-Headers", asked != null && !asked.isBlank() ? printable(asked) : "Authorization, Content-Type");
            h.put("Access-Control-Max-Age", "600");
            h.put("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
            ex.sendNoContent(h);
            return true;
        }
        if (allowed) {
            ex.header("Access-Control-Allow-Origin", corsOrigins.contains("*") ? "*" : origin);
            ex.header("Vary", "Origin");
        }
        return false;
    }

    /**
     * A POST body must be JSON: Content-Type application/json (parameters such as charset allowed).
     *
     * @throws ApiError 415 otherwise
     */
    static void requireJson(Request req) {
        String ct = req.header("content-type");
        String type = ct == null ? "" : (ct.indexOf(';') < 0 ? ct : ct.substring(0, ct.indexOf(';'))).trim().toLowerCase(Locale.ROOT);
        if (type.equals("application/json")) return;
        throw new ApiError(415, "invalid_request_error", null, "unsupported_media_type",
                (ct == null ? "The request has no Content-Type" : "Content-Type '" + printable(ct) + "' is not accepted")
                        + "; send the body as JSON with 'Content-Type: application/json'.");
    }

    /**
     * For Ollama's routes, whose clients (curl with -d among them) often send no JSON Content-Type:
     * a POST that is not labelled JSON is taken only from a client that is not a web page (no
     * {@code Origin} header), so that a page on another origin cannot start work with a simple
     * cross-origin request.
     *
     * @throws ApiError 415 for a POST from a page whose body is not labelled JSON
     */
    static void requireJsonFromPages(Request req) {
        if (req.method().equals("POST") && req.header("origin") != null) requireJson(req);
    }

    /** One line on the log for an error answered: status, method, path, client, code and message. */
    void logError(Request req, String client, int status, ApiError error) {
        if (log == null || status < 400) return;
        String method = req == null ? "-" : printable(req.method());
        String path = req == null ? "-" : printable(req.path());
        String code = error == null ? "" : error.code() != null ? error.code() + ": " : "";
        String msg = error == null ? "" : printable(error.getMessage());
        if (msg.length() > 300) msg = msg.substring(0, 300) + "...";
        log.println("hearth serve: " + status + " " + method + " " + path + " from " + client + ": " + code + msg);
    }

    /** {@code s} with control characters shown as '?' and cut at 200 characters, for the log and error messages. */
    static String printable(String s) {
        if (s == null) return "";
        StringBuilder sb = new StringBuilder(Math.min(s.length(), 200));
        for (int i = 0; i < s.length() && i < 200; i++) {
            char c = s.charAt(i);
            sb.append(c < 0x20 || c == 0x7f ? '?' : c);
        }
        if (s.length() > 200) sb.append("...");
        return sb.toString();
    }
}
