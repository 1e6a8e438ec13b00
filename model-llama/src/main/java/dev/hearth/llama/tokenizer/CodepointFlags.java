package dev.hearth.llama.tokenizer;

/**
 * Unicode classes of a code point as llama.cpp's pre-tokenizers see them: the regex categories
 * \p{N}, \p{L}, \p{Z}, \p{M}, \p{P}, \p{S}, \p{C} (exactly one per assigned code point, UNDEFINED
 * for unassigned ones) and a separate WHITESPACE bit for the 25 code points of Unicode's
 * White_Space property (regex \s; not Java's {@link Character#isWhitespace}, which leaves out
 * U+00A0 and adds U+001C..U+001F). Positions outside the text being split have no bits at all,
 * which the splitters rely on.
 */
final class CodepointFlags {
    static final int UNDEFINED = 0x0001;
    static final int NUMBER = 0x0002;
    static final int LETTER = 0x0004;
    static final int SEPARATOR = 0x0008;
    static final int ACCENT_MARK = 0x0010;
    static final int PUNCTUATION = 0x0020;
    static final int SYMBOL = 0x0040;
    static final int CONTROL = 0x0080;
    static final int WHITESPACE = 0x0100;

    private static final short[] BMP = new short[0x10000];

    static {
        for (int cp = 0; cp < BMP.length; cp++) BMP[cp] = (short) compute(cp);
    }

    private CodepointFlags() {
    }

    static int of(int cp) {
        if (cp >= 0 && cp < 0x10000) return BMP[cp];
        if (cp < 0 || cp > Character.MAX_CODE_POINT) return UNDEFINED;
        return compute(cp);
    }

    static boolean isWhitespace(int cp) {
        return switch (cp) {
            case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 -> true;
            default -> cp >= 0x2000 && cp <= 0x200A;
        };
    }

    private static int compute(int cp) {
        int category = switch (Character.getType(cp)) {
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> LETTER;
            case Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> SEPARATOR;
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK -> ACCENT_MARK;
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                 Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
                 Character.OTHER_PUNCTUATION -> PUNCTUATION;
            case Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL, Character.MODIFIER_SYMBOL, Character.OTHER_SYMBOL -> SYMBOL;
            case Character.CONTROL, Character.FORMAT, Character.PRIVATE_USE, Character.SURROGATE -> CONTROL;
            default -> UNDEFINED;
        };
        return isWhitespace(cp) ? category | WHITESPACE : category;
    }

    /**
     * The first class of llama.cpp's default BPE pre-tokenizer, {@code [\p{P}\$\+<=>\^~\|]}: ASCII
     * punctuation and those symbols (everything printable but letters, digits and the backtick),
     * and beyond ASCII the punctuation that is not whitespace.
     */
    static boolean isDefaultPunctuation(int cp) {
        if (cp < 0x80) {
            return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x5F) || (cp >= 0x7B && cp <= 0x7E);
        }
        return (of(cp) & (PUNCTUATION | WHITESPACE)) == PUNCTUATION;
    }

    /** Lower case of a code point as the contraction rules compare it ('S' and 's' alike). */
    static int toLower(int cp) {
        if (cp < 0x80) return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
        return Character.toLowerCase(cp);
    }
}
