package dev.hearth.server.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.Filter;

import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where Jinjava and Python's Jinja2 (as transformers sets it up) differ on what chat templates
 * use, made to agree: some by rewriting the template's tags before Jinjava parses them, the rest
 * by filters and tests registered in place of Jinjava's.
 * <ul>
 * <li>lstrip_blocks: Jinja2 strips the whitespace before a block tag only where it begins a line
 * (done here; Jinjava's own is off).</li>
 * <li>{@code not x is defined} is {@code not (x is defined)} in Jinja2; Jinjava reads
 * {@code (not x) is defined}. The tags are rewritten with the parentheses.</li>
 * <li>A keyword argument whose value has a filter, {@code namespace(n=messages|length - 1)}:
 * Jinjava applies the filter to the whole {@code n=messages} pair. The value is parenthesized.</li>
 * <li>{@code tojson} is transformers' {@code json.dumps(x, ensure_ascii=False, indent=..,
 * separators=.., sort_keys=..)}: Python's spacing (", " and ": "), no HTML escaping.</li>
 * <li>{@code indent(width, first=false, blank=false)} as Jinja2's (Jinjava calls it indentfirst).</li>
 * <li>{@code is iterable} is true of a string, as in Python.</li>
 * <li>{@code not a in b} likewise becomes {@code not (a in b)}.</li>
 * <li>{@code loop.previtem} and {@code loop.nextitem}, which Jinjava lacks, become subscripts of
 * the loop's iterable (where the loop has no filter).</li>
 * <li>{@code x[::-1]} (Jinjava has no slice step) becomes {@code (x|reverse|list)}.</li>
 * <li>{@code mapping|items}: the filter Jinjava lacks, pairs for {@code for k, v in ...}.</li>
 * </ul>
 */
final class Jinja2Compat {
    private static final Pattern TAG = Pattern.compile("\\{\\{.*?}}|\\{%.*?%}", Pattern.DOTALL);
    /** {@code not EXPR is [not] TEST}, EXPR a name with attributes and subscripts. */
    private static final Pattern NOT_IS = Pattern.compile(
            "\\bnot(\\s+)([A-Za-z_][\\w]*(?:\\.[A-Za-z_]\\w*|\\[[^\\]\\[]*])*)(\\s+is\\s+(?:not\\s+)?[A-Za-z_]\\w*)\\b(?!\\s*\\()");

    /** {@code not EXPR in EXPR}: Jinja2 reads not (a in b). */
    private static final Pattern NOT_IN = Pattern.compile(
            "\\bnot(\\s+)([A-Za-z_]\\w*(?:\\.[A-Za-z_]\\w*|\\[[^\\]\\[]*])*)(\\s+in\\s+[A-Za-z_]\\w*(?:\\.[A-Za-z_]\\w*|\\[[^\\]\\[]*])*)(?![\\w.(\\[|])");
    /** {@code not EXPR|filter == EXPR}: Jinja2 reads not (a|f == b); Jinjava applies not first. */
    private static final Pattern NOT_CMP = Pattern.compile(
            "\\bnot(\\s+)([A-Za-z_]\\w*(?:\\.[A-Za-z_]\\w*|\\[[^\\]\\[]*])*(?:\\s*\\|\\s*[A-Za-z_]\\w*)*)(\\s*(?:==|!=|<=|>=|<|>)\\s*[\\w.]+)");
    /**
     * {@code x.items} not called: on a dict Jinja2 finds the method (no key lookup), a value with
     * no attributes, defined and not iterable; Jinjava would find the key "items".
     */
    private static final Pattern ITEMS_ATTR = Pattern.compile(
            "\\b([A-Za-z_]\\w*(?:\\.[A-Za-z_]\\w*|\\[[^\\]\\[]*])*)\\.items\\b(?!\\s*\\()");
    private static final Pattern FOR = Pattern.compile("\\{%[-+]?\\s*for\\s+[\\w\\s,()]+?\\s+in\\s+(.+?)\\s*[-+]?%}", Pattern.DOTALL);
    private static final Pattern ENDFOR = Pattern.compile("\\{%[-+]?\\s*endfor\\s*[-+]?%}");
    private static final Pattern PREVITEM = Pattern.compile("\\bloop\\.previtem\\b");
    private static final Pattern NEXTITEM = Pattern.compile("\\bloop\\.nextitem\\b");
    /** {@code x[::-1]}: Jinjava has no slice steps. */
    private static final Pattern REVERSED = Pattern.compile("\\b([A-Za-z_][\\w.]*)\\[\\s*:\\s*:\\s*-1\\s*]");

