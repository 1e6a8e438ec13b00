package dev.hearth.server;

import dev.hearth.server.http.Request;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * The server's counters, written by {@code GET /metrics} in the Prometheus text exposition format
 * (version 0.0.4): requests by route and status, errors by status, prompt tokens (and how many of
 * them came from a slot's cache) and generated tokens, histograms of the time to first token and
 * of the generation speed, and, read when scraped, the queue, the busy slots and each slot's
 * KV-cache cells in use.
 */
final class Metrics {
    private static final double[] TTFT_BUCKETS = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    private static final double[] SPEED_BUCKETS = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};

    /** A histogram with fixed upper bounds. */
    static final class Histogram {
        final double[] bounds;
        final LongAdder[] counts;
        final LongAdder count = new LongAdder();
        final DoubleAdder sum = new DoubleAdder();

        Histogram(double[] bounds) {
            this.bounds = bounds;
            this.counts = new LongAdder[bounds.length];
            for (int i = 0; i < bounds.length; i++) counts[i] = new LongAdder();
        }

        void observe(double v) {
            for (int i = 0; i < bounds.length; i++) if (v <= bounds[i]) counts[i].increment();
            count.increment();
            sum.add(v);
        }
    }

    private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
    private final Map<Integer, LongAdder> errors = new ConcurrentHashMap<>();
    private final LongAdder promptTokens = new LongAdder();
    private final LongAdder cachedTokens = new LongAdder();
    private final LongAdder generatedTokens = new LongAdder();
    private final Histogram ttft = new Histogram(TTFT_BUCKETS);
    private final Histogram speed = new Histogram(SPEED_BUCKETS);

    /** The route label of a request: one of the served paths, "other" for any else, "none" where unread. */
    static String route(Request req) {
        if (req == null) return "none";
        String p = req.path();
        while (p.length() > 1 && p.endsWith("/")) p = p.substring(0, p.length() - 1);
        if (p.startsWith("/v1/")) p = p.substring(3);
        return switch (p) {
            case "/chat/completions", "/completions", "/models" -> "/v1" + p;
            case "/health", "/metrics" -> p;
            default -> p.startsWith("/models/") ? "/v1/models/{id}" : "other";
        };
    }

    void answered(Request req, int status) {
        requests.computeIfAbsent(route(req) + "\u0000" + status, k -> new LongAdder()).increment();
        if (status >= 400) errors.computeIfAbsent(status, k -> new LongAdder()).increment();
    }

    /** A finished generation: tokens in (of which cached) and out, seconds to the first token, seconds generating. */
    /** Prompt tokens of a finished generation on {@code slot} that came from its KV cache. */
    static int cached(Generation.Result res, SlotPool.Slot slot) {
        return Math.max(0, res.promptTokens() - slot.session().lastEvaluated());
    }

    /** A finished generation on {@code slot}, {@code waitNanos} after its request arrived (queue and model load). */
    void generated(Generation.Result res, SlotPool.Slot slot, long waitNanos) {
        generated(res.promptTokens(), cached(res, slot), res.completionTokens(), (waitNanos + res.promptNanos()) / 1e9, res.generationNanos() / 1e9);
    }

    void generated(int prompt, int cached, int generated, double ttftSeconds, double generationSeconds) {
        promptTokens.add(prompt);
        cachedTokens.add(cached);
        generatedTokens.add(generated);
        ttft.observe(ttftSeconds);
        if (generated > 0 && generationSeconds > 0) speed.observe(generated / generationSeconds);
    }

    /** The exposition text; slot gauges read from the loaded models' {@code slots} (by model name) now. */
    String render(Map<String, SlotPool> slots) {
        int queued = 0, size = 0, idle = 0;
        for (SlotPool p : slots.values()) {
            queued += p.queued();
            size += p.size();
            idle += p.idle();
        }
        StringBuilder sb = new StringBuilder(4096);
        type(sb, "hearth_requests_total", "counter", "HTTP requests answered, by route and status.");
        Map<String, Long> sorted = new TreeMap<>();
        requests.forEach((k, v) -> sorted.put(k, v.sum()));
        sorted.forEach((k, v) -> {
            int z = k.indexOf('\u0000');
            sb.append("hearth_requests_total{route=\"").append(k, 0, z).append("\",status=\"").append(k.substring(z + 1)).append("\"} ").append(v).append('\n');
        });
        type(sb, "hearth_errors_total", "counter", "Answers with a 4xx or 5xx status, by status.");
        new TreeMap<>(errors).forEach((k, v) -> sb.append("hearth_errors_total{status=\"").append(k).append("\"} ").append(v.sum()).append('\n'));
        counter(sb, "hearth_prompt_tokens_total", "Prompt tokens of finished generations.", promptTokens.sum());
        counter(sb, "hearth_prompt_tokens_cached_total", "Prompt tokens taken from a slot's KV cache instead of being computed.", cachedTokens.sum());
        counter(sb, "hearth_generated_tokens_total", "Tokens generated.", generatedTokens.sum());
        histogram(sb, "hearth_time_to_first_token_seconds", "Seconds from a generation request's arrival to its first token (queueing and prompt included).", ttft);
        histogram(sb, "hearth_generation_tokens_per_second", "Generation speed of each request, tokens per second after the first.", speed);
        gauge(sb, "hearth_requests_queued", "Requests waiting for a slot.", queued);
        gauge(sb, "hearth_slots", "Generation slots.", size);
        gauge(sb, "hearth_slots_busy", "Slots generating now.", size - idle);
        type(sb, "hearth_kv_cache_cells_used", "gauge", "KV-cache cells (token positions) holding tokens, by slot.");
        slots.forEach((model, p) -> {
            for (SlotPool.Slot s : p.all()) {
                sb.append("hearth_kv_cache_cells_used{model=\"").append(label(model)).append("\",slot=\"").append(s.id()).append("\"} ").append(s.session().position()).append('\n');
            }
        });
        type(sb, "hearth_kv_cache_cells_total", "gauge", "KV-cache cells (the context length), by slot.");
        slots.forEach((model, p) -> {
            for (SlotPool.Slot s : p.all()) {
                sb.append("hearth_kv_cache_cells_total{model=\"").append(label(model)).append("\",slot=\"").append(s.id()).append("\"} ").append(s.session().engine().contextLength()).append('\n');
            }
        });
        return sb.toString();
    }

    /** A label value as the exposition format writes it: backslash, quote and newline escaped. */
    static String label(String v) {
        return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    private static void type(StringBuilder sb, String name, String type, String help) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void counter(StringBuilder sb, String name, String help, long v) {
        type(sb, name, "counter", help);
        sb.append(name).append(' ').append(v).append('\n');
    }

    private static void gauge(StringBuilder sb, String name, String help, long v) {
        type(sb, name, "gauge", help);
        sb.append(name).append(' ').append(v).append('\n');
    }

    private static void histogram(StringBuilder sb, String name, String help, Histogram h) {
        type(sb, name, "histogram", help);
        for (int i = 0; i < h.bounds.length; i++) {
            sb.append(name).append("_bucket{le=\"").append(number(h.bounds[i])).append("\"} ").append(h.counts[i].sum()).append('\n');
        }
        sb.append(name).append("_bucket{le=\"+Inf\"} ").append(h.count.sum()).append('\n');
        sb.append(name).append("_sum ").append(number(h.sum.sum())).append('\n');
        sb.append(name).append("_count ").append(h.count.sum()).append('\n');
    }

    private static String number(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
        return String.format(Locale.ROOT, "%.6g", v).replaceFirst("\\.?0+(e|$)", "$1");
    }
}
