package dev.hearth.llama.tokenizer;

import dev.hearth.runtime.HearthException;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * Splits text into words before byte-level BPE, as llama.cpp does for tokenizer.ggml.pre.
 * <ul>
 * <li>LLAMA3 (llama-bpe, llama3, ...): {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
 * ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+}</li>
 * <li>QWEN2: the same with single digits ({@code \p{N}} instead of {@code \p{N}{1,3}}).</li>
 * <li>GPT2: {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)}</li>
 * <li>DEFAULT: llama.cpp's fallback chain: runs of punctuation and {@code $+<=>^~|}, then GPT2, then
 * runs of digits, then groups of three ASCII digits.</li>
 * <li>COMMAND_R (command-r, starcoder, refact, smollm, ...): every digit on its own ({@code \p{N}}),
 * then GPT2 on the rest.</li>
 * <li>GEMMA4: only runs of line feeds and runs of everything else ({@code [^\n]+|[\n]+}); the
 * SentencePiece-style BPE of Gemma 4 merges across spaces, which it sees as '▁'.</li>
 * </ul>
 * The patterns are hand-coded rather than given to java.util.regex: Java's {@code \s} is ASCII
 * only, and llama.cpp itself runs hand-coded versions of the LLAMA3 and GPT2 patterns whose
 * corner cases (a lone space before an unassigned code point, the end of the text counting as
 * "not \S") these follow step by step. Checked against llama.cpp's test vectors for the Llama 3
 * vocabulary.
 */
enum PreTokenizer {
    LLAMA3, QWEN2, GPT2, DEFAULT, COMMAND_R, GEMMA4;

    private static final int OUT_OF_RANGE = -1;

    /** The pre-tokenizer for a tokenizer.ggml.pre value; null or empty gives DEFAULT. */
    static PreTokenizer forName(String pre) {
        if (pre == null || pre.isEmpty()) return DEFAULT;
        return switch (pre) {
            case "default" -> DEFAULT;
            case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
                 "jina-v5-nano", "dbrx", "smaug-bpe" -> LLAMA3;
            case "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "stablelm2", "hunyuan", "megrez" -> QWEN2;
            case "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
                 "modern-bert", "mpt", "olmo", "jais", "trillion", "exaone4" -> GPT2;
            case "command-r", "starcoder", "refact", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2" -> COMMAND_R;
            case "gemma4", "granite-embed-multi-311m" -> GEMMA4;
            default -> throw new HearthException("unsupported pre-tokenizer tokenizer.ggml.pre = '" + pre
                    + "'; supported: llama-bpe/llama3 family, qwen2 family, gpt-2 family, command-r family, gemma4, default");
        };
    }

    /** The words of {@code text}, in order; their concatenation is the text. */
    List<String> split(String text) {
        int[] cps = codepoints(text);
        IntList lengths = wordLengths(cps);
        List<String> words = new ArrayList<>(lengths.size());
        int start = 0;
        for (int i = 0; i < lengths.size(); i++) {
            int n = lengths.get(i);
            words.add(new String(cps, start, n));
            start += n;
        }
        return words;
    }

    /** The lengths in code points of the words of {@code cps}, in order (they add up to cps.length). */
    IntList wordLengths(int[] cps) {
        IntList lengths = new IntList(8);
        lengths.add(cps.length);
        switch (this) {
            case LLAMA3 -> lengths = splitLlama3(cps, lengths, 3);
            case QWEN2 -> lengths = splitLlama3(cps, lengths, 1);
            case GPT2 -> lengths = splitGpt2(cps, lengths);
            case DEFAULT -> {
                lengths = splitRuns(cps, lengths, CodepointFlags::isDefaultPunctuation);
                lengths = splitGpt2(cps, lengths);
                lengths = splitRuns(cps, lengths, PreTokenizer::isNumber);
                lengths = splitAsciiDigitTriples(cps, lengths);
            }
            case COMMAND_R -> lengths = splitGpt2(cps, splitSingles(cps, lengths, PreTokenizer::isNumber));
            case GEMMA4 -> lengths = splitRuns(cps, lengths, cp -> cp == '\n');
        }
        return lengths;
    }

