package dev.hearth.llama.constrain;

import dev.hearth.llama.constrain.Grammar.Chars;
import dev.hearth.llama.constrain.Grammar.Element;
import dev.hearth.llama.constrain.Grammar.Rule;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A practical subset of ECMAScript regular expressions as a grammar for the inside of a JSON
 * string: literals, escapes (\d \w \s \D \W \S, \n \t \r \f, \\uXXXX, escaped punctuation), classes
 * with ranges and negation, '.', groups ((...), (?:...), (?<name>...)), alternation, the
 * quantifiers * + ? {n} {n,} {n,m} (lazy ones too) and ^ $ at the ends. The whole string matches
 * the pattern (a whole match is also a match anywhere); unbounded repetition stops after
 * {@code maxRepeat}. Characters that JSON must escape come out as escapes ('"' as \", a newline
 * as \n); other control characters are left out. Anything else is an IllegalArgumentException
 * saying what is not supported.
 */
final class RegexCompiler {
    private static final int MAX = 0x10FFFF;
    private final String p;
    private final int maxRepeat;
    private int i;

    RegexCompiler(String pattern, int maxRepeat) {
        this.p = pattern;
        this.maxRepeat = maxRepeat;
    }

    Rule compile() {
        Rule r = alternation(true);
        if (i < p.length()) throw new IllegalArgumentException("unbalanced ')' at " + i + " in pattern " + p);
        return r;
    }

    private Rule alternation(boolean top) {
        Rule r = new Rule("regex");
        do {
            r.alt(concatenation(top));
        } while (i < p.length() && p.charAt(i) == '|' && ++i > 0);
        return r;
    }

    private Element[] concatenation(boolean top) {
        List<Element> out = new ArrayList<>();
        if (top && i < p.length() && p.charAt(i) == '^') i++;
        while (i < p.length()) {
            char c = p.charAt(i);
            if (c == '|' || c == ')') break;
            if (c == '$' && top && (i + 1 == p.length() || p.charAt(i + 1) == '|')) {
                i++;
                continue;
            }
            Rule atom = atom();
            out.add(new Grammar.Ref(quantified(atom)));
        }
        return out.toArray(Element[]::new);
    }

    private Rule quantified(Rule atom) {
        if (i >= p.length()) return atom;
        char c = p.charAt(i);
        int min, max;
        if (c == '*') { min = 0; max = maxRepeat; i++; }
        else if (c == '+') { min = 1; max = maxRepeat; i++; }
        else if (c == '?') { min = 0; max = 1; i++; }
        else if (c == '{' && p.indexOf('}', i) > 0 && p.substring(i + 1, p.indexOf('}', i)).matches("\\d+(,\\d*)?")) {
            String body = p.substring(i + 1, p.indexOf('}', i));
            i = p.indexOf('}', i) + 1;
            int comma = body.indexOf(',');
            min = Integer.parseInt(comma < 0 ? body : body.substring(0, comma));
            max = comma < 0 ? min : comma == body.length() - 1 ? Math.max(min, maxRepeat) : Integer.parseInt(body.substring(comma + 1));
            if (min > max) throw new IllegalArgumentException("the quantifier {" + body + "} has min above max");
            if (max > 10_000) throw new IllegalArgumentException("the quantifier {" + body + "} is too large (at most 10000)");
        } else {
            return atom;
        }
        if (i < p.length() && p.charAt(i) == '?') i++; // lazy: the same strings
        else if (i < p.length() && p.charAt(i) == '+') throw new IllegalArgumentException("possessive quantifiers are not supported");
        Rule q = SchemaCompiler.repeat(atom, min, max);
        if (i < p.length() && "*+?{".indexOf(p.charAt(i)) >= 0 && !(p.charAt(i) == '{' && !p.substring(i).matches("\\{\\d+(,\\d*)?}.*"))) {
            throw new IllegalArgumentException("a quantifier follows a quantifier at " + i);
        }
        return q;
    }

    private Rule atom() {
        char c = p.charAt(i);
        switch (c) {
            case '(' -> {
                i++;
                if (p.startsWith("?:", i)) i += 2;
                else if (p.startsWith("?<", i) && i + 2 < p.length() && p.charAt(i + 2) != '=' && p.charAt(i + 2) != '!') {
                    int end = p.indexOf('>', i);
                    if (end < 0) throw new IllegalArgumentException("unterminated group name");
                    i = end + 1;
                } else if (i < p.length() && p.charAt(i) == '?') {
                    throw new IllegalArgumentException("lookaround and inline flags (" + p.substring(i - 1, Math.min(p.length(), i + 3)) + "...) are not supported");
                }
                Rule r = alternation(false);
                if (i >= p.length() || p.charAt(i) != ')') throw new IllegalArgumentException("unbalanced '(' in pattern " + p);
                i++;
                return r;
            }
            case '[' -> {
                return chars(charClass());
            }
            case '.' -> {
                i++;
                return chars(subtract(new int[]{0, MAX}, new int[]{'\n', '\n', '\r', '\r'}));
            }
            case '\\' -> {
                i++;
                return chars(escape(false));
            }
            case '*', '+', '?', '{' -> throw new IllegalArgumentException("nothing to repeat at " + i + " in pattern " + p);
            case '^', '$' -> throw new IllegalArgumentException("anchors are supported only at the ends of the pattern");
            default -> {
                int cp = p.codePointAt(i);
                i += Character.charCount(cp);
                return chars(new int[]{cp, cp});
            }
        }
    }

