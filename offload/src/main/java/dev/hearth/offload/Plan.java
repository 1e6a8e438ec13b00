package dev.hearth.offload;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Where each part of a model goes. {@code layerDevice[l]} for blocks 0..n-1 is -1 for the CPU or
 * the index of a GPU in the request; {@code headDevice} likewise for the output head. The
 * embedding stays on the CPU (a row lookup per token). {@code expertsOnCpu[l]} is true where block
 * l is on a GPU but its experts stay on the CPU. {@code rows} is the table to print.
 */
public record Plan(int[] layerDevice, int headDevice, int ctx, List<Row> rows, List<String> notes, boolean[] expertsOnCpu) {
    public Plan(int[] layerDevice, int headDevice, int ctx, List<Row> rows, List<String> notes) {
        this(layerDevice, headDevice, ctx, rows, notes, new boolean[layerDevice.length]);
    }

    /** One line of the placement table. */
    public record Row(String device, String layers, long weights, long kv, long compute, long freeAfter) {
    }

    public int gpuLayerCount() {
        int n = 0;
        for (int d : layerDevice) if (d >= 0) n++;
        return n;
    }

    /** The rows as a table whose columns are as wide as their widest cell (a long device name does not push the others). */
    public String table() {
        List<String[]> cells = new ArrayList<>();
        cells.add(new String[] {"device", "layers", "weights", "KV", "compute", "free after"});
        for (Row r : rows) {
            cells.add(new String[] {r.device().strip().replaceAll("\\s+", " "), r.layers(), mib(r.weights()), mib(r.kv()), mib(r.compute()),
                    r.freeAfter() == Long.MIN_VALUE ? "-" : mib(r.freeAfter())});
        }
        int[] width = new int[6];
        for (String[] c : cells) for (int i = 0; i < 6; i++) width[i] = Math.max(width[i], c[i].length());
        StringBuilder sb = new StringBuilder();
        for (String[] c : cells) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < 6; i++) {
                if (i > 0) line.append("  ");
                String pad = " ".repeat(width[i] - c[i].length());
                line.append(i < 2 ? c[i] + pad : pad + c[i]); // names to the left, sizes to the right
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
        sb.append(String.format(Locale.ROOT, "context: %d tokens%n", ctx));
        for (String n : notes) sb.append("note: ").append(n).append('\n');
        return sb.toString();
    }

    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    static String ranges(List<Integer> layers) {
        if (layers.isEmpty()) return "-";
        List<String> parts = new ArrayList<>();
        int start = layers.getFirst();
        int prev = start;
        for (int i = 1; i <= layers.size(); i++) {
            if (i < layers.size() && layers.get(i) == prev + 1) {
                prev = layers.get(i);
                continue;
            }
            parts.add(start == prev ? Integer.toString(start) : start + "-" + prev);
            if (i < layers.size()) start = prev = layers.get(i);
        }
        return String.join(",", parts);
    }
}
