package dev.hearth.server;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.gguf.GgufFile;
import dev.hearth.runtime.gguf.GgufTensorInfo;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What the model lists say of a GGUF file, read from its header without loading it: size,
 * modification time, a digest, the architecture (family), the parameter count and the
 * quantization. The digest is the SHA-256 of the size and the first and last 4 MiB of the file:
 * cheap on large files, stable while the file is unchanged, and different for different
 * quantizations and fine-tunes (it is not the SHA-256 of the whole file).
 */
public record ModelInfo(String name, Path file, long size, Instant modified, String digest, String family, long parameters,
                        String quantization, Map<String, Object> header) {
    private static final int DIGEST_SPAN = 4 << 20;

    /** Reads {@code file}'s header; throws HearthException where it is not a readable GGUF file. */
    public static ModelInfo read(String name, Path file, Instant modified) {
        try (GgufFile f = GgufFile.open(file)) {
            long params = 0;
            Map<String, Long> bytesByType = new LinkedHashMap<>();
            for (GgufTensorInfo t : f.tensorList()) {
                params += t.desc().elements();
                bytesByType.merge(t.desc().type().name(), t.desc().type().bytesFor(t.desc().elements()), Long::sum);
            }
            String quant = fileType(f.getInt("general.file_type", -1));
            if (quant == null) {
                quant = bytesByType.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse("unknown");
            }
            Map<String, Object> header = new LinkedHashMap<>();
            for (var e : f.metadata().entrySet()) {
                String k = e.getKey();
                if (k.startsWith("tokenizer.ggml.") && !k.equals("tokenizer.ggml.model") && !k.equals("tokenizer.ggml.pre")) continue;
                if (k.equals("tokenizer.chat_template")) continue;
                Object v = e.getValue().value();
                if (v instanceof Number || v instanceof String || v instanceof Boolean) header.put(k, v);
            }
            header.put("general.parameter_count", params);
            return new ModelInfo(name, file, f.fileSize(), modified, digest(file, f.fileSize()), f.getString("general.architecture", "unknown"),
                    params, quant, header);
        }
    }

    /** The model's size in Ollama's words: "8.0B", "135.0M", "292.9K". */
    public String parameterSize() {
        if (parameters >= 1_000_000_000L) return String.format(Locale.ROOT, "%.1fB", parameters / 1e9);
        if (parameters >= 1_000_000L) return String.format(Locale.ROOT, "%.1fM", parameters / 1e6);
        if (parameters >= 1_000L) return String.format(Locale.ROOT, "%.1fK", parameters / 1e3);
        return Long.toString(parameters);
    }

    /** Ollama's "details" object. */
    public Map<String, Object> details() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("parent_model", "");
        d.put("format", "gguf");
        d.put("family", family);
        d.put("families", java.util.List.of(family));
        d.put("parameter_size", parameterSize());
        d.put("quantization_level", quantization);
        return d;
    }

    private static String digest(Path file, long size) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(ByteBuffer.allocate(8).putLong(0, size));
            update(md, ch, 0, Math.min(size, DIGEST_SPAN));
            if (size > DIGEST_SPAN) update(md, ch, Math.max(DIGEST_SPAN, size - DIGEST_SPAN), size);
            return "sha256:" + HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new HearthException(file + ": cannot be read (" + e.getMessage() + ")");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void update(MessageDigest md, FileChannel ch, long from, long to) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(1 << 16);
        long pos = from;
        while (pos < to) {
            buf.clear().limit((int) Math.min(buf.capacity(), to - pos));
            int n = ch.read(buf, pos);
            if (n < 0) break;
            buf.flip();
            md.update(buf);
            pos += n;
        }
    }

    /** llama.cpp's names of general.file_type; null where the file gives none or one not named here. */
    static String fileType(int t) {
        return switch (t) {
            case 0 -> "F32";
            case 1 -> "F16";
            case 2 -> "Q4_0";
            case 3 -> "Q4_1";
            case 7 -> "Q8_0";
            case 8 -> "Q5_0";
            case 9 -> "Q5_1";
            case 10 -> "Q2_K";
            case 11 -> "Q3_K_S";
            case 12 -> "Q3_K_M";
            case 13 -> "Q3_K_L";
            case 14 -> "Q4_K_S";
            case 15 -> "Q4_K_M";
            case 16 -> "Q5_K_S";
            case 17 -> "Q5_K_M";
            case 18 -> "Q6_K";
            case 19 -> "IQ2_XXS";
            case 20 -> "IQ2_XS";
            case 21 -> "Q2_K_S";
            case 22 -> "IQ3_XS";
            case 23 -> "IQ3_XXS";
            case 24 -> "IQ1_S";
            case 25 -> "IQ4_NL";
            case 26 -> "IQ3_S";
            case 27 -> "IQ3_M";
            case 28 -> "IQ2_S";
            case 29 -> "IQ2_M";
            case 30 -> "IQ4_XS";
            case 31 -> "IQ1_M";
            case 32 -> "BF16";
            case 36 -> "TQ1_0";
            case 37 -> "TQ2_0";
            case 38 -> "MXFP4";
            default -> null;
        };
    }
}
