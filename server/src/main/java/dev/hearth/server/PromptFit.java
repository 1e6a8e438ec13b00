package dev.hearth.server;

import dev.hearth.llama.tokenizer.Tokenizer;
import dev.hearth.server.http.ApiError;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Prompts against the context: tokens are counted with a limit of the context length, so a
 * prompt of megabytes is refused after reading what the context can hold, never tokenized whole.
 * A prompt that does not fit is a 400 context_length_exceeded; with
 * {@link ServerPolicy.ContextOverflow#TRUNCATE} a chat first loses its oldest turns (never its
 * system messages nor its last message, and so that what is left starts with a user message)
 * until its prompt leaves room for max_tokens (without max_tokens, for one token).
 */
final class PromptFit {
    private final Tokenizer tokenizer;
    private final int ctx;
    private final ServerPolicy.ContextOverflow overflow;

    /** A prompt's tokens, and how many messages were dropped to make it fit. */
    record Fitted(int[] tokens, int droppedMessages) {
    }

    PromptFit(Tokenizer tokenizer, int ctx, ServerPolicy.ContextOverflow overflow) {
        this.tokenizer = tokenizer;
        this.ctx = ctx;
        this.overflow = overflow;
    }

    /** The tokens of a completion prompt (BOS added where the model wants it); 400 if it does not fit. */
    int[] completion(String prompt) {
        int[] ids = tokenizer.encode(prompt, true, true, ctx);
        if (ids.length >= ctx) throw tooLong("prompt", ids.length);
        return ids;
    }

    /** The tokens of the chat prompt that {@code render} makes of the messages, fitted to the context as the policy says. */
    Fitted chat(List<Map<String, Object>> messages, Integer maxTokens, Function<List<Map<String, Object>>, String> render) {
        List<Map<String, Object>> shortened = shortened(messages);
        if (shortened == messages) return fit(messages, maxTokens, render);
        // counted on the shortened messages; the tokens, where they fit, made again of the real ones
        Fitted f = fit(shortened, maxTokens, render);
        int firstTurn = firstTurn(messages);
        List<Map<String, Object>> real = keep(messages, firstTurn, firstTurn + f.droppedMessages());
        int[] ids = encode(render.apply(real));
        if (!fits(ids, maxTokens)) throw tooLong("messages", ids.length);
        return new Fitted(ids, f.droppedMessages());
    }

    /**
     * The messages with each text longer than the context can hold in any case (more characters
     * than ctx + 1 tokens can stand for) cut to that length, so that a prompt of megabytes is
     * never rendered whole; the same list where none is.
     */
    private List<Map<String, Object>> shortened(List<Map<String, Object>> messages) {
        long bound = (long) (ctx + 1) * tokenizer.maxTokenChars() + 1;
        List<Map<String, Object>> out = null;
        for (int i = 0; i < messages.size(); i++) {
            Map<String, Object> m = messages.get(i);
            if (m.get("content") instanceof String c && c.length() > bound) {
                if (out == null) out = new ArrayList<>(messages);
                Map<String, Object> copy = new java.util.LinkedHashMap<>(m);
                copy.put("content", c.substring(0, (int) bound));
                out.set(i, copy);
            }
        }
        return out == null ? messages : out;
    }

    private Fitted fit(List<Map<String, Object>> messages, Integer maxTokens, Function<List<Map<String, Object>>, String> render) {
        int[] ids = encode(render.apply(messages));
        if (fits(ids, maxTokens) || overflow != ServerPolicy.ContextOverflow.TRUNCATE) {
            if (ids.length >= ctx) throw tooLong("messages", ids.length);
            return new Fitted(ids, 0);
        }
        int firstTurn = firstTurn(messages);
        List<Integer> starts = new ArrayList<>(); // where the kept turns may begin: a user message, or the last message
        for (int i = firstTurn + 1; i < messages.size(); i++) {
            if (i == messages.size() - 1 || "user".equals(messages.get(i).get("role"))) starts.add(i);
        }
        // the fewest turns dropped that fit: the prompt only shortens as more are dropped
        int lo = 0, hi = starts.size() - 1, best = -1;
        int[] bestIds = null;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int[] t = encode(render.apply(keep(messages, firstTurn, starts.get(mid))));
            if (fits(t, maxTokens)) {
                best = mid;
                bestIds = t;
                hi = mid - 1;
            } else {
                lo = mid + 1;
            }
        }
        if (best < 0) {
            int[] last = starts.isEmpty() ? ids : encode(render.apply(keep(messages, firstTurn, starts.getLast())));
            throw ApiError.invalid("messages", "context_length_exceeded", "This model's maximum context length is " + ctx
                    + " tokens, and even the system messages with the last message alone make " + count(last)
                    + " tokens" + (maxTokens != null ? " (with max_tokens " + maxTokens + ")" : "") + ". Please reduce the length of the messages.");
        }
        return new Fitted(bestIds, starts.get(best) - firstTurn);
    }

    private int[] encode(String text) {
        return tokenizer.encode(text, true, true, ctx);
    }

    private boolean fits(int[] ids, Integer maxTokens) {
        return ids.length < ctx && (maxTokens == null || (long) ids.length + maxTokens <= ctx);
    }

    /** The index of the first message after the leading system messages. */
    private static int firstTurn(List<Map<String, Object>> messages) {
        int i = 0;
        while (i < messages.size() && isSystem(messages.get(i))) i++;
        return i;
    }

    private static boolean isSystem(Map<String, Object> m) {
        Object role = m.get("role");
        return "system".equals(role) || "developer".equals(role);
    }

    private static List<Map<String, Object>> keep(List<Map<String, Object>> messages, int firstTurn, int from) {
        List<Map<String, Object>> kept = new ArrayList<>(messages.subList(0, firstTurn));
        kept.addAll(messages.subList(from, messages.size()));
        return kept;
    }

    private String count(int[] ids) {
        return count(ids.length);
    }

    /** A token count found with a limit of ctx: past it, only "more than ctx" is known. */
    private String count(int n) {
        return n > ctx ? "more than " + ctx : String.valueOf(n);
    }

    private ApiError tooLong(String param, int n) {
        return ApiError.invalid(param, "context_length_exceeded", "This model's maximum context length is " + ctx + " tokens. However, your "
                + param + " resulted in " + count(n) + " tokens, which leaves no room to generate. Please reduce the length"
                + (param.equals("messages") ? ", or start the server with --context-overflow truncate to drop the oldest turns." : "."));
    }
}