    private int[] charClass() {
        i++; // [
        boolean negate = i < p.length() && p.charAt(i) == '^';
        if (negate) i++;
        List<int[]> parts = new ArrayList<>();
        boolean first = true;
        while (i < p.length() && (p.charAt(i) != ']' || first)) {
            first = false;
            int[] lo = classAtom();
            if (lo.length == 2 && lo[0] == lo[1] && i + 1 < p.length() && p.charAt(i) == '-' && p.charAt(i + 1) != ']') {
                i++;
                int[] hi = classAtom();
                if (hi.length != 2 || hi[0] != hi[1] || hi[0] < lo[0]) throw new IllegalArgumentException("a bad range in a character class of " + p);
                parts.add(new int[]{lo[0], hi[0]});
            } else {
                parts.add(lo);
            }
        }
        if (i >= p.length()) throw new IllegalArgumentException("unterminated character class in " + p);
        i++; // ]
        int[] set = new int[0];
        for (int[] part : parts) set = union(set, part);
        return negate ? subtract(new int[]{0, MAX}, set) : set;
    }

    private int[] classAtom() {
        if (p.charAt(i) == '\\') {
            i++;
            return escape(true);
        }
        int cp = p.codePointAt(i);
        i += Character.charCount(cp);
        return new int[]{cp, cp};
    }

    private int[] escape(boolean inClass) {
        if (i >= p.length()) throw new IllegalArgumentException("the pattern ends in a backslash");
        char c = p.charAt(i++);
        int[] digit = {'0', '9'};
        int[] word = {'0', '9', 'A', 'Z', '_', '_', 'a', 'z'};
        int[] space = {'\t', '\r', ' ', ' '};
        return switch (c) {
            case 'd' -> digit;
            case 'D' -> subtract(new int[]{0, MAX}, digit);
            case 'w' -> word;
            case 'W' -> subtract(new int[]{0, MAX}, word);
            case 's' -> space;
            case 'S' -> subtract(new int[]{0, MAX}, space);
            case 'n' -> new int[]{'\n', '\n'};
            case 't' -> new int[]{'\t', '\t'};
            case 'r' -> new int[]{'\r', '\r'};
            case 'f' -> new int[]{'\f', '\f'};
            case 'v' -> new int[]{0x0B, 0x0B};
            case 'u' -> {
                if (i + 4 > p.length() || !p.substring(i, i + 4).matches("[0-9a-fA-F]{4}")) throw new IllegalArgumentException("a bad \\u escape in " + p);
                int cp = Integer.parseInt(p.substring(i, i + 4), 16);
                i += 4;
                yield new int[]{cp, cp};
            }
            case 'b' -> {
                if (inClass) yield new int[]{8, 8};
                throw new IllegalArgumentException("word boundaries (\\b) are not supported");
            }
            default -> {
                if (Character.isLetterOrDigit(c)) throw new IllegalArgumentException("the escape \\" + c + " is not supported");
                yield new int[]{c, c};
            }
        };
    }

    /** A rule for one character of {@code set}, written as JSON string content. */
    private static Rule chars(int[] set) {
        Rule r = new Rule("chars");
        int[] plain = subtract(set, new int[]{0, 0x1F, '"', '"', '\\', '\\', 0xD800, 0xDFFF});
        if (plain.length > 0) r.alt(new Chars(plain));
        String[][] escapes = {{"\"", "\\\""}, {"\\", "\\\\"}, {"\n", "\\n"}, {"\t", "\\t"}, {"\r", "\\r"}, {"\b", "\\b"}, {"\f", "\\f"}};
        for (String[] e : escapes) {
            if (new Chars(set).contains(e[0].charAt(0))) r.alt(Grammar.literal(e[1]));
        }
        if (r.alternatives.isEmpty()) throw new IllegalArgumentException("a character class that allows no character a JSON string can hold");
        return r;
    }

    static int[] union(int[] a, int[] b) {
        int[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        int n = all.length / 2;
        Integer[] order = new Integer[n];
        for (int k = 0; k < n; k++) order[k] = k;
        Arrays.sort(order, (x, y) -> Integer.compare(all[2 * x], all[2 * y]));
        List<Integer> out = new ArrayList<>();
        for (int k : order) {
            int lo = all[2 * k], hi = all[2 * k + 1];
            if (!out.isEmpty() && lo <= out.getLast() + 1) out.set(out.size() - 1, Math.max(out.getLast(), hi));
            else {
                out.add(lo);
                out.add(hi);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** {@code a} without {@code b} (both sorted and disjoint after a union). */
    static int[] subtract(int[] a, int[] b) {
        a = union(a, new int[0]);
        b = union(b, new int[0]);
        List<Integer> out = new ArrayList<>();
        for (int k = 0; k < a.length; k += 2) {
            int lo = a[k], hi = a[k + 1];
            for (int j = 0; j < b.length && lo <= hi; j += 2) {
                if (b[j + 1] < lo || b[j] > hi) continue;
                if (b[j] > lo) {
                    out.add(lo);
                    out.add(b[j] - 1);
                }
                lo = b[j + 1] + 1;
            }
            if (lo <= hi) {
                out.add(lo);
                out.add(hi);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }
}
