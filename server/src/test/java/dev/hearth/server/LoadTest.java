package dev.hearth.server;

import dev.hearth.runtime.json.Json;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A bounded load test on loopback: 8 clients, 20 requests each (chat and completions, streamed
 * and whole, a few tokens each), against 2 slots. Every request must succeed; latency
 * percentiles and throughput are printed.
 */
class LoadTest {
    static final int CLIENTS = 8;
    static final int REQUESTS = 20;
    static final int MAX_TOKENS = 8;
    static final String[] PROMPTS = {"Once upon a time", "The little dog", "Tom and Sue went to the", "One day, a big bird", "She was sad because"};

    record Outcome(long nanos, int completionTokens, String error) {
    }

    @Test
    void eightClientsTwentyRequestsEach() throws Exception {
        try (TestModel m = new TestModel(TestModel.stories(), 2, 256, TestModel.options());
             ExecutorService pool = Executors.newFixedThreadPool(CLIENTS)) {
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
            // warm up once so the first request's graph building is not counted
            send(http, m, 0, 0);
            AtomicInteger errors = new AtomicInteger();
            long t0 = System.nanoTime();
            List<Future<List<Outcome>>> fs = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                fs.add(pool.submit(() -> {
                    List<Outcome> out = new ArrayList<>();
                    for (int r = 0; r < REQUESTS; r++) {
                        Outcome o = send(http, m, client, r);
                        if (o.error() != null) errors.incrementAndGet();
                        out.add(o);
                    }
                    return out;
                }));
            }
            List<Outcome> all = new ArrayList<>();
            for (Future<List<Outcome>> f : fs) all.addAll(f.get(300, java.util.concurrent.TimeUnit.SECONDS));
            double wall = (System.nanoTime() - t0) / 1e9;
            List<String> errs = all.stream().map(Outcome::error).filter(e -> e != null).limit(5).toList();
            assertEquals(0, errors.get(), "errors: " + errs);
            assertEquals(CLIENTS * REQUESTS, all.size());
            List<Long> lat = new ArrayList<>(all.stream().map(Outcome::nanos).toList());
            Collections.sort(lat);
            int tokens = all.stream().mapToInt(Outcome::completionTokens).sum();
            assertTrue(tokens > 0);
            System.out.printf("load test: %d clients x %d requests, 2 slots, max_tokens %d: %d requests in %.2f s = %.1f requests/s, %.1f generated tokens/s%n",
                    CLIENTS, REQUESTS, MAX_TOKENS, all.size(), wall, all.size() / wall, tokens / wall);
            System.out.printf("load test latency: p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms, errors %d%n",
                    pct(lat, 50), pct(lat, 90), pct(lat, 99), lat.getLast() / 1e6, errors.get());
        }
    }

    static double pct(List<Long> sorted, int p) {
        int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, i)) / 1e6;
    }

    @SuppressWarnings("unchecked")
    static Outcome send(HttpClient http, TestModel m, int client, int r) {
        boolean chat = (client + r) % 2 == 0;
        boolean stream = (r / 2) % 2 == 0;
        String prompt = PROMPTS[(client + r) % PROMPTS.length];
        String body = chat
                ? "{\"messages\": [{\"role\": \"user\", \"content\": " + Json.quote(prompt) + "}], \"max_tokens\": " + MAX_TOKENS + ", \"stream\": " + stream + ", \"seed\": " + r + "}"
                : "{\"prompt\": " + Json.quote(prompt) + ", \"max_tokens\": " + MAX_TOKENS + ", \"stream\": " + stream + ", \"seed\": " + r + "}";
        long t0 = System.nanoTime();
        try {
            HttpResponse<String> res = http.send(HttpRequest.newBuilder(URI.create(m.base() + (chat ? "/v1/chat/completions" : "/v1/completions")))
                    .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            long t = System.nanoTime() - t0;
            if (res.statusCode() != 200) return new Outcome(t, 0, res.statusCode() + " " + res.body());
            int tokens;
            if (stream) {
                String[] events = res.body().split("\n\n");
                if (!events[events.length - 1].equals("data: [DONE]")) return new Outcome(t, 0, "stream did not end with [DONE]");
                Map<String, Object> last = (Map<String, Object>) Json.parse(events[events.length - 2].substring(6));
                tokens = ((Number) ((Map<String, Object>) last.get("usage")).get("completion_tokens")).intValue();
            } else {
                Map<String, Object> b = (Map<String, Object>) Json.parse(res.body());
                tokens = ((Number) ((Map<String, Object>) b.get("usage")).get("completion_tokens")).intValue();
            }
            if (tokens < 1 || tokens > MAX_TOKENS) return new Outcome(t, tokens, "completion_tokens " + tokens);
            return new Outcome(t, tokens, null);
        } catch (Exception e) {
            return new Outcome(System.nanoTime() - t0, 0, e.toString());
        }
    }
}
