package dev.hearth.cli;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Every option a command accepts (its Args spec) appears in its --help: each option under one of
 * its names at least (-x for a one-letter name, --name otherwise).
 */
class HelpListsOptionsTest {
    /** The options of {@code spec} that {@code help} does not mention. */
    static List<String> missing(List<String> spec, String help) {
        List<String> missing = new ArrayList<>();
        for (String entry : spec) {
            String[] names = entry.replace("!", "").split("\\|");
            boolean found = false;
            for (String n : names) {
                String opt = (n.length() == 1 ? "-" : "--") + n;
                if (Pattern.compile("(^|[\\s,\\[(|/])" + Pattern.quote(opt) + "(?![\\w-])", Pattern.MULTILINE).matcher(help).find()) found = true;
            }
            if (!found) missing.add((names[0].length() == 1 ? "-" : "--") + names[0]);
        }
        return missing;
    }

    /** The spec Args saw when {@code argv} ran into an option that no command knows. */
    private static List<String> specOf(String... argv) {
        String[] withUnknown = java.util.Arrays.copyOf(argv, argv.length + 1);
        withUnknown[argv.length] = "--no-such-option-anywhere";
        CliOutput o = CliOutput.main(withUnknown);
        assertEquals(2, o.rc(), String.join(" ", argv) + ": " + o.err());
        assertFalse(o.err().contains("internal error"), o.err());
        List<String> spec = Args.lastSpec();
        assertNotNull(spec, String.join(" ", argv));
        return spec;
    }

    @Test
    void everyCommandsHelpListsEveryOptionItTakes() {
        List<String> problems = new ArrayList<>();
        for (String cmd : Main.commands()) {
            CliOutput help = CliOutput.main(cmd, "--help");
            assertEquals(0, help.rc(), cmd);
            List<String> m = missing(specOf(cmd), help.out());
            if (!m.isEmpty()) problems.add("hearth " + cmd + " --help lacks " + m);
        }
        // bench --kernels and --compare: their own options in their help, and bench's help names them
        CliOutput kernels = CliOutput.main("bench", "--kernels", "--help");
        List<String> m = missing(specOf("bench", "--kernels"), kernels.out());
        if (!m.isEmpty()) problems.add("hearth bench --kernels --help lacks " + m);
        List<String> entry = missing(List.of("kernels!", "compare!", "list!"), CliOutput.main("bench", "--help").out());
        if (!entry.isEmpty()) problems.add("hearth bench --help lacks " + entry);
        assertEquals(List.of(), problems);
    }

    @Test
    void theCheckSeesAMissingOption() {
        assertEquals(List.of("--split"), missing(List.of("m|model", "split", "ngl|gpu-layers"), "  -m FILE\n  --gpu-layers N\n  --splitter"));
    }
}
