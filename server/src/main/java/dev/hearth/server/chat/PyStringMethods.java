package dev.hearth.server.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Python's string methods that chat templates call ({@code content.startswith('<think>')},
 * {@code .split('</think>')[-1].lstrip('\n')}, {@code .upper()}, ...), which Jinjava lacks: the
 * template's tags are rewritten to call filters of the same meaning ({@code x.split(a)} becomes
 * {@code x|py_split(a)}), and the filters are registered here.
 */
final class PyStringMethods {
    private static final Pattern CALL = Pattern.compile("\\.(startswith|endswith|split|rsplit|strip|lstrip|rstrip|upper|lower|title|capitalize|replace)\\(");
    private static final Pattern TAG = Pattern.compile("\\{\\{.*?}}|\\{%.*?%}", Pattern.DOTALL);

    private PyStringMethods() {
    }

    /**
     * The template with Python string method calls inside its tags turned into filter calls:
     * {@code RECEIVER.split(ARGS)} becomes {@code (RECEIVER|py_split(ARGS))}, parenthesized so
     * that a subscript or another call may follow (Jinjava allows neither after a filter).
     */
    static String rewrite(String source) {
        Matcher tags = TAG.matcher(source);
        StringBuilder out = new StringBuilder();
        while (tags.find()) tags.appendReplacement(out, Matcher.quoteReplacement(rewriteTag(tags.group())));
        tags.appendTail(out);
        return out.toString();
    }

    private static String rewriteTag(String tag) {
        String t = tag;
        int searchFrom = 0;
        while (true) {
            Matcher m = CALL.matcher(t);
            if (!m.find(searchFrom)) return t;
            int dot = m.start();
            int open = m.end() - 1;
            int start = receiverStart(t, dot);
            int close = matching(t, open);
            if (start == dot || close < 0) {
                searchFrom = m.end();
                continue;
            }
            String replaced = "(" + t.substring(start, dot) + "|py_" + m.group(1) + t.substring(open, close + 1) + ")";
            t = t.substring(0, start) + replaced + t.substring(close + 1);
            searchFrom = start;
        }
    }

    /** Where the expression ending just before {@code end} begins: names, dots, literals, (...) and [...]. */
    private static int receiverStart(String t, int end) {
        int i = end;
        while (i > 0) {
            char c = t.charAt(i - 1);
            if (Character.isLetterOrDigit(c) || c == '_' || c == '.') {
                i--;
            } else if (c == ')' || c == ']') {
                int o = matchingBack(t, i - 1);
                if (o < 0) return end;
                i = o;
            } else if (c == '\'' || c == '"') {
                int q = t.lastIndexOf(c, i - 2);
                if (q < 0) return end;
                i = q;
            } else {
                break;
            }
        }
        return i;
    }

