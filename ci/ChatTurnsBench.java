/*
 * Time to first token of each turn of one chat against a running `hearth serve`: turn 1 asks,
 * each next turn sends the whole history (every earlier question and answer) plus a new
 * question, as chat clients do. With prompt reuse, a turn costs only its new tokens, so turn 10
 * should start about as soon as turn 2 although its prompt is several times longer.
 *
 * Run as a single-file program (JDK 25) with the runtime jar for its JSON:
 *   java -cp 'cli/target/lib/*' ci/ChatTurnsBench.java http://127.0.0.1:8080 [turns] [max_tokens]
 * Prints one line per turn (prompt tokens, cached tokens, time to first token) and the ratio of
 * turn 10 to turn 2.
 */

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import dev.hearth.runtime.json.Json;

public class ChatTurnsBench {

    static final String[] QUESTIONS = {
        "Tell me a short story about a fox who wants to learn to read, and the owl who teaches it.",
        "What did the fox read first, and how did it feel when it understood the first word?",
        "Then the winter came. How did the fox and the owl find food when the snow was deep?",
        "A hunter came into the forest. What did the animals do to warn each other?",
        "The fox wrote a letter to the hunter. What did the letter say, and did the hunter answer?",
        "Years later the fox had cubs. How did it teach them, and what did it tell them about the owl?",
        "One of the cubs wanted to travel to the sea. Describe the journey and what it saw on the way.",
        "At the sea the cub met a seal who could not read. What happened between them?",
        "The cub came home in the spring. What had changed in the forest while it was away?",
        "End the story: what did the old fox say on the last evening, and what did the owl answer?",
        "Now tell the whole story again in three sentences for a small child.",
        "Give the story a title and explain why you chose it.",
    };

    public static void main(String[] args) throws Exception {
        String base = args.length > 0 ? args[0] : "http://127.0.0.1:8080";
        int turns = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int maxTokens = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        List<String> history = new ArrayList<>(); // JSON objects of the messages so far
        history.add(message("system", "You are a storyteller. Answer in a few sentences."));
        double[] ttft = new double[turns + 1];
        for (int t = 1; t <= turns; t++) {
            history.add(message("user", QUESTIONS[(t - 1) % QUESTIONS.length]));
            String body = "{\"messages\": [" + String.join(", ", history) + "], \"max_tokens\": " + maxTokens
                    + ", \"temperature\": 0, \"stream\": true, \"stream_options\": {\"include_usage\": true}}";
            HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions")).timeout(Duration.ofMinutes(10))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
            long t0 = System.nanoTime();
            HttpResponse<java.util.stream.Stream<String>> res = http.send(req, HttpResponse.BodyHandlers.ofLines());
            if (res.statusCode() != 200) throw new IllegalStateException("turn " + t + ": HTTP " + res.statusCode() + " " + String.join("\n", res.body().toList()));
            StringBuilder answer = new StringBuilder();
            long first = 0;
            String prompt = "?", cached = "?";
            for (Iterator<String> it = res.body().iterator(); it.hasNext(); ) {
                String line = it.next();
                if (!line.startsWith("data: ") || line.equals("data: [DONE]")) continue;
                Map<?, ?> chunk = (Map<?, ?>) Json.parse(line.substring(6));
                if (chunk.get("choices") instanceof List<?> choices && !choices.isEmpty()
                        && ((Map<?, ?>) choices.getFirst()).get("delta") instanceof Map<?, ?> delta
                        && delta.get("content") instanceof String piece && !piece.isEmpty()) {
                    if (first == 0) first = System.nanoTime();
                    answer.append(piece);
                }
                if (chunk.get("usage") instanceof Map<?, ?> usage) {
                    prompt = String.valueOf(usage.get("prompt_tokens"));
                    if (usage.get("prompt_tokens_details") instanceof Map<?, ?> details) cached = String.valueOf(details.get("cached_tokens"));
                }
            }
            if (first == 0) first = System.nanoTime(); // an empty answer: its end stands for the first token
            ttft[t] = (first - t0) / 1e6;
            System.out.printf("turn %2d: prompt %5s tokens, %5s cached, time to first token %8.1f ms, answer %d chars%n", t, prompt, cached, ttft[t], answer.length());
            history.add(message("assistant", answer.toString()));
        }
        if (turns >= 10) System.out.printf("turn 10 / turn 2 time to first token: %.2f (goal: at most 1.5)%n", ttft[10] / ttft[2]);
    }

    static String message(String role, String content) {
        return Json.write(Map.of("role", role, "content", content));
    }
}
