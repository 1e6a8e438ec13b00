package dev.hearth.llama.tokenizer;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.gguf.GgufArray;
import dev.hearth.runtime.gguf.GgufFile;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A tokenizer vocabulary read from GGUF metadata the way llama.cpp's llama_vocab::load reads it:
 * token texts, scores and attributes; BPE merge ranks; the special token ids (with llama.cpp's
 * defaults per model kind and its detection of end-of-turn tokens by their text); the flags
 * add_bos/add_eos/add_space_prefix/clean_spaces; the set of end-of-generation tokens; and each
 * token's bytes ("piece").
 */
final class Vocabulary {
    enum Kind { SPM, BPE }

    static final int NONE = -1;

    final Kind kind;
    final String model;
    final PreTokenizer preTokenizer;
    final String[] texts;
    final float[] scores;
    final int[] attrs;
    final TokenIndex index;
    /** BPE merges by token ids; null for SPM, or where some merge line is not made of tokens. */
    final MergeTable merges;
    /** BPE merges by text ("left right" to rank), only where {@link #merges} is null. */
    final Map<String, Integer> mergeRanks;

    int bos, eos, eot = NONE, eom = NONE, unk, sep = NONE, pad = NONE, mask = NONE;
    int fimPre = NONE, fimSuf = NONE, fimMid = NONE, fimPad = NONE, fimRep = NONE, fimSep = NONE;
    boolean addBos, addEos, addSpacePrefix, ignoreMerges, cleanSpaces;
    /** BPE on raw UTF-8 with spaces written as '▁' and byte tokens {@code <0xXX>} (Gemma 4), not GPT-2 byte characters. */
    boolean escapeWhitespaces;
    final Set<Integer> endOfGeneration;
    /** Control, user-defined and unknown tokens, longest text first: matched in text before tokenizing. */
    final int[] specialTokens;
    /** Each token's bytes with special tokens rendered (llama.cpp's token_to_piece with special = true). */
    final byte[][] pieces;
    /** SPM: the id of the byte token {@code <0xXX>} for each byte (or the one-character token), NONE if absent. */
    final int[] byteTokens = new int[256];

