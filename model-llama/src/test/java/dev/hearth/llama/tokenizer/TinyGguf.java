package dev.hearth.llama.tokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Writes small GGUF v3 files with metadata only, for tokenizers built by hand in tests. */
final class TinyGguf {
    private final Map<String, Object> kv = new LinkedHashMap<>();

    TinyGguf put(String key, Object value) {
        kv.put(key, value);
        return this;
    }

    Path write(Path dir) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes("GGUF".getBytes(StandardCharsets.US_ASCII));
        u32(out, 3);
        u64(out, 0);
        u64(out, kv.size());
        for (Map.Entry<String, Object> e : kv.entrySet()) {
            string(out, e.getKey());
            value(out, e.getValue(), true);
        }
        while (out.size() % 32 != 0) out.write(0);
        Path p = Files.createTempFile(dir, "vocab", ".gguf");
        Files.write(p, out.toByteArray());
        return p;
    }

    private static void value(ByteArrayOutputStream out, Object v, boolean withType) {
        switch (v) {
            case String s -> {
                if (withType) u32(out, 8);
                string(out, s);
            }
            case Integer i -> {
                if (withType) u32(out, 4); // UINT32
                u32(out, i);
            }
            case Float f -> {
                if (withType) u32(out, 6);
                u32(out, Float.floatToIntBits(f));
            }
            case Boolean b -> {
                if (withType) u32(out, 7);
                out.write(b ? 1 : 0);
            }
            case int[] a -> {
                u32(out, 9);
                u32(out, 5); // INT32
                u64(out, a.length);
                for (int x : a) u32(out, x);
            }
            case float[] a -> {
                u32(out, 9);
                u32(out, 6);
                u64(out, a.length);
                for (float x : a) u32(out, Float.floatToIntBits(x));
            }
            case List<?> l -> {
                u32(out, 9);
                u32(out, 8);
                u64(out, l.size());
                for (Object o : l) string(out, (String) o);
            }
            default -> throw new IllegalArgumentException("unsupported metadata value " + v);
        }
    }

    private static void string(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        u64(out, b.length);
        out.writeBytes(b);
    }

    private static void u32(ByteArrayOutputStream out, int v) {
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
    }

    private static void u64(ByteArrayOutputStream out, long v) {
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }
}
