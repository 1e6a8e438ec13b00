package dev.hearth.bench.kernels;

import dev.hearth.runtime.HearthException;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which kernel cases a run takes: ops, types, shape families and token counts, each a set where
 * null means the default. By default: the "1b" and "8b" families (the mixture-of-experts families
 * "mixtral" and "qwen3-30b-a3b" when named), every op, one token (the
 * bandwidth-bound generation step; the 512-token cases take seconds a run on a small CPU, and
 * a whole sweep of them a quarter of an hour), and for mul_mat the {@link KernelCases#DEFAULT_TYPES}. "all" among the types, families or
 * tokens lifts that limit ("ops" adds the conformance cases).
 */
public record Selection(Set<String> ops, Set<String> types, Set<String> families, Set<Integer> tokens) {
    public static final Selection DEFAULT = new Selection(null, null, null, null);
    /** The token counts a run takes when none are named. */
    public static final Set<Integer> DEFAULT_TOKENS = Set.of(1);

    /** Parses the comma-separated option values (each null where not given) and checks them. */
    public static Selection parse(String ops, String types, String families, String tokens) {
        Set<String> o = words(ops);
        Set<String> ty = words(types);
        Set<String> f = words(families);
        Set<Integer> t = null;
        Set<String> knownOps = new TreeSet<>();
        Set<String> knownTypes = new TreeSet<>();
        for (KernelCase c : KernelCases.all()) {
            knownOps.add(c.op());
            knownTypes.add(c.typeLabel());
        }
        if (o != null) {
            for (String op : o) {
                if (!knownOps.contains(op)) throw new HearthException("--op " + op + ": no such op (ops: " + String.join(", ", knownOps) + ")");
            }
        }
        if (ty != null) {
            for (String type : ty) {
                if (!type.equals("all") && !knownTypes.contains(type)) {
                    throw new HearthException("--type " + type + ": no case has this type (types: all, " + String.join(", ", knownTypes) + ")");
                }
            }
        }
        if (f != null) {
            for (String fam : f) {
                if (!Set.of("1b", "8b", "mixtral", "qwen3-30b-a3b", "ops", "all").contains(fam)) {
                    throw new HearthException("--shape " + fam + ": use 1b, 8b, mixtral, qwen3-30b-a3b, ops or all");
                }
            }
        }
        if (tokens != null && !tokens.trim().equalsIgnoreCase("all")) {
            t = new LinkedHashSet<>();
            for (String s : tokens.split(",")) {
                try {
                    t.add(Integer.parseInt(s.trim()));
                } catch (NumberFormatException e) {
                    throw new HearthException("--tokens takes whole numbers separated by commas (1,512) or all, not '" + tokens + "'");
                }
            }
        }
        if (tokens != null && t == null) t = Set.of(); // all
        return new Selection(o, ty, f, t);
    }

    private static Set<String> words(String s) {
        if (s == null) return null;
        Set<String> out = new LinkedHashSet<>();
        for (String w : s.split(",")) if (!w.isBlank()) out.add(w.trim().toLowerCase(Locale.ROOT));
        return out.isEmpty() ? null : out;
    }

    public boolean matches(KernelCase c) {
        if (ops != null && !ops.contains(c.op())) return false;
        boolean allFamilies = families != null && families.contains("all");
        if (!allFamilies && !(families == null ? Set.of("1b", "8b") : families).contains(c.family())) return false;
        Set<Integer> tk = tokens == null ? DEFAULT_TOKENS : tokens;
        if (!tk.isEmpty() && c.tokens() >= 0 && !tk.contains(c.tokens())) return false;
        if (types == null) {
            return !c.op().startsWith("mul_mat") || c.family().equals("ops") || KernelCases.DEFAULT_TYPES.contains(c.type());
        }
        return types.contains("all") || types.contains(c.typeLabel());
    }

    /** The cases of {@code cases} this selection takes, in order. */
    public List<KernelCase> filter(List<KernelCase> cases) {
        return cases.stream().filter(this::matches).toList();
    }

    /** The default types, as labels (for help texts). */
    public static String defaultTypes() {
        return String.join(",", KernelCases.DEFAULT_TYPES.stream().map(t -> t.name().toLowerCase(Locale.ROOT)).toList());
    }
}
