package dev.hearth.llama.constrain;

import dev.hearth.llama.constrain.Grammar.Chars;
import dev.hearth.llama.constrain.Grammar.Element;
import dev.hearth.llama.constrain.Grammar.Ref;
import dev.hearth.llama.constrain.Grammar.Rule;
import dev.hearth.llama.constrain.Grammar.StringBody;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The fewest bytes that finish a match of a grammar from a given state: per rule by a fixed point
 * over its alternatives, per sequence suffix as sums. The constraint uses it to close the JSON
 * before the token limit runs out.
 */
final class MinLength {
    private static final int INF = Integer.MAX_VALUE / 4;
    private final Map<Rule, Integer> rules = new IdentityHashMap<>();
    private final Map<Element[], int[]> suffixes = new ConcurrentHashMap<>(); // arrays hash by identity

    MinLength(Rule root) {
        ArrayDeque<Rule> todo = new ArrayDeque<>();
        todo.add(root);
        rules.put(root, INF);
        while (!todo.isEmpty()) {
            for (Element[] alt : todo.poll().alternatives) {
                for (Element e : alt) {
                    if (e instanceof Ref r && !rules.containsKey(r.rule())) {
                        rules.put(r.rule(), INF);
                        todo.add(r.rule());
                    }
                }
            }
        }
        boolean changed = true;
        while (changed) {
            changed = false;
            for (var entry : rules.entrySet()) {
                int best = INF;
                for (Element[] alt : entry.getKey().alternatives) best = Math.min(best, sum(alt, 0));
                if (best < entry.getValue()) {
                    entry.setValue(best);
                    changed = true;
                }
            }
        }
    }

    private int of(Element e) {
        return switch (e) {
            case Chars c -> new String(Character.toChars(c.ranges()[0])).getBytes(StandardCharsets.UTF_8).length;
            case StringBody s -> s.min();
            case Ref r -> rules.getOrDefault(r.rule(), INF);
        };
    }

    private int sum(Element[] seq, int from) {
        long total = 0;
        for (int i = from; i < seq.length; i++) total += of(seq[i]);
        return (int) Math.min(total, INF);
    }

    /** Fewest bytes to match {@code seq} from {@code pos} on. */
    int suffix(Element[] seq, int pos) {
        int[] s = suffixes.computeIfAbsent(seq, q -> {
            int[] a = new int[q.length + 1];
            for (int i = q.length - 1; i >= 0; i--) a[i] = (int) Math.min((long) a[i + 1] + of(q[i]), INF);
            return a;
        });
        return s[pos];
    }

    /** Fewest bytes that finish a match from {@code state}. */
    int distance(MatchState state) {
        int best = INF;
        for (MatchState.Frame f : state.frames) {
            if (f == MatchState.END) return state.need;
            long d;
            if (f.seq[f.pos] instanceof StringBody s) d = (f.escape ? 1 : 0) + Math.max(0, s.min() - f.count) + suffix(f.seq, f.pos + 1);
            else d = suffix(f.seq, f.pos);
            for (MatchState.Frame p = f.next; p != null && d < INF; p = p.next) d += suffix(p.seq, p.pos);
            best = (int) Math.min(best, d);
        }
        return state.need + best; // inside a character: its last bytes, then as if it were not counted (an upper bound)
    }
}