    /** The index of the bracket closing the one at {@code open}, skipping string literals; -1 if none. */
    private static int matching(String t, int open) {
        int depth = 0;
        for (int i = open; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c == '\'' || c == '"') {
                int q = i + 1;
                while (q < t.length() && t.charAt(q) != c) q += t.charAt(q) == '\\' ? 2 : 1;
                i = q;
            } else if (c == '(' || c == '[') {
                depth++;
            } else if (c == ')' || c == ']') {
                if (--depth == 0) return i;
            }
        }
        return -1;
    }

    /** The index of the bracket opening the one at {@code close}, skipping string literals; -1 if none. */
    private static int matchingBack(String t, int close) {
        int depth = 0;
        for (int i = close; i >= 0; i--) {
            char c = t.charAt(i);
            if (c == '\'' || c == '"') {
                int q = t.lastIndexOf(c, i - 1);
                if (q < 0) return -1;
                i = q;
            } else if (c == ')' || c == ']') {
                depth++;
            } else if (c == '(' || c == '[') {
                if (--depth == 0) return i;
            }
        }
        return -1;
    }

    static void register(Jinjava j) {
        add(j, "startswith", (s, a) -> anyOf(a, 0, p -> s.startsWith(p)));
        add(j, "endswith", (s, a) -> anyOf(a, 0, p -> s.endsWith(p)));
        add(j, "split", (s, a) -> split(s, str(a, 0), a.length > 1 ? ((Number) a[1]).intValue() : -1));
        add(j, "rsplit", (s, a) -> rsplit(s, str(a, 0), a.length > 1 ? ((Number) a[1]).intValue() : -1));
        add(j, "strip", (s, a) -> rstrip(lstrip(s, str(a, 0)), str(a, 0)));
        add(j, "lstrip", (s, a) -> lstrip(s, str(a, 0)));
        add(j, "rstrip", (s, a) -> rstrip(s, str(a, 0)));
        add(j, "upper", (s, a) -> s.toUpperCase(Locale.ROOT));
        add(j, "lower", (s, a) -> s.toLowerCase(Locale.ROOT));
        add(j, "capitalize", (s, a) -> s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT));
        add(j, "title", (s, a) -> title(s));
        add(j, "replace", (s, a) -> replace(s, str(a, 0), str(a, 1), a.length > 2 ? ((Number) a[2]).intValue() : -1));
    }

    private static void add(Jinjava j, String name, BiFunction<String, Object[], Object> f) {
        j.registerFilter(new Filter() {
            @Override
            public String getName() {
                return "py_" + name;
            }

            @Override
            public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
                return f.apply(var == null ? "" : var.toString(), args);
            }

            @Override
            public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
                return f.apply(var == null ? "" : var.toString(), args == null ? new Object[0] : args);
            }
        });
    }

    private static String str(Object[] a, int i) {
        return i < a.length && a[i] != null ? a[i].toString() : null;
    }

    private static boolean anyOf(Object[] a, int i, java.util.function.Predicate<String> test) {
        if (i >= a.length || a[i] == null) return false;
        if (a[i] instanceof List<?> l) {
            for (Object o : l) if (test.test(String.valueOf(o))) return true;
            return false;
        }
        return test.test(a[i].toString());
    }

    static List<String> split(String s, String sep, int max) {
        List<String> out = new ArrayList<>();
        if (sep == null) {
            int i = 0;
            int n = s.length();
            while (true) {
                while (i < n && Character.isWhitespace(s.charAt(i))) i++;
                if (i >= n) break;
                if (max >= 0 && out.size() == max) {
                    out.add(s.substring(i).stripTrailing());
                    break;
                }
                int j = i;
                while (j < n && !Character.isWhitespace(s.charAt(j))) j++;
                out.add(s.substring(i, j));
                i = j;
            }
            return out;
        }
        if (sep.isEmpty()) throw new IllegalArgumentException("empty separator");
        int from = 0;
        while (max < 0 || out.size() < max) {
            int at = s.indexOf(sep, from);
            if (at < 0) break;
            out.add(s.substring(from, at));
            from = at + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    static List<String> rsplit(String s, String sep, int max) {
        if (sep == null || max < 0) return split(s, sep, max);
        List<String> out = new ArrayList<>();
        int end = s.length();
        while (out.size() < max) {
            int at = s.lastIndexOf(sep, end - sep.length());
            if (at < 0 || end - sep.length() < 0) break;
            out.addFirst(s.substring(at + sep.length(), end));
            end = at;
        }
        out.addFirst(s.substring(0, end));
        return out;
    }

    private static boolean stripped(char c, String chars) {
        return chars == null ? Character.isWhitespace(c) : chars.indexOf(c) >= 0;
    }

    static String lstrip(String s, String chars) {
        int i = 0;
        while (i < s.length() && stripped(s.charAt(i), chars)) i++;
        return s.substring(i);
    }

    static String rstrip(String s, String chars) {
        int j = s.length();
        while (j > 0 && stripped(s.charAt(j - 1), chars)) j--;
        return s.substring(0, j);
    }

    private static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean prevLetter = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            sb.append(prevLetter ? Character.toLowerCase(c) : Character.toUpperCase(c));
            prevLetter = Character.isLetter(c);
        }
        return sb.toString();
    }

    private static String replace(String s, String old, String with, int count) {
        if (old == null || with == null) return s;
        if (count < 0 || old.isEmpty()) return s.replace(old, with);
        StringBuilder sb = new StringBuilder();
        int from = 0;
        for (int k = 0; k < count; k++) {
            int at = s.indexOf(old, from);
            if (at < 0) break;
            sb.append(s, from, at).append(with);
            from = at + old.length();
        }
        return sb.append(s.substring(from)).toString();
    }
}
