package dev.hearth.llama.constrain;

import java.util.ArrayList;
import java.util.List;

/**
 * A context-free grammar over Unicode code points, the form JSON schemas compile to. A rule is a
 * list of alternatives, each a sequence of elements: a set of code points, a reference to a rule,
 * or the body of a JSON string (plain characters and two-character escapes, with a length range,
 * counted in the matching state rather than unrolled into rules). Rules may refer to themselves
 * (nested JSON), but never as their first element (no left recursion).
 */
final class Grammar {
    private Grammar() {
    }

    sealed interface Element permits Chars, Ref, StringBody {
    }

    /** One code point from sorted, disjoint inclusive ranges {@code lo0, hi0, lo1, hi1, ...}. */
    record Chars(int[] ranges) implements Element {
        static Chars of(int cp) {
            return new Chars(new int[]{cp, cp});
        }

        static Chars range(int lo, int hi) {
            return new Chars(new int[]{lo, hi});
        }

        boolean contains(int cp) {
            int[] r = ranges;
            for (int i = 0; i < r.length; i += 2) {
                if (cp < r[i]) return false;
                if (cp <= r[i + 1]) return true;
            }
            return false;
        }

        boolean containsAll(int lo, int hi) {
            int[] r = ranges;
            for (int i = 0; i < r.length; i += 2) if (r[i] <= lo && hi <= r[i + 1]) return true;
            return false;
        }

        boolean intersects(int lo, int hi) {
            int[] r = ranges;
            for (int i = 0; i < r.length; i += 2) if (r[i] <= hi && lo <= r[i + 1]) return true;
            return false;
        }
    }

    /** A reference to a rule (which may be filled in after the reference is made). */
    record Ref(Rule rule) implements Element {
    }

    /**
     * The characters between a JSON string's quotes: {@code min} to {@code max} characters, each a
     * plain character (U+0020 and above except '"' and '\') or one of the escapes \" \\ \/ \b \f \n \r \t.
     */
    record StringBody(int min, int max) implements Element {
        static boolean plain(int cp) {
            return cp >= 0x20 && cp != '"' && cp != '\\' && (cp < 0xD800 || cp > 0xDFFF);
        }

        static boolean escape(int cp) {
            return cp == '"' || cp == '\\' || cp == '/' || cp == 'b' || cp == 'f' || cp == 'n' || cp == 'r' || cp == 't';
        }
    }

    /** Rules a compilation on this thread may still create (null: no limit), so that a huge schema fails fast. */
    static final ThreadLocal<int[]> BUDGET = new ThreadLocal<>();

    /** More rules than {@link #BUDGET} allows. */
    static final class TooLarge extends RuntimeException {
        TooLarge() {
            super(null, null, false, false);
        }
    }

    /** A rule: alternatives of element sequences (an empty sequence matches nothing). */
    static final class Rule {
        final String name;
        final List<Element[]> alternatives = new ArrayList<>();

        Rule(String name) {
            this.name = name;
            int[] budget = BUDGET.get();
            if (budget != null && --budget[0] < 0) throw new TooLarge();
        }

        Rule alt(Element... seq) {
            alternatives.add(seq);
            return this;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** The code points of {@code text} as a sequence of single-character elements. */
    static Element[] literal(String text) {
        return text.codePoints().mapToObj(Chars::of).toArray(Element[]::new);
    }

    /** Concatenation of elements and element sequences. */
    static Element[] seq(Object... parts) {
        List<Element> out = new ArrayList<>();
        for (Object p : parts) {
            switch (p) {
                case Element e -> out.add(e);
                case Element[] es -> out.addAll(List.of(es));
                case Rule r -> out.add(new Ref(r));
                case String s -> out.addAll(List.of(literal(s)));
                default -> throw new IllegalArgumentException(String.valueOf(p));
            }
        }
        return out.toArray(Element[]::new);
    }
}
