package dev.hearth.llama.constrain;

import dev.hearth.llama.constrain.Grammar.Chars;
import dev.hearth.llama.constrain.Grammar.Element;
import dev.hearth.llama.constrain.Grammar.Rule;

/**
 * The decimal texts of the whole numbers in a range, without leading zeros or "-0", as a grammar:
 * split by sign and digit count, then digit by digit (the usual range-to-regex construction).
 */
final class IntegerRanges {
    private IntegerRanges() {
    }

    static Rule range(long lo, long hi) {
        if (lo > hi) throw new IllegalArgumentException(lo + " > " + hi);
        Rule r = new Rule("int[" + lo + "," + hi + "]");
        if (lo < 0) r.alt(Grammar.seq("-", nonNegative(Math.max(1, -Math.min(hi, -1)), -lo)));
        if (hi >= 0) r.alt(Grammar.seq(nonNegative(Math.max(0, lo), hi)));
        return r;
    }

    private static Rule nonNegative(long a, long b) {
        Rule r = new Rule("uint[" + a + "," + b + "]");
        int la = Long.toString(a).length(), lb = Long.toString(b).length();
        for (int len = la; len <= lb; len++) {
            long x = Math.max(a, len == 1 ? 0 : pow10(len - 1));
            long y = Math.min(b, pow10(len) - 1);
            r.alt(sameLength(Long.toString(x), Long.toString(y)));
        }
        return r;
    }

    private static long pow10(int n) {
        long p = 1;
        for (int i = 0; i < n; i++) p *= 10;
        return p;
    }

    /** Digit strings of one length from x to y. */
    private static Element[] sameLength(String x, String y) {
        int n = x.length();
        char x0 = x.charAt(0), y0 = y.charAt(0);
        if (n == 1) return new Element[]{Chars.range(x0, y0)};
        String xs = x.substring(1), ys = y.substring(1);
        if (x0 == y0) return Grammar.seq(Chars.of(x0), sameLength(xs, ys));
        if (xs.chars().allMatch(c -> c == '0') && ys.chars().allMatch(c -> c == '9')) return Grammar.seq(Chars.range(x0, y0), digits(n - 1));
        Rule r = new Rule("digits");
        r.alt(Grammar.seq(Chars.of(x0), sameLength(xs, "9".repeat(n - 1))));
        if (x0 + 1 <= y0 - 1) r.alt(Grammar.seq(Chars.range(x0 + 1, y0 - 1), digits(n - 1)));
        r.alt(Grammar.seq(Chars.of(y0), sameLength("0".repeat(n - 1), ys)));
        return new Element[]{new Grammar.Ref(r)};
    }

    private static Element[] digits(int n) {
        Element[] e = new Element[n];
        for (int i = 0; i < n; i++) e[i] = Chars.range('0', '9');
        return e;
    }
}
