package dev.hearth.server;

import dev.hearth.llama.Session;
import dev.hearth.llama.constrain.TokenConstraint;
import dev.hearth.llama.sampling.Sampler;
import dev.hearth.llama.sampling.SamplerParams;
import dev.hearth.llama.tokenizer.Tokenizer;
import dev.hearth.llama.tokenizer.Utf8Streamer;

import java.io.IOException;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * One generation on a slot: tokens to text without splitting characters, stop strings held
 * back until they can be ruled out, each piece of text handed to a sink as soon as it is safe.
 * Stops when the sink fails (the client went away) or {@code cancelled} says so, polled about
 * every 100 ms.
 */
final class Generation {
    private static final long POLL_NANOS = 100_000_000L;

    /** Where the text goes; an IOException means the client is gone. */
    interface Sink {
        void text(String piece) throws IOException;
    }

    /** finishReason: "stop", "length", or "cancelled" (the client went away; nothing more is sent). */
    record Result(String text, int promptTokens, int completionTokens, String finishReason, long promptNanos, long generationNanos) {
    }

    private Generation() {
    }

    static Result run(Session session, Tokenizer tok, int[] prompt, int maxTokens, SamplerParams params, List<String> stops,
                      Sink sink, BooleanSupplier cancelled) {
        return run(session, tok, prompt, maxTokens, params, null, stops, sink, cancelled);
    }

    /**
     * As above, drawing only tokens {@code constraint} allows (null: any); generation ends once it
     * is finished, with "length" where the token limit made it end sooner than the model chose.
     */
    static Result run(Session session, Tokenizer tok, int[] prompt, int maxTokens, SamplerParams params, TokenConstraint constraint,
                      List<String> stops, Sink sink, BooleanSupplier cancelled) {
        Utf8Streamer utf8 = new Utf8Streamer();
        StopText text = new StopText(stops);
        boolean[] gone = {false};
        long[] lastPoll = {System.nanoTime()};
        Session.Stats st = session.generate(prompt, maxTokens, new Sampler(params, constraint), tok::isEndOfGeneration, t -> {
            String out = text.add(utf8.accept(tok.tokenBytes(t)));
            try {
                if (!out.isEmpty()) sink.text(out);
            } catch (IOException e) {
                gone[0] = true;
                return false;
            }
            if (text.stopped()) return false;
            long now = System.nanoTime();
            if (now - lastPoll[0] > POLL_NANOS) {
                lastPoll[0] = now;
                if (cancelled.getAsBoolean()) {
                    gone[0] = true;
                    return false;
                }
            }
            return true;
        });
        String reason;
        if (gone[0]) {
            reason = "cancelled";
        } else {
            if (!text.stopped()) {
                String rest = text.add(utf8.flush());
                rest += text.flush();
                try {
                    if (!rest.isEmpty()) sink.text(rest);
                } catch (IOException e) {
                    gone[0] = true;
                }
            }
            reason = gone[0] ? "cancelled" : text.stopped() || st.stopReason().equals("stop") ? "stop" : "length";
            // a JSON answer closed early to fit max_tokens is whole, but the limit ended it
            if (reason.equals("stop") && constraint != null && constraint.cutShort()) reason = "length";
        }
        return new Result(text.text(), prompt.length, st.generatedTokens(), reason, st.promptNanos(), st.generationNanos());
    }
}
