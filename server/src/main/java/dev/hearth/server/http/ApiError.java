package dev.hearth.server.http;

import dev.hearth.runtime.json.Json;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An error answered with an HTTP status and OpenAI's error object:
 * {@code {"error": {"message", "type", "param", "code"}}}.
 */
public final class ApiError extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;
    private String allow;

    public ApiError(int status, String type, String param, String code, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 405: {@code path} is answered only for the methods in {@code allow} ("GET, HEAD"), sent back in an Allow header. */
    public static ApiError methodNotAllowed(String path, String method, String allow) {
        ApiError e = new ApiError(405, "invalid_request_error", null, "method_not_allowed", path + " takes " + allow + ", not " + method + ".");
        e.allow = allow;
        return e;
    }

    /** The methods the path takes, for the Allow header of a 405; null otherwise. */
    public String allow() {
        return allow;
    }

    /** 400: the request is wrong; {@code param} names the field where one is at fault. */
    public static ApiError invalid(String param, String message) {
        return new ApiError(400, "invalid_request_error", param, null, message);
    }

    public static ApiError invalid(String param, String code, String message) {
        return new ApiError(400, "invalid_request_error", param, code, message);
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }

    public Map<String, Object> body() {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("message", getMessage());
        e.put("type", type);
        e.put("param", param);
        e.put("code", code);
        Map<String, Object> outer = new LinkedHashMap<>();
        outer.put("error", e);
        return outer;
    }

    public String json() {
        return Json.write(body());
    }
}
