package dev.hearth.llama.tokenizer;

import dev.hearth.runtime.gguf.GgufFile;

import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * Text to token ids and back, for a vocabulary stored in GGUF metadata, agreeing with llama.cpp's
 * llama_tokenize / llama_token_to_piece / llama_detokenize. Three kinds, by tokenizer.ggml.model:
 * "llama" (SentencePiece-style, e.g. LLaMA 2, Phi-3, TinyStories), "gpt2" (byte-level BPE, e.g.
 * Llama 3, Qwen2, Command R, with the pre-tokenizer named by tokenizer.ggml.pre) and "gemma4"
 * (BPE on raw UTF-8 with spaces as '▁' and byte tokens, Gemma 4). Instances are immutable and
 * thread-safe.
 */
public interface Tokenizer {

    /** Reads the tokenizer of a GGUF file; an unsupported tokenizer.ggml.model or .pre is a HearthException naming it. */
    static Tokenizer fromGguf(GgufFile gguf) {
        return new GgufTokenizer(Vocabulary.load(gguf));
    }

    /**
     * Token ids of {@code text}. With {@code addBos} the model's own special tokens are added as
     * llama.cpp's add_special does: BOS in front where tokenizer.ggml.add_bos_token says so (true by
     * default for SentencePiece and Llama 3), EOS at the end where add_eos_token says so. Special
     * token texts in {@code text} are not parsed: "<|eot_id|>" is tokenized as plain text.
     */
    default int[] encode(String text, boolean addBos) {
        return encode(text, addBos, false);
    }

    /**
     * As {@link #encode(String, boolean)}; with {@code parseSpecial} the texts of control tokens
     * (e.g. "<s>", "<|start_header_id|>", "<|im_end|>") in {@code text} become those tokens, as
     * llama.cpp's parse_special = true does for chat templates. User-defined tokens are always
     * matched.
     */
    int[] encode(String text, boolean addBos, boolean parseSpecial);

    /**
     * As {@link #encode(String, boolean, boolean)}, for a text that may be far too long: when its
     * ids number more than {@code maxTokens}, the answer is {@code maxTokens + 1} ids (which say
     * only that: they need not be the text's first ids), found without encoding the whole text,
     * in time and memory that grow with {@code maxTokens} rather than with the text. Otherwise it
     * is the text's whole encoding.
     */
    default int[] encode(String text, boolean addBos, boolean parseSpecial, int maxTokens) {
        int[] ids = encode(text, addBos, parseSpecial);
        return ids.length > maxTokens ? java.util.Arrays.copyOf(ids, maxTokens + 1) : ids;
    }

    /**
     * The most characters of text one token can stand for: a text of n characters has at least
     * n / maxTokenChars() tokens (less only where whitespace next to special tokens is dropped).
     */
    default int maxTokenChars() {
        return Integer.MAX_VALUE;
    }

    /**
     * The text of {@code ids} as llama.cpp's detokenize with remove_special = false and
     * unparse_special = false: control tokens render as nothing; with a SentencePiece vocabulary
     * the first token's leading space (the one the tokenizer added) is dropped, so
     * decode(encode(x, false)) is x; byte-level BPE vocabularies that ask for it
     * (clean_up_tokenization_spaces) drop spaces before {@code ?!.,} and some apostrophes. Invalid
     * UTF-8 becomes U+FFFD.
     */
    default String decode(int[] ids) {
        return new String(decodeBytes(ids, false, false), StandardCharsets.UTF_8);
    }

    /**
     * llama.cpp's detokenize: with {@code removeSpecial} a leading BOS (and trailing EOS, where the
     * model adds them) is left out; with {@code unparseSpecial} control tokens render as their text.
     */
    byte[] decodeBytes(int[] ids, boolean removeSpecial, boolean unparseSpecial);

    /** The raw bytes token {@code id} stands for; control and unknown tokens give none. */
    default byte[] tokenBytes(int id) {
        return tokenBytes(id, false);
    }

    /** The raw bytes token {@code id} stands for; with {@code special}, control tokens give their text. */
    byte[] tokenBytes(int id, boolean special);

    /** BOS id, or -1 if the vocabulary has none. */
    int bos();

    /** EOS id, or -1 if the vocabulary has none. */
    int eos();

    /** End-of-turn id (e.g. Llama 3's &lt;|eot_id|&gt;), or -1 if none. */
    int eot();

    /** Whether {@link #encode(String, boolean)} with addBos = true puts BOS in front. */
    boolean addsBos();

    /** Tokens that end generation: EOS, EOT and the like (&lt;|eot_id|&gt;, &lt;|end_of_text|&gt;, &lt;|im_end|&gt;, ...). */
    Set<Integer> endOfGeneration();

    default boolean isEndOfGeneration(int id) {
        return endOfGeneration().contains(id);
    }

    int vocabSize();

    /** The token's text as stored in the vocabulary (e.g. "▁Hello", "ĠHello", "&lt;0x0A&gt;"). */
    String piece(int id);

    /** The id of the token whose stored text is {@code piece}, or -1. */
    int tokenId(String piece);

    /** Whether the token is a control token (BOS, EOS, &lt;|eot_id|&gt;, ...), not text. */
    boolean isControl(int id);
}