    private Jinja2Compat() {
    }

    static String rewrite(String source) {
        Matcher tags = TAG.matcher(lstripBlocks(source));
        StringBuilder out = new StringBuilder();
        java.util.ArrayDeque<String> loops = new java.util.ArrayDeque<>(); // the iterables of the open for loops ("" where unknown)
        while (tags.find()) {
            List<String> literals = new java.util.ArrayList<>();
            String tag = maskStrings(tags.group(), literals);
            tag = NOT_IS.matcher(tag).replaceAll("not$1($2$3)");
            tag = NOT_IN.matcher(tag).replaceAll("not$1($2$3)");
            tag = NOT_CMP.matcher(tag).replaceAll("not$1($2$3)");
            tag = ITEMS_ATTR.matcher(tag).replaceAll("($1|__dict_method)");
            tag = REVERSED.matcher(tag).replaceAll("($1|reverse|list)");
            tag = parenthesizeKeywordValues(tag);
            Matcher f = FOR.matcher(tag);
            if (f.matches()) {
                String iterable = f.group(1).strip();
                loops.push(iterable.matches(".*\\s(if|recursive)\\b.*") ? "" : unmaskStrings(iterable, literals));
            } else if (ENDFOR.matcher(tag).matches()) {
                if (!loops.isEmpty()) loops.pop();
            }
            if (!loops.isEmpty() && !loops.peek().isEmpty() && tag.contains("loop.")) {
                String it = loops.peek();
                tag = PREVITEM.matcher(tag).replaceAll(Matcher.quoteReplacement("((" + it + ")[loop.index0 - 1] if loop.index0 > 0 else none)"));
                tag = NEXTITEM.matcher(tag).replaceAll(Matcher.quoteReplacement("((" + it + ")[loop.index0 + 1] if not loop.last else none)"));
            }
            tags.appendReplacement(out, Matcher.quoteReplacement(unmaskStrings(tag, literals)));
        }
        tags.appendTail(out);
        return out.toString();
    }

    private static final String MASK = "__hearth_str_";
    private static final Pattern MASKED = Pattern.compile(MASK + "(\\d+)__");

    /** The tag with each string literal replaced by a name (so that no rewrite touches the text of a literal). */
    private static String maskStrings(String tag, List<String> literals) {
        StringBuilder sb = new StringBuilder(tag.length());
        int i = 0;
        while (i < tag.length()) {
            char c = tag.charAt(i);
            if (c == '\'' || c == '"') {
                int end = skipString(tag, i);
                sb.append(MASK).append(literals.size()).append("__");
                literals.add(tag.substring(i, end));
                i = end;
            } else {
                sb.append(c);
                i++;
            }
        }
        return sb.toString();
    }

    private static String unmaskStrings(String tag, List<String> literals) {
        if (literals.isEmpty()) return tag;
        Matcher m = MASKED.matcher(tag);
        StringBuilder sb = new StringBuilder();
        while (m.find()) m.appendReplacement(sb, Matcher.quoteReplacement(literals.get(Integer.parseInt(m.group(1)))));
        m.appendTail(sb);
        return sb.toString();
    }

    /**
     * Jinja2's lstrip_blocks, which Jinjava's differs from: the spaces and tabs between the start
     * of a line and a block tag or comment are removed (Jinjava removes them before a tag
     * anywhere on a line). {@code {%+} keeps them; the text of a raw block is left alone.
     */
    static String lstripBlocks(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int i = 0;
        int n = s.length();
        boolean raw = false;
        while (i < n) {
            char c = s.charAt(i);
            if (c == '{' && i + 1 < n && (s.charAt(i + 1) == '%' || s.charAt(i + 1) == '#' || s.charAt(i + 1) == '{')) {
                char kind = s.charAt(i + 1);
                int end = tagEnd(s, i, kind);
                String tag = s.substring(i, end);
                if (raw) {
                    if (kind == '%' && RAW_END.matcher(tag).matches()) {
                        raw = false;
                    } else {
                        out.append(c);
                        i++;
                        continue;
                    }
                }
                if (kind != '{' && !(i + 2 < n && s.charAt(i + 2) == '+')) {
                    int k = out.length();
                    while (k > 0 && (out.charAt(k - 1) == ' ' || out.charAt(k - 1) == '\t')) k--;
                    if (k == 0 || out.charAt(k - 1) == '\n') out.setLength(k);
                }
                if (kind == '%' && RAW_START.matcher(tag).matches()) raw = true;
                out.append(tag);
                i = end;
                continue;
            }
            out.append(c);
            i++;
        }
        return out.toString();
    }