    private Vocabulary(GgufFile gguf) {
        model = gguf.getString("tokenizer.ggml.model", null);
        if (model == null) {
            throw new HearthException(gguf.path() + ": no tokenizer in this file (metadata tokenizer.ggml.model is missing)");
        }
        String pre = gguf.getString("tokenizer.ggml.pre", null);
        switch (model) {
            case "llama" -> {
                kind = Kind.SPM;
                bos = 1;
                eos = 2;
                unk = 0;
                preTokenizer = null;
                addSpacePrefix = true;
                addBos = true;
                addEos = false;
                cleanSpaces = false;
            }
            case "gpt2" -> {
                kind = Kind.BPE;
                bos = 11;
                eos = 11;
                unk = NONE;
                preTokenizer = PreTokenizer.forName(pre);
                addSpacePrefix = false;
                cleanSpaces = true;
                String p = pre == null ? "" : pre;
                switch (preTokenizer) {
                    case LLAMA3 -> {
                        boolean llama3 = !p.equals("dbrx") && !p.equals("smaug-bpe");
                        ignoreMerges = llama3;
                        addBos = llama3;
                    }
                    case QWEN2 -> cleanSpaces = p.equals("stablelm2") || p.equals("megrez");
                    case GPT2 -> cleanSpaces = !p.equals("trillion");
                    case COMMAND_R -> cleanSpaces = !p.equals("command-r") && !p.equals("smollm");
                    case GEMMA4 -> escapeWhitespaces = true;
                    case DEFAULT -> { }
                }
            }
            case "gemma4" -> {
                // SentencePiece-style BPE: merges on raw UTF-8 with ' ' written as '▁', byte tokens <0xXX>
                kind = Kind.BPE;
                bos = NONE;
                eos = NONE;
                unk = NONE;
                preTokenizer = PreTokenizer.GEMMA4;
                escapeWhitespaces = true;
                addSpacePrefix = false;
                cleanSpaces = true;
            }
            default -> throw new HearthException(gguf.path() + ": unsupported tokenizer model tokenizer.ggml.model = '"
                    + model + "'; supported: 'llama' (SentencePiece), 'gpt2' (byte-level BPE) and 'gemma4' (SentencePiece-style BPE)");
        }
        addSpacePrefix = gguf.getBool("tokenizer.ggml.add_space_prefix", addSpacePrefix);

        GgufArray tokens = gguf.getArray("tokenizer.ggml.tokens");
        if (tokens == null) throw new HearthException(gguf.path() + ": metadata tokenizer.ggml.tokens (the vocabulary) is missing");
        int n = tokens.size();
        texts = new String[n];
        scores = new float[n];
        attrs = new int[n];
        GgufArray scoreArray = gguf.getArray("tokenizer.ggml.scores");
        GgufArray typeArray = gguf.getArray("tokenizer.ggml.token_type");
        if (scoreArray != null && scoreArray.size() < n) {
            throw new HearthException(gguf.path() + ": tokenizer.ggml.scores has " + scoreArray.size() + " entries for " + n + " tokens");
        }
        if (typeArray != null && typeArray.size() < n) {
            throw new HearthException(gguf.path() + ": tokenizer.ggml.token_type has " + typeArray.size() + " entries for " + n + " tokens");
        }
        for (int i = 0; i < n; i++) {
            String t = String.valueOf(tokens.get(i));
            texts[i] = t.isEmpty() ? "[EMPTY_" + i + "]" : t;
            scores[i] = scoreArray == null ? 0f : ((Number) scoreArray.get(i)).floatValue();
            attrs[i] = typeArray == null ? TokenAttr.NORMAL : TokenAttr.fromGgufType(((Number) typeArray.get(i)).intValue());
        }

        index = new TokenIndex(texts);
        if (index.duplicate != null) {
            int[] d = index.duplicate;
            throw new HearthException(gguf.path() + ": duplicate token in vocabulary: '" + texts[d[0]] + "' has ids " + d[0] + " and " + d[1]);
        }

        if (kind == Kind.BPE) {
            GgufArray lines = gguf.getArray("tokenizer.ggml.merges");
            if (lines == null) throw new HearthException(gguf.path() + ": BPE tokenizer without tokenizer.ggml.merges");
            List<String> mergeLines = lines.values().stream().map(String::valueOf).toList();
            merges = MergeTable.build(mergeLines, mergeLines.size(), index);
            Map<String, Integer> ranks = new HashMap<>();
            if (merges == null) {
                for (int i = 0; i < mergeLines.size(); i++) {
                    String line = mergeLines.get(i);
                    if (line.indexOf(' ', 1) > 0) ranks.putIfAbsent(line, i);
                }
            }
            mergeRanks = ranks;
        } else {
            merges = null;
            mergeRanks = Map.of();
        }

        readSpecialIds(gguf, n);
        addBos = gguf.getBool("tokenizer.ggml.add_bos_token", addBos);
        addEos = gguf.getBool("tokenizer.ggml.add_eos_token", addEos);
        if (preTokenizer == PreTokenizer.GEMMA4) addBos = true; // as llama.cpp, whatever the file says
        if (addBos && bos == NONE) throw new HearthException(gguf.path() + ": tokenizer.ggml.add_bos_token is true, but tokenizer.ggml.bos_token_id is not set");
        if (addEos && eos == NONE) throw new HearthException(gguf.path() + ": tokenizer.ggml.add_eos_token is true, but tokenizer.ggml.eos_token_id is not set");

        detectByText();
        endOfGeneration = collectEndOfGeneration();

        List<Integer> special = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if ((attrs[i] & (TokenAttr.CONTROL | TokenAttr.USER_DEFINED | TokenAttr.UNKNOWN)) != 0) special.add(i);
        }
        special.sort(Comparator.comparingInt((Integer id) -> -texts[id].length()).thenComparingInt(id -> id));
        specialTokens = special.stream().mapToInt(Integer::intValue).toArray();

        setStripAttrs(gguf);

