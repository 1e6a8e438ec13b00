package dev.hearth.llama.tokenizer;

/**
 * Token attributes as llama.cpp keeps them (bit flags), derived from GGUF's
 * tokenizer.ggml.token_type (1 normal, 2 unknown, 3 control, 4 user defined, 5 unused, 6 byte;
 * 0 and anything else undefined). Without a token_type array every token is normal.
 */
final class TokenAttr {
    static final int UNDEFINED = 0;
    static final int UNKNOWN = 1;
    static final int UNUSED = 1 << 1;
    static final int NORMAL = 1 << 2;
    static final int CONTROL = 1 << 3;
    static final int USER_DEFINED = 1 << 4;
    static final int BYTE = 1 << 5;
    /** Whitespace to the left of the token's text is dropped when the text is matched in the input. */
    static final int LSTRIP = 1 << 7;
    /** Whitespace to the right of the token's text is dropped when the text is matched in the input. */
    static final int RSTRIP = 1 << 8;

    private TokenAttr() {
    }

    static int fromGgufType(int type) {
        return switch (type) {
            case 1 -> NORMAL;
            case 2 -> UNKNOWN;
            case 3 -> CONTROL;
            case 4 -> USER_DEFINED;
            case 5 -> UNUSED;
            case 6 -> BYTE;
            default -> UNDEFINED;
        };
    }
}
