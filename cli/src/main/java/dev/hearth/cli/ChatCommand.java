package dev.hearth.cli;

import dev.hearth.llama.Session;
import dev.hearth.llama.chat.ChatTemplate;
import dev.hearth.llama.sampling.Sampler;
import dev.hearth.llama.tokenizer.Utf8Streamer;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code hearth chat}: an interactive conversation in the model's chat format. History is kept
 * (the oldest turns are dropped when the context fills); Ctrl-C stops a reply, not the session;
 * Ctrl-C at the prompt or end of input ends it.
 */
final class ChatCommand {
    static final String HELP = """
            usage: hearth chat -m MODEL [--system TEXT] [-n MAX_REPLY_TOKENS] [sampling and model options as for run]
              type a message and press Enter; Ctrl-C stops a reply; Ctrl-D or Ctrl-C at the prompt quits
              formats: Llama 3, ChatML, Llama 2 / Mistral [INST], Zephyr, Gemma; plain User:/Assistant: otherwise
              --system TEXT          a system message to start the conversation with
              -n, --n-predict N      most tokens of one reply
            """ + RunCommand.SAMPLING_HELP + ModelOptions.HELP;

    static int run(String[] argv) throws Exception {
        if (Main.help(argv, HELP)) return 0;
        String[] spec = ModelOptions.with(RunCommand.concat(RunCommand.samplingSpec(), "system|sys", "n|n-predict"));
        Args a = new Args("chat", argv, 0, spec);
        int maxReply = a.getInt("n", -1);
        if (maxReply == 0 || maxReply < -1) throw new Args.UsageException("-n must be at least 1, or -1 for no limit");
        var sp = RunCommand.sampling(a);
        try (ModelOptions.Loaded m = ModelOptions.load(a, true)) {
            ChatTemplate tpl = ChatTemplate.detect(m.file());
            System.err.println("chat format: " + tpl.name().toLowerCase() + " | context " + m.engine().contextLength()
                    + " tokens | Ctrl-C stops a reply, Ctrl-D quits");
            List<ChatTemplate.Message> history = new ArrayList<>();
            if (a.has("system")) history.add(new ChatTemplate.Message("system", a.get("system", "")));
            Session session = new Session(m.engine());
            Sampler sampler = new Sampler(sp);
            AtomicBoolean generating = new AtomicBoolean(false);
            AtomicBoolean stop = new AtomicBoolean(false);
            try {
                sun.misc.Signal.handle(new sun.misc.Signal("INT"), sig -> {
                    if (generating.get()) {
                        stop.set(true);
                    } else {
                        System.out.println();
                        System.exit(0);
                    }
                });
            } catch (IllegalArgumentException e) {
                // no SIGINT on this platform: Ctrl-C ends the process
            }
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            while (true) {
                System.out.print("> ");
                System.out.flush();
                String line = in.readLine();
                if (line == null) break;
                if (line.isBlank()) continue;
                history.add(new ChatTemplate.Message("user", line));
                int[] ids = fit(m, tpl, history);
                if (ids == null) {
                    System.err.println("(that message alone is longer than the context; try a larger --ctx)");
                    history.removeLast();
                    continue;
                }
                StringBuilder reply = new StringBuilder();
                Utf8Streamer utf8 = new Utf8Streamer();
                stop.set(false);
                generating.set(true);
                int room = m.engine().contextLength() - ids.length;
                int limit = maxReply < 0 ? room : Math.min(maxReply, room);
                sampler.reset();
                session.generate(ids, limit, sampler, t -> m.tokenizer().endOfGeneration().contains(t), t -> {
                    String s = utf8.accept(m.tokenizer().tokenBytes(t));
                    reply.append(s);
                    System.out.print(s);
                    System.out.flush();
                    for (String stopText : tpl.stopStrings()) if (reply.toString().endsWith(stopText)) return false;
                    return !stop.get();
                });
                generating.set(false);
                String tail = utf8.flush();
                System.out.print(tail);
                reply.append(tail);
                System.out.println();
                String text = reply.toString();
                for (String stopText : tpl.stopStrings()) if (text.endsWith(stopText)) text = text.substring(0, text.length() - stopText.length());
                history.add(new ChatTemplate.Message("assistant", text));
            }
        }
        return 0;
    }

    /** The conversation's tokens, dropping the oldest turns (not the system message) until it fits with room to reply. */
    private static int[] fit(ModelOptions.Loaded m, ChatTemplate tpl, List<ChatTemplate.Message> history) {
        int ctx = m.engine().contextLength();
        while (true) {
            int[] ids = m.tokenizer().encode(tpl.render(history), true, true);
            if (ids.length + Math.min(256, ctx / 4) <= ctx) return ids;
            int first = !history.isEmpty() && history.getFirst().role().equals("system") ? 1 : 0;
            if (history.size() - first <= 1) return ids.length < ctx ? ids : null;
            history.remove(first);
        }
    }
}