        for (int b = 0; b < 256; b++) {
            int id = id(String.format("<0x%02X>", b));
            if (id == NONE && b < 0x80) id = id(String.valueOf((char) b));
            byteTokens[b] = id;
        }
        pieces = new byte[n][];
        for (int i = 0; i < n; i++) pieces[i] = renderPiece(i);
    }

    static Vocabulary load(GgufFile gguf) {
        return new Vocabulary(gguf);
    }

    int size() {
        return texts.length;
    }

    int id(String text) {
        return index.find(text);
    }

    boolean has(int id, int attr) {
        return (attrs[id] & attr) != 0;
    }

    /** llama.cpp's token_to_piece without leading-space stripping. */
    byte[] piece(int id, boolean special) {
        if (!special && has(id, TokenAttr.UNKNOWN | TokenAttr.CONTROL)) return new byte[0];
        return pieces[id];
    }

    private void readSpecialIds(GgufFile gguf, int n) {
        bos = special(gguf, "tokenizer.ggml.bos_token_id", bos, n);
        eos = special(gguf, "tokenizer.ggml.eos_token_id", eos, n);
        eot = special(gguf, "tokenizer.ggml.eot_token_id", eot, n);
        eom = special(gguf, "tokenizer.ggml.eom_token_id", eom, n);
        unk = special(gguf, "tokenizer.ggml.unknown_token_id", unk, n);
        sep = special(gguf, "tokenizer.ggml.seperator_token_id", sep, n);
        pad = special(gguf, "tokenizer.ggml.padding_token_id", pad, n);
        mask = special(gguf, "tokenizer.ggml.mask_token_id", mask, n);
        fimPre = special(gguf, "tokenizer.ggml.fim_pre_token_id", fimPre, n);
        fimSuf = special(gguf, "tokenizer.ggml.fim_suf_token_id", fimSuf, n);
        fimMid = special(gguf, "tokenizer.ggml.fim_mid_token_id", fimMid, n);
        fimPad = special(gguf, "tokenizer.ggml.fim_pad_token_id", fimPad, n);
        fimRep = special(gguf, "tokenizer.ggml.fim_rep_token_id", fimRep, n);
        fimSep = special(gguf, "tokenizer.ggml.fim_sep_token_id", fimSep, n);
        fimPre = special(gguf, "tokenizer.ggml.prefix_token_id", fimPre, n);
        fimSuf = special(gguf, "tokenizer.ggml.suffix_token_id", fimSuf, n);
        fimMid = special(gguf, "tokenizer.ggml.middle_token_id", fimMid, n);
    }

    /** A special token id from metadata; a default or stored id outside the vocabulary is ignored, as llama.cpp does. */
    private static int special(GgufFile gguf, String key, int dflt, int n) {
        if (dflt >= n) dflt = NONE;
        if (!gguf.has(key)) return dflt;
        long v = gguf.getLong(key, -1);
        return v >= 0 && v < n ? (int) v : dflt;
    }

    private static final List<String> EOT_TEXTS = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
            "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>");
    private static final List<String> EOM_TEXTS = List.of("<|eom_id|>");
    private static final List<String> FIM_PRE_TEXTS = List.of("<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>",
            "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>");
    private static final List<String> FIM_SUF_TEXTS = List.of("<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>",
            "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>");
    private static final List<String> FIM_MID_TEXTS = List.of("<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>",
            "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>");
    private static final List<String> FIM_PAD_TEXTS = List.of("<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]");
    private static final List<String> FIM_REP_TEXTS = List.of("<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>");
    private static final List<String> FIM_SEP_TEXTS = List.of("<|file_sep|>");
    private static final List<String> EOG_TEXTS = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>",
            "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
            "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[");

    /**
     * Fills in end-of-turn and fill-in-the-middle ids not given in metadata from the token texts
     * (the first text of each list present in the vocabulary), marking such tokens as control
     * tokens; marks control tokens named "unused" as unused.
     */
    private void detectByText() {
        if (eot == NONE) eot = findControl(EOT_TEXTS);
        if (eom == NONE) eom = findControl(EOM_TEXTS);
        if (fimPre == NONE) fimPre = findControl(FIM_PRE_TEXTS);
        if (fimSuf == NONE) fimSuf = findControl(FIM_SUF_TEXTS);
        if (fimMid == NONE) fimMid = findControl(FIM_MID_TEXTS);
        if (fimPad == NONE) fimPad = findControl(FIM_PAD_TEXTS);
        if (fimRep == NONE) fimRep = findControl(FIM_REP_TEXTS);
        if (fimSep == NONE) fimSep = findControl(FIM_SEP_TEXTS);
        for (int i = 0; i < texts.length; i++) {
            if (has(i, TokenAttr.CONTROL) && texts[i].contains("unused")) attrs[i] |= TokenAttr.UNUSED;
        }
    }

    private int findControl(List<String> candidates) {
        for (String t : candidates) {
            int id = id(t);
            if (id != NONE) {
                attrs[id] |= TokenAttr.CONTROL;
                return id;
            }
        }
        return NONE;
    }

    private Set<Integer> collectEndOfGeneration() {
        Set<Integer> eog = new LinkedHashSet<>();
        for (int id : new int[]{fimPad, fimRep, fimSep}) if (id != NONE) eog.add(id);
        for (String t : EOG_TEXTS) {
            int id = id(t);
            if (id != NONE) {
                eog.add(id);
                attrs[id] |= TokenAttr.CONTROL;
            }
        }
        for (String t : List.of("<|channel|>", "<|message|>", "<|start|>", "<|constrain|>")) {
            int id = id(t);
            if (id != NONE) attrs[id] = TokenAttr.USER_DEFINED;
        }
        for (int id : new int[]{eos, eot, eom}) if (id != NONE) eog.add(id);
        // o200k_harmony and solar-open: <|end|> ends a message, not the generation
        boolean hasReturn = eogHas(eog, "<|return|>"), hasCall = eogHas(eog, "<|call|>") || eogHas(eog, "<|calls|>");
        boolean hasFlush = eogHas(eog, "<|flush|>");
        int end = id("<|end|>");
        if (end != NONE && eog.contains(end) && ((hasReturn && hasCall) || (hasCall && hasFlush))) {
            eog.remove(end);
            attrs[end] = TokenAttr.USER_DEFINED;
        }
        // gemma4: </s> is not an end of generation there
        int s = id("</s>");
        if (s != NONE && eog.contains(s) && eogHas(eog, "<|tool_response>")) {
            eog.remove(s);
            attrs[s] = TokenAttr.NORMAL;
        }
        return Set.copyOf(eog);
    }

    /**
     * llama.cpp's per-model strip attributes, chosen by general.name, tokenizer.ggml.pre and
     * general.architecture: Phi-3 drops whitespace after its special tokens (but not after
     * &lt;unk&gt;, &lt;s&gt; and &lt;|endoftext|&gt;); some BERT-like vocabularies drop it before their mask token.
     */
    private void setStripAttrs(GgufFile gguf) {
        String name = gguf.getString("general.name", "").toLowerCase(java.util.Locale.ROOT);
        String pre = gguf.getString("tokenizer.ggml.pre", "");
        String arch = gguf.getString("general.architecture", "");
        if (containsAny(pre, "jina-v2-de", "jina-v2-es", "jina-v2-code") || containsAny(arch, "nomic-bert-moe", "jina-bert-v3")) {
            setAttr("<mask>", TokenAttr.LSTRIP, true);
        } else if (containsAny(name, "phi-3", "phi3")) {
            for (int id : specialTokens) attrs[id] |= TokenAttr.RSTRIP;
            setAttr("</s>", TokenAttr.RSTRIP, true);
            for (String t : List.of("<unk>", "<s>", "<|endoftext|>")) setAttr(t, TokenAttr.RSTRIP, false);
        } else if (name.contains("modern-bert")) {
            setAttr("[MASK]", TokenAttr.LSTRIP, true);
        }
    }

    private static boolean containsAny(String s, String... parts) {
        for (String p : parts) if (s.contains(p)) return true;
        return false;
    }

    private void setAttr(String text, int attr, boolean on) {
        int id = id(text);
        if (id == NONE) return;
        attrs[id] = on ? attrs[id] | attr : attrs[id] & ~attr;
    }

    private boolean eogHas(Set<Integer> eog, String text) {
        int id = id(text);
        return id != NONE && eog.contains(id);
    }

    /** llama.cpp's token_to_piece(special = true) for one token. */
    private byte[] renderPiece(int id) {
        int attr = attrs[id];
        String text = texts[id];
        if ((attr & (TokenAttr.UNKNOWN | TokenAttr.CONTROL | TokenAttr.USER_DEFINED)) != 0) return utf8(text);
        if ((attr & TokenAttr.NORMAL) != 0) {
            return kind == Kind.SPM || escapeWhitespaces ? utf8(text.replace('\u2581', ' ')) : ByteLevel.decode(text);
        }
        if ((attr & TokenAttr.BYTE) != 0) return new byte[]{byteOf(text)};
        return new byte[0];
    }

    /** The byte of a byte token {@code <0xXX>} (llama.cpp reads the two characters after "<0x"). */
    private static byte byteOf(String text) {
        int v = 0;
        for (int i = 3; i < Math.min(5, text.length()); i++) {
            int d = Character.digit(text.charAt(i), 16);
            if (d < 0) break;
            v = v * 16 + d;
        }
        return (byte) v;
    }

    /**
     * UTF-8 bytes of a token text. Lone surrogates U+DC80..U+DCFF stand for single bytes that were
     * not valid UTF-8 in the file and are written back as those bytes.
     */
    static byte[] utf8(String s) {
        boolean plain = true;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0xDC80 && c <= 0xDCFF && !(i > 0 && Character.isHighSurrogate(s.charAt(i - 1)))) {
                plain = false;
                break;
            }
        }
        if (plain) return s.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length() + 8);
        int runStart = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0xDC80 && c <= 0xDCFF && !(i > 0 && Character.isHighSurrogate(s.charAt(i - 1)))) {
                out.writeBytes(s.substring(runStart, i).getBytes(StandardCharsets.UTF_8));
                out.write(c - 0xDC00);
                runStart = i + 1;
            }
        }
        out.writeBytes(s.substring(runStart).getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }
}