    /** Code points of a Java string; a lone surrogate becomes U+FFFD, as invalid UTF-8 does in llama.cpp. */
    static int[] codepoints(String text) {
        int[] cps = new int[text.length()];
        int n = 0;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            cps[n++] = Character.isSurrogate((char) cp) && cp < 0x10000 ? 0xFFFD : cp;
        }
        return n == cps.length ? cps : java.util.Arrays.copyOf(cps, n);
    }

    /** Walks one segment of the text, collecting word lengths. */
    private static final class Segment {
        final int[] cps;
        final int begin, end;
        final IntList out;
        int prevEnd;

        Segment(int[] cps, int begin, int end, IntList out) {
            this.cps = cps;
            this.begin = begin;
            this.end = end;
            this.out = out;
            this.prevEnd = begin;
        }

        int cp(int pos) {
            return pos >= begin && pos < end ? cps[pos] : OUT_OF_RANGE;
        }

        int flags(int pos) {
            return pos >= begin && pos < end ? CodepointFlags.of(cps[pos]) : 0;
        }

        /** Ends the current word at {@code wordEnd}; returns its length. */
        int word(int wordEnd) {
            int len = wordEnd - prevEnd;
            if (len > 0) out.add(len);
            prevEnd = wordEnd;
            return len;
        }
    }

    private static boolean has(int flags, int bits) {
        return (flags & bits) != 0;
    }

    private static final int WS_L_N = CodepointFlags.WHITESPACE | CodepointFlags.LETTER | CodepointFlags.NUMBER;

    private static IntList splitLlama3(int[] cps, IntList lengths, int maxDigits) {
        IntList out = new IntList(cps.length / 3 + 1);
        int start = 0;
        for (int li = 0; li < lengths.size(); li++) {
            Segment s = new Segment(cps, start, start + lengths.get(li), out);
            start = s.end;
            for (int pos = s.begin; pos < s.end; ) {
                int cp = s.cp(pos);
                int flags = s.flags(pos);

                // (?i:'s|'t|'re|'ve|'m|'ll|'d)
                if (cp == '\'' && pos + 1 < s.end) {
                    int next = CodepointFlags.toLower(s.cp(pos + 1));
                    if (next == 's' || next == 't' || next == 'm' || next == 'd') {
                        pos += s.word(pos + 2);
                        continue;
                    }
                    if (pos + 2 < s.end) {
                        int next2 = CodepointFlags.toLower(s.cp(pos + 2));
                        if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') || (next == 'l' && next2 == 'l')) {
                            pos += s.word(pos + 3);
                            continue;
                        }
                    }
                }

                // [^\r\n\p{L}\p{N}]?\p{L}+
                if (!(cp == '\r' || cp == '\n' || has(flags, CodepointFlags.NUMBER))) {
                    if (has(flags, CodepointFlags.LETTER) || has(s.flags(pos + 1), CodepointFlags.LETTER)) {
                        pos++;
                        while (has(s.flags(pos), CodepointFlags.LETTER)) pos++;
                        s.word(pos);
                        continue;
                    }
                }

                // \p{N}{1,3}
                if (has(flags, CodepointFlags.NUMBER)) {
                    int groupStart = pos;
                    while (has(s.flags(pos), CodepointFlags.NUMBER)) {
                        if (++pos - groupStart >= maxDigits) {
                            s.word(pos);
                            groupStart = pos;
                        }
                    }
                    s.word(pos);
                    continue;
                }

                // ' ?[^\s\p{L}\p{N}]+[\r\n]*' (the first test looks at this code point's flags, as llama.cpp does)
                int flags2 = cp == ' ' ? s.flags(pos + 1) : flags;
                if (!has(flags2, WS_L_N) && flags != 0) {
                    if (cp == ' ') pos++;
                    while (!has(flags2, WS_L_N) && flags2 != 0) flags2 = s.flags(++pos);
                    int cp2 = s.cp(pos);
                    while (cp2 == '\r' || cp2 == '\n') cp2 = s.cp(++pos);
                    s.word(pos);
                    continue;
                }

                int spaces = 0;
                int lastLineBreakEnd = 0;
                while (has(s.flags(pos + spaces), CodepointFlags.WHITESPACE)) {
                    int cp2 = s.cp(pos + spaces);
                    if (cp2 == '\r' || cp2 == '\n') lastLineBreakEnd = pos + spaces + 1;
                    spaces++;
                }
                // \s*[\r\n]+
                if (lastLineBreakEnd > 0) {
                    pos = lastLineBreakEnd;
                    s.word(pos);
                    continue;
                }
                // \s+(?!\S)
                if (spaces > 1 && s.cp(pos + spaces) != OUT_OF_RANGE) {
                    pos += spaces - 1;
                    s.word(pos);
                    continue;
                }
                // \s+
                if (spaces > 0) {
                    pos += spaces;
                    s.word(pos);
                    continue;
                }
                s.word(++pos);
            }
        }
        return out;
    }

    private static IntList splitGpt2(int[] cps, IntList lengths) {
        IntList out = new IntList(cps.length / 3 + 1);
        int start = 0;
        for (int li = 0; li < lengths.size(); li++) {
            Segment s = new Segment(cps, start, start + lengths.get(li), out);
            start = s.end;
            for (int pos = s.begin; pos < s.end; ) {
                int cp = s.cp(pos);
                int flags = s.flags(pos);

                // 's|'t|'re|'ve|'m|'ll|'d
                if (cp == '\'' && pos + 1 < s.end) {
                    int next = s.cp(pos + 1);
                    if (next == 's' || next == 't' || next == 'm' || next == 'd') {
                        pos += s.word(pos + 2);
                        continue;
                    }
                    if (pos + 2 < s.end) {
                        int next2 = s.cp(pos + 2);
                        if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') || (next == 'l' && next2 == 'l')) {
                            pos += s.word(pos + 3);
                            continue;
                        }
                    }
                }

                int flags2 = cp == ' ' ? s.flags(pos + 1) : flags;
                // ' ?\p{L}+', ' ?\p{N}+'
                int run = has(flags2, CodepointFlags.LETTER) ? CodepointFlags.LETTER
                        : has(flags2, CodepointFlags.NUMBER) ? CodepointFlags.NUMBER : 0;
                if (run != 0) {
                    if (cp == ' ') pos++;
                    while (has(flags2, run)) flags2 = s.flags(++pos);
                    s.word(pos);
                    continue;
                }
                // ' ?[^\s\p{L}\p{N}]+'
                if (!has(flags2, WS_L_N) && flags2 != 0) {
                    if (cp == ' ') pos++;
                    while (!has(flags2, WS_L_N) && flags2 != 0) flags2 = s.flags(++pos);
                    s.word(pos);
                    continue;
                }

                int spaces = 0;
                while (has(s.flags(pos + spaces), CodepointFlags.WHITESPACE)) spaces++;
                // \s+(?!\S)
                if (spaces > 1 && s.cp(pos + spaces) != OUT_OF_RANGE) {
                    pos += spaces - 1;
                    s.word(pos);
                    continue;
                }
                // \s+
                if (spaces > 0) {
                    pos += spaces;
                    s.word(pos);
                    continue;
                }
                s.word(++pos);
            }
        }
        return out;
    }

    /** Splits each segment at the maximal runs of code points matching {@code member}. */
    private static IntList splitRuns(int[] cps, IntList lengths, IntPredicate member) {
        IntList out = new IntList(lengths.size() * 2);
        int start = 0;
        for (int li = 0; li < lengths.size(); li++) {
            int end = start + lengths.get(li);
            int gap = start;
            for (int pos = start; pos < end; ) {
                if (member.test(cps[pos])) {
                    int runEnd = pos;
                    while (runEnd < end && member.test(cps[runEnd])) runEnd++;
                    if (pos > gap) out.add(pos - gap);
                    out.add(runEnd - pos);
                    gap = pos = runEnd;
                } else {
                    pos++;
                }
            }
            if (end > gap) out.add(end - gap);
            start = end;
        }
        return out;
    }

    /** Splits off every code point matching {@code member} as a word of its own. */
    private static IntList splitSingles(int[] cps, IntList lengths, IntPredicate member) {
        IntList out = new IntList(lengths.size() * 2);
        int start = 0;
        for (int li = 0; li < lengths.size(); li++) {
            int end = start + lengths.get(li);
            int gap = start;
            for (int pos = start; pos < end; pos++) {
                if (member.test(cps[pos])) {
                    if (pos > gap) out.add(pos - gap);
                    out.add(1);
                    gap = pos + 1;
                }
            }
            if (end > gap) out.add(end - gap);
            start = end;
        }
        return out;
    }

    /** {@code \p{N}} as llama.cpp's pre-tokenizers test it. */
    private static boolean isNumber(int cp) {
        return cp < 0x80 ? cp >= '0' && cp <= '9'
                : (CodepointFlags.of(cp) & (CodepointFlags.NUMBER | CodepointFlags.WHITESPACE)) == CodepointFlags.NUMBER;
    }

    /** Splits off every group of three ASCII digits, left to right ({@code [0-9][0-9][0-9]}). */
    private static IntList splitAsciiDigitTriples(int[] cps, IntList lengths) {
        IntList out = new IntList(lengths.size() * 2);
        int start = 0;
        for (int li = 0; li < lengths.size(); li++) {
            int end = start + lengths.get(li);
            int gap = start;
            for (int pos = start; pos < end; ) {
                if (pos + 3 <= end && isAsciiDigit(cps[pos]) && isAsciiDigit(cps[pos + 1]) && isAsciiDigit(cps[pos + 2])) {
                    if (pos > gap) out.add(pos - gap);
                    out.add(3);
                    gap = pos = pos + 3;
                } else {
                    pos++;
                }
            }
            if (end > gap) out.add(end - gap);
            start = end;
        }
        return out;
    }

    private static boolean isAsciiDigit(int cp) {
        return cp >= '0' && cp <= '9';
    }
}