    private static final Pattern RAW_START = Pattern.compile("\\{%[-+]?\\s*raw\\s*[-+]?%}");
    private static final Pattern RAW_END = Pattern.compile("\\{%[-+]?\\s*endraw\\s*[-+]?%}");

    /** The index just past the tag opening at {@code i} ("{%", "{{" or "{#"), string literals skipped in the first two. */
    private static int tagEnd(String s, int i, char kind) {
        String close = kind == '%' ? "%}" : kind == '#' ? "#}" : "}}";
        int j = i + 2;
        while (j < s.length()) {
            char c = s.charAt(j);
            if (kind != '#' && (c == '\'' || c == '"')) {
                j = skipString(s, j);
                continue;
            }
            if (s.startsWith(close, j)) return j + 2;
            j++;
        }
        return s.length();
    }

    /** {@code f(a=x|g, b=y)} becomes {@code f(a=(x|g), b=y)}: only values with a filter at their top level change. */
    static String parenthesizeKeywordValues(String tag) {
        StringBuilder out = new StringBuilder(tag.length() + 8);
        int depth = 0;
        int i = 0;
        int n = tag.length();
        char prevSignificant = 0;
        while (i < n) {
            char c = tag.charAt(i);
            if (c == '\'' || c == '"') {
                int q = skipString(tag, i);
                out.append(tag, i, q);
                i = q;
                prevSignificant = c;
                continue;
            }
            if (depth > 0 && (prevSignificant == '(' || prevSignificant == ',') && (Character.isLetter(c) || c == '_')) {
                int j = i;
                while (j < n && (Character.isLetterOrDigit(tag.charAt(j)) || tag.charAt(j) == '_')) j++;
                int k = j;
                while (k < n && tag.charAt(k) == ' ') k++;
                if (k < n && tag.charAt(k) == '=' && (k + 1 >= n || tag.charAt(k + 1) != '=')) {
                    int valueStart = k + 1;
                    int valueEnd = valueEnd(tag, valueStart);
                    String value = tag.substring(valueStart, valueEnd);
                    out.append(tag, i, valueStart);
                    if (hasTopLevelFilter(value)) {
                        String inner = parenthesizeKeywordValues(value);
                        int lead = 0;
                        while (lead < inner.length() && inner.charAt(lead) == ' ') lead++;
                        out.append(inner, 0, lead).append('(').append(inner.substring(lead).stripTrailing()).append(')');
                        out.append(" ".repeat(inner.length() - inner.stripTrailing().length()));
                    } else {
                        out.append(parenthesizeKeywordValues(value));
                    }
                    i = valueEnd;
                    prevSignificant = 'v';
                    continue;
                }
            }
            if (c == '(' || c == '[' || c == '{') depth++;
            if (c == ')' || c == ']' || c == '}') depth = Math.max(0, depth - 1);
            if (!Character.isWhitespace(c)) prevSignificant = c;
            out.append(c);
            i++;
        }
        return out.toString();
    }

    private static int skipString(String t, int i) {
        char quote = t.charAt(i);
        int q = i + 1;
        while (q < t.length() && t.charAt(q) != quote) q += t.charAt(q) == '\\' ? 2 : 1;
        return Math.min(q + 1, t.length());
    }

    /** Where the value starting at {@code from} ends: at a ',' or closing bracket of its own level. */
    private static int valueEnd(String t, int from) {
        int depth = 0;
        int i = from;
        while (i < t.length()) {
            char c = t.charAt(i);
            if (c == '\'' || c == '"') {
                i = skipString(t, i);
                continue;
            }
            if (c == '(' || c == '[' || c == '{') depth++;
            else if (c == ')' || c == ']' || c == '}') {
                if (depth == 0) return i;
                depth--;
            } else if (c == ',' && depth == 0) return i;
            i++;
        }
        return i;
    }

