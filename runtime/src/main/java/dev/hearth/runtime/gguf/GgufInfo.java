package dev.hearth.runtime.gguf;

import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.tensor.TensorDesc;

import java.io.PrintStream;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/**
 * The report {@code hearth info} prints for a GGUF file: where it is and how it is laid out,
 * every metadata key (long arrays and strings summarised), a table of tensors, and totals by
 * type and overall (parameters, bytes, bits per weight). A pure function of the file.
 */
public final class GgufInfo {
    /**
     * What to show: the first {@code arrayItems} items of an array, the first {@code stringChars}
     * characters of a string, and the tensor table or not.
     */
    public record Options(int arrayItems, int stringChars, boolean tensorTable) {
        public static final Options DEFAULT = new Options(5, 120, true);
    }

    private GgufInfo() {
    }

    public static String render(GgufFile file) {
        return render(file, Options.DEFAULT);
    }

    public static void print(GgufFile file, PrintStream out) {
        out.print(render(file, Options.DEFAULT));
        out.flush();
    }

    public static String render(GgufFile file, Options o) {
        StringBuilder sb = new StringBuilder();
        line(sb, "file", file.path().toString());
        line(sb, "format", "GGUF version " + file.version());
        line(sb, "file size", size(file.fileSize()));
        line(sb, "alignment", Integer.toString(file.alignment()));
        line(sb, "data offset", group(file.dataOffset()));
        line(sb, "architecture", text(file, "general.architecture", o));
        line(sb, "name", text(file, "general.name", o));

        Map<String, GgufValue> meta = file.metadata();
        sb.append('\n').append("metadata: ").append(meta.size()).append(meta.size() == 1 ? " key" : " keys").append('\n');
        for (Map.Entry<String, GgufValue> kv : meta.entrySet()) {
            GgufValue v = kv.getValue();
            String type = v.value() instanceof GgufArray ? "array" : v.type().name().toLowerCase(Locale.ROOT);
            sb.append("  ").append(kv.getKey()).append(" (").append(type).append(") = ")
                    .append(v.summary(o.arrayItems(), o.stringChars())).append('\n');
        }

        var tensors = file.tensorList();
        sb.append('\n').append("tensors: ").append(tensors.size()).append('\n');
        Map<DType, long[]> byType = new EnumMap<>(DType.class); // count, bytes, elements
        long params = 0, bytes = 0;
        int nameWidth = 4, shapeWidth = 5;
        for (GgufTensorInfo t : tensors) {
            nameWidth = Math.max(nameWidth, Math.min(60, t.name().length()));
            shapeWidth = Math.max(shapeWidth, shape(t.desc()).length());
        }
        if (o.tensorTable() && !tensors.isEmpty()) {
            String fmt = "  %-" + nameWidth + "s  %-8s  %-" + shapeWidth + "s  %14s%n";
            sb.append(String.format(Locale.ROOT, fmt, "name", "type", "shape", "bytes"));
            for (GgufTensorInfo t : tensors) {
                TensorDesc d = t.desc();
                sb.append(String.format(Locale.ROOT, fmt, d.name(), d.type(), shape(d), group(d.bytes())));
            }
        }
        for (GgufTensorInfo t : tensors) {
            TensorDesc d = t.desc();
            long[] acc = byType.computeIfAbsent(d.type(), k -> new long[3]);
            acc[0]++;
            acc[1] = addCapped(acc[1], d.bytes());
            acc[2] = addCapped(acc[2], d.elements());
            params = addCapped(params, d.elements());
            bytes = addCapped(bytes, d.bytes());
        }
        if (!byType.isEmpty()) {
            sb.append('\n').append("by type:").append('\n');
            for (Map.Entry<DType, long[]> e : byType.entrySet()) {
                long[] a = e.getValue();
                sb.append(String.format(Locale.ROOT, "  %-8s %6d %s  %17s parameters  %s%n", e.getKey(), a[0], a[0] == 1 ? "tensor " : "tensors",
                        group(a[2]), size(a[1])));
            }
        }
        sb.append('\n');
        line(sb, "parameters", group(params) + (params >= 1000 ? " (" + count(params) + ")" : ""));
        line(sb, "tensor bytes", size(bytes));
        line(sb, "bits/weight", params == 0 ? "-" : String.format(Locale.ROOT, "%.2f", bytes * 8.0 / params));
        return sb.toString();
    }

    private static String text(GgufFile file, String key, Options o) {
        GgufValue v = file.value(key);
        if (v == null) return "(not set)";
        return v.value() instanceof String s ? GgufValue.quote(s, o.stringChars()) : v.summary(o.arrayItems(), o.stringChars());
    }

    private static void line(StringBuilder sb, String label, String value) {
        sb.append(String.format(Locale.ROOT, "%-13s %s%n", label, value));
    }

    private static String shape(TensorDesc d) {
        return d.shapeString();
    }

    private static long addCapped(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }

    static String group(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    /** A byte count with its binary-prefixed size: "1,185,344 bytes (1.13 MiB)". */
    static String size(long n) {
        String exact = group(n) + (n == 1 ? " byte" : " bytes");
        if (n < 1024) return exact;
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return exact + String.format(Locale.ROOT, " (%.2f %s)", v, units[u]);
    }

    /** A parameter count in short form: 292.8K, 7.24B. */
    static String count(long n) {
        String[] units = {"K", "M", "B", "T"};
        double v = n;
        int u = -1;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return u < 0 ? Long.toString(n) : String.format(Locale.ROOT, "%.1f%s", v, units[u]);
    }
}
