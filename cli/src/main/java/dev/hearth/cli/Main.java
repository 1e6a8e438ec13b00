package dev.hearth.cli;

import dev.hearth.runtime.HearthException;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/** The {@code hearth} command: dispatches to a subcommand; errors become one line and an exit status. */
public final class Main {
    interface Command {
        int run(String[] args) throws Exception;
    }

    private static final Map<String, String> HELP = new TreeMap<>();
    private static final Map<String, Command> COMMANDS = new TreeMap<>();

    static {
        add("info", "what is in a GGUF file: metadata and tensors", InfoCommand::run);
        add("run", "generate text from a prompt, streamed to stdout", RunCommand::run);
        add("chat", "talk with a model, using its chat template", ChatCommand::run);
        add("tokenize", "print a text's token ids as JSON", TokenizeCommand::run);
        add("score", "top next-token probabilities at every position (teacher forcing)", ScoreCommand::run);
        add("perplexity", "perplexity of a text file, as llama-perplexity computes it", PerplexityCommand::run);
        add("synth", "write a model of a real shape with random weights, for benchmarks", SynthCommand::run);
        add("bench", "prompt and generation tokens per second, like llama-bench", BenchCommand::run);
        add("devices", "list the devices found, with their memory", DevicesCommand::run);
        add("serve", "OpenAI-compatible HTTP server (chat, completions, streaming)", ServeCommand::run);
        add("pull", "download a GGUF model (URL or HF_REPO/FILE), resumable and checked", PullCommand::run);
        add("plan", "where each layer of a model goes (GPU or CPU), as a table", PlanCommand::run);
    }

    /** The names of the commands. */
    static java.util.Set<String> commands() {
        return java.util.Collections.unmodifiableSet(COMMANDS.keySet());
    }

    static void add(String name, String help, Command c) {
        HELP.put(name, help);
        COMMANDS.put(name, c);
    }

    public static void main(String[] args) {
        restoreStderr();
        System.exit(run(args));
    }

    /**
     * The launcher passes the JVM's stderr through a filter that drops the incubator warning the JVM
     * prints before main, and keeps the real stderr as the descriptor {@code hearth.stderr.fd}: put it
     * back on descriptor 2, so that what the program writes is not held up or reordered by the filter
     * (which then sees its input end). Where that fails, stderr stays as it is.
     */
    static void restoreStderr() {
        String fd = System.getProperty("hearth.stderr.fd");
        if (fd == null) return;
        try {
            int kept = Integer.parseInt(fd);
            java.lang.foreign.Linker l = java.lang.foreign.Linker.nativeLinker();
            var desc = java.lang.foreign.FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_INT,
                    java.lang.foreign.ValueLayout.JAVA_INT, java.lang.foreign.ValueLayout.JAVA_INT);
            var dup2 = l.downcallHandle(l.defaultLookup().find("dup2").orElseThrow(), desc);
            var close = l.downcallHandle(l.defaultLookup().find("close").orElseThrow(),
                    java.lang.foreign.FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_INT, java.lang.foreign.ValueLayout.JAVA_INT));
            System.err.flush();
            if ((int) dup2.invokeExact(kept, 2) == 2) {
                int ignored = (int) close.invokeExact(kept);
            }
        } catch (Throwable t) {
            // not Linux or macOS, or no such descriptor: the filter stays in the way
        }
    }

    static int run(String[] args) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            usage();
            return args.length == 0 ? 2 : 0;
        }
        if (args[0].equals("--version")) {
            System.out.println("hearth " + version());
            return 0;
        }
        Command c = COMMANDS.get(args[0]);
        if (c == null) {
            System.err.println("hearth: unknown command '" + args[0] + "' (commands: " + String.join(", ", COMMANDS.keySet()) + ")");
            return 2;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        try {
            return c.run(rest);
        } catch (Args.UsageException e) {
            System.err.println("hearth " + args[0] + ": " + e.getMessage());
            return 2;
        } catch (HearthException e) {
            System.err.println("hearth " + args[0] + ": " + e.getMessage());
            if (System.getenv("HEARTH_DEBUG") != null) e.printStackTrace();
            return 1;
        } catch (OutOfMemoryError e) {
            System.err.println("hearth " + args[0] + ": out of Java heap memory; set HEARTH_JAVA_OPTS=-Xmx<size> to give more");
            return 1;
        } catch (Exception | Error e) {
            System.err.println("hearth " + args[0] + ": internal error: " + e + " (set HEARTH_DEBUG=1 for details)");
            if (System.getenv("HEARTH_DEBUG") != null) e.printStackTrace();
            return 1;
        }
    }

    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "0.1.0" : v;
    }

    private static void usage() {
        StringBuilder sb = new StringBuilder("usage: hearth COMMAND [options]   (hearth COMMAND --help for its options)\n\ncommands:\n");
        HELP.forEach((k, v) -> sb.append(String.format("  %-11s %s%n", k, v)));
        System.out.print(sb);
    }

    /** Prints a command's help when asked; true if it did. */
    static boolean help(String[] args, String text) {
        for (String a : args) {
            if (a.equals("--help") || a.equals("-h")) {
                System.out.print(text.stripIndent());
                return true;
            }
        }
        return false;
    }
}
