package dev.hearth.llama.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * The hand-coded pre-tokenizers: expected splits worked out from the patterns by hand, and the
 * LLAMA3 splitter against java.util.regex running the same pattern, once {@code \s} is spelled
 * out as Unicode's White_Space (Java's own {@code \s} is ASCII only and splits differently).
 */
class PreTokenizerTest {
    private static final String WS = "\\t\\n\\x0B\\f\\r\\x20\\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";
    private static final String LLAMA3_JAVA = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^" + WS
            + "\\p{L}\\p{N}]+[\\r\\n]*|[" + WS + "]*[\\r\\n]+|[" + WS + "]+(?![^" + WS + "])|[" + WS + "]+";
    private static final String LLAMA3_JAVA_ASCII_SPACE =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private static List<String> regexSplit(Pattern p, String text) {
        List<String> words = new ArrayList<>();
        Matcher m = p.matcher(text);
        int last = 0;
        while (m.find()) {
            if (m.start() > last) words.add(text.substring(last, m.start()));
            if (m.end() > m.start()) words.add(m.group());
            last = m.end();
        }
        if (last < text.length()) words.add(text.substring(last));
        return words;
    }

    @Test
    void llama3HandWorkedSplits() {
        PreTokenizer p = PreTokenizer.LLAMA3;
        assertEquals(List.of("Hello", " world"), p.split("Hello world"));
        assertEquals(List.of("  ", " Hello"), p.split("   Hello"), "\\s+(?!\\S) leaves the last space to the word");
        assertEquals(List.of("123", "45"), p.split("12345"));
        assertEquals(List.of("a", "\n\n", " b"), p.split("a\n\n b"));
        assertEquals(List.of("you", "'RE", " here"), p.split("you'RE here"), "contractions ignore case");
        assertEquals(List.of("x", "!!\n\n", "y"), p.split("x!!\n\ny"));
        assertEquals(List.of("a", "   "), p.split("a   "), "trailing spaces stay together");
        assertEquals(List.of("\u00a0", "\u00a0x"), p.split("\u00a0\u00a0x"), "no-break space is whitespace");
        assertEquals(List.of(" \uD83E\uDD99"), p.split(" \uD83E\uDD99"), "an emoji is no letter, but the space goes with it");
        assertEquals(List.of("\t\t\n", "x"), p.split("\t\t\nx"), "whitespace up to the last line break");
    }

    @Test
    void gpt2HandWorkedSplits() {
        PreTokenizer p = PreTokenizer.GPT2;
        assertEquals(List.of("Hello", " world", "!!"), p.split("Hello world!!"));
        assertEquals(List.of(" 12345", " x"), p.split(" 12345 x"), "numbers are not grouped by three");
        assertEquals(List.of("you", "'re"), p.split("you're"));
        assertEquals(List.of("you", "'", "RE"), p.split("you'RE"), "contractions are case sensitive");
        assertEquals(List.of("a", "  ", " b"), p.split("a   b"));
    }

    @Test
    void defaultSplitsPunctuationAndDigitGroups() {
        PreTokenizer p = PreTokenizer.DEFAULT;
        assertEquals(List.of("Hello", ",", " world"), p.split("Hello, world"));
        assertEquals(List.of(" ", "123", "45"), p.split(" 12345"));
    }

    @Test
    void llama3AgreesWithJavaRegexSpellingOutWhitespace() {
        Pattern java = Pattern.compile(LLAMA3_JAVA);
        List<String> inputs = new ArrayList<>();
        for (TestFiles.Vector v : TestFiles.vectors(VocabVectorsTest.BPE)) inputs.add(v.input());
        inputs.addAll(List.of("\u00a0\u00a0x", "a\u2003\u2003b", "x \u0378y", "  \n \r\n  z", "'s'S'll'LL'x", "3.14159e10",
                "\u0661\u0662\u0663\u0664", "naïve café", "tab\t\tend\t", "\u3000\u3000日本", "a\u0085b", "\uD835\uDC00\uD835\uDC01 1"));
        for (String s : inputs) {
            assertEquals(regexSplit(java, s), PreTokenizer.LLAMA3.split(s), () -> "split of '" + s + "'");
        }
    }

    @Test
    void javaDefaultWhitespaceWouldSplitDifferently() {
        // why the splitter is hand-coded: Java's \s does not include U+00A0
        Pattern asciiSpace = Pattern.compile(LLAMA3_JAVA_ASCII_SPACE);
        String s = "a\u00a0\u00a0b";
        assertNotEquals(regexSplit(asciiSpace, s), PreTokenizer.LLAMA3.split(s));
        assertEquals(List.of("a", "\u00a0", "\u00a0b"), PreTokenizer.LLAMA3.split(s));
    }
}