    private static boolean hasTopLevelFilter(String v) {
        int depth = 0;
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == '\'' || c == '"') {
                i = skipString(v, i) - 1;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                depth--;
            } else if (c == '|' && depth == 0) {
                return true;
            }
        }
        return false;
    }

    static void register(Jinjava j) {
        j.registerFilter(new Filter() {
            @Override
            public String getName() {
                return "tojson";
            }

            @Override
            public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
                return filter(var, interpreter, args, Map.of());
            }

            @Override
            public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
                Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : args.length > 1 ? args[1] : null;
                Object separators = kwargs.get("separators");
                boolean sortKeys = Boolean.TRUE.equals(kwargs.get("sort_keys"));
                String itemSep = indent == null ? ", " : ",";
                String keySep = ": ";
                if (separators instanceof List<?> l && l.size() == 2) {
                    itemSep = String.valueOf(l.get(0));
                    keySep = String.valueOf(l.get(1));
                }
                String ind = indent == null ? null : indent instanceof Number num ? " ".repeat(num.intValue()) : indent.toString();
                return PyJson.dumps(var, ind, itemSep, keySep, sortKeys);
            }
        });
        j.registerFilter(new Filter() {
            @Override
            public String getName() {
                return "indent";
            }

            @Override
            public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
                return filter(var, interpreter, args, Map.of());
            }

            @Override
            public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
                Object width = kwargs.getOrDefault("width", args.length > 0 ? args[0] : 4L);
                boolean first = truthy(kwargs.getOrDefault("first", args.length > 1 ? args[1] : false));
                boolean blank = truthy(kwargs.getOrDefault("blank", args.length > 2 ? args[2] : false));
                String indention = width instanceof Number n ? " ".repeat(n.intValue()) : String.valueOf(width);
                return indent(var == null ? "None" : var.toString(), indention, first, blank);
            }
        });
        j.registerFilter(new Filter() {
            @Override
            public String getName() {
                return "items";
            }

            @Override
            public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
                if (var == null) return List.of();
                if (var instanceof Map<?, ?> m) return new java.util.ArrayList<>(m.entrySet());
                throw new IllegalArgumentException("Can only get item pairs from a mapping.");
            }
        });
        j.registerFilter(new Filter() {
            @Override
            public String getName() {
                return "__dict_method";
            }

            @Override
            public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
                return var instanceof Map<?, ?> ? DICT_METHOD : null;
            }
        });
        j.getGlobalContext().registerExpTest(new ExpTest() {
            @Override
            public String getName() {
                return "iterable";
            }

            @Override
            public boolean evaluate(Object var, JinjavaInterpreter interpreter, Object... args) {
                // Jinja2's Undefined iterates as empty, so "x.missing is iterable" holds (None reads as undefined here)
                return var == null || var instanceof CharSequence || var instanceof Iterable<?> || var instanceof Map<?, ?> || var instanceof Iterator<?>
                        || (var != null && var.getClass().isArray());
            }
        });
    }

    /** What a dict's method is to a template: defined, true, without attributes, not iterable. */
    private static final Object DICT_METHOD = new Object() {
        @Override
        public String toString() {
            return "<built-in method items of dict object>";
        }
    };

    private static boolean truthy(Object o) {
        if (o == null) return false;
        if (o instanceof Boolean b) return b;
        if (o instanceof Number n) return n.doubleValue() != 0;
        if (o instanceof CharSequence s) return !s.isEmpty();
        if (o instanceof Collection<?> c) return !c.isEmpty();
        return true;
    }

    /** Jinja2's indent filter. */
    static String indent(String s, String indention, boolean first, boolean blank) {
        List<String> lines = splitlines(s + "\n");
        StringBuilder rv = new StringBuilder();
        if (blank) {
            rv.append(String.join("\n" + indention, lines));
        } else {
            rv.append(lines.getFirst());
            for (int i = 1; i < lines.size(); i++) {
                String line = lines.get(i);
                rv.append('\n');
                if (!line.isEmpty()) rv.append(indention);
                rv.append(line);
            }
        }
        return first ? indention + rv : rv.toString();
    }

    /** Python's str.splitlines(). */
    static List<String> splitlines(String s) {
        List<String> out = new java.util.ArrayList<>();
        int start = 0;
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '\r' || c == '\n' || c == 0x0b || c == 0x0c || c == 0x1c || c == 0x1d || c == 0x1e || c == 0x85 || c == 0x2028 || c == 0x2029) {
                out.add(s.substring(start, i));
                i += c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n' ? 2 : 1;
                start = i;
            } else {
                i++;
            }
        }
        if (start < s.length()) out.add(s.substring(start));
        return out;
    }
}
