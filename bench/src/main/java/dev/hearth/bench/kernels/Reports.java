package dev.hearth.bench.kernels;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.json.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The kernel results as text: a Markdown table (the probes of each device, then one row per case),
 * a JSON array (one object per case), both written next to each other by {@link #write}, and the
 * comparison of two JSON files: B's speed over A's for every case both measured.
 */
public final class Reports {
    private Reports() {
    }

    /** The probes, then the cases, as Markdown. */
    public static String markdown(List<KernelResult> results) {
        StringBuilder sb = new StringBuilder();
        sb.append("| device | threads | copy GB/s | triad GB/s |\n| --- | ---: | ---: | ---: |\n");
        Map<String, KernelResult> probes = new LinkedHashMap<>();
        for (KernelResult r : results) probes.putIfAbsent(r.device() + "/" + r.threads(), r);
        for (KernelResult r : probes.values()) {
            sb.append(String.format(Locale.ROOT, "| %s | %d | %.1f | %.1f |%n", r.device(), r.threads(), r.probeCopyGbps(), r.probeTriadGbps()));
        }
        sb.append('\n').append(header());
        for (KernelResult r : results) sb.append(row(r)).append('\n');
        return sb.toString();
    }

    /** The header of the case table. */
    public static String header() {
        return "| device | op | type | shape | time µs | min µs | GB/s | GFLOP/s | probe GB/s | % of probe |\n"
                + "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n";
    }

    /** One case as a row of the table. */
    public static String row(KernelResult r) {
        return String.format(Locale.ROOT, "| %s | %s | %s | %s %s | %s | %s | %.1f | %.1f | %.1f | %s |", r.deviceFamily(), r.op(), r.type(),
                r.family(), r.shape(), time(r.medianUs()), time(r.minUs()), r.gbps(), r.gflops(), r.probeGbps(),
                Double.isNaN(r.percentOfProbe()) ? "" : String.format(Locale.ROOT, "%.0f%%", r.percentOfProbe()));
    }

    private static String time(double us) {
        if (!Double.isFinite(us)) return "";
        return String.format(Locale.ROOT, us >= 100 ? "%.0f" : us >= 10 ? "%.1f" : "%.2f", us);
    }

    /** The results as a JSON array, one object a line. */
    public static String json(List<KernelResult> results) {
        List<String> lines = new ArrayList<>();
        for (KernelResult r : results) lines.add(Json.write(r.toJson()));
        return lines.isEmpty() ? "[]\n" : "[\n  " + String.join(",\n  ", lines) + "\n]\n";
    }

    /** Writes {@code base}.json and {@code base}.md (a ".json" or ".md" ending of {@code base} is dropped). */
    public static List<Path> write(Path base, List<KernelResult> results) {
        String name = base.getFileName().toString().replaceFirst("\\.(json|md)$", "");
        Path json = base.resolveSibling(name + ".json");
        Path md = base.resolveSibling(name + ".md");
        try {
            if (json.getParent() != null) Files.createDirectories(json.getParent());
            Files.writeString(json, json(results));
            Files.writeString(md, markdown(results));
        } catch (IOException e) {
            throw new HearthException(base + ": cannot write the results: " + e.getMessage());
        }
        return List.of(json, md);
    }

    /** The results of a JSON file written by {@link #write} (or by {@code -o json}). */
    public static List<KernelResult> read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new HearthException(file + ": no such file (give two JSON files of 'hearth bench --kernels -o FILE.json')");
        } catch (IOException e) {
            throw new HearthException(file + ": cannot read: " + e.getMessage());
        }
        Object v;
        try {
            v = Json.parse(text.strip());
        } catch (Json.JsonException e) {
            throw new HearthException(file + ": " + e.getMessage());
        }
        if (!(v instanceof List<?> list)) throw new HearthException(file + ": expected a JSON array of results");
        List<KernelResult> out = new ArrayList<>();
        for (Object o : list) out.add(KernelResult.fromJson(o, file.toString()));
        return out;
    }

    /** One case measured by both runs. */
    public record Pair(KernelResult a, KernelResult b) {
        /** B's speed over A's: A's time over B's; above 1, B is faster. */
        public double ratio() {
            return a.medianUs() / b.medianUs();
        }
    }

    /** The cases both lists hold, matched by {@link KernelResult#key}, in A's order. */
    public static List<Pair> match(List<KernelResult> a, List<KernelResult> b) {
        Map<String, KernelResult> bs = new LinkedHashMap<>();
        for (KernelResult r : b) bs.putIfAbsent(r.key(), r);
        List<Pair> out = new ArrayList<>();
        for (KernelResult r : a) {
            KernelResult o = bs.get(r.key());
            if (o != null) out.add(new Pair(r, o));
        }
        return out;
    }

    /** The comparison table of two runs, with the geometric mean of the ratios per device and op. */
    public static String compare(List<KernelResult> a, List<KernelResult> b, String nameA, String nameB) {
        List<Pair> pairs = match(a, b);
        StringBuilder sb = new StringBuilder();
        sb.append("A: ").append(nameA).append("\nB: ").append(nameB).append("\n");
        sb.append("B/A: B's speed over A's (A's time over B's time); above 1, B is faster\n\n");
        if (pairs.isEmpty()) {
            sb.append("no case in common (cases are matched by device family, op, type and shape)\n");
            return sb.toString();
        }
        Map<String, double[]> probes = new LinkedHashMap<>();
        for (Pair p : pairs) probes.putIfAbsent(p.a().deviceFamily(), new double[]{p.a().probeGbps(), p.b().probeGbps()});
        sb.append("| device | probe A GB/s | probe B GB/s | B/A |\n| --- | ---: | ---: | ---: |\n");
        probes.forEach((d, v) -> sb.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f | %s |%n", d, v[0], v[1], ratio(v[1] / v[0]))));
        sb.append("\n| device | op | type | shape | A µs | B µs | A GB/s | B GB/s | B/A |\n");
        sb.append("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
        Map<String, double[]> logs = new LinkedHashMap<>();
        for (Pair p : pairs) {
            KernelResult x = p.a();
            sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %s %s | %s | %s | %.1f | %.1f | %s |%n", x.deviceFamily(), x.op(), x.type(),
                    x.family(), x.shape(), time(x.medianUs()), time(p.b().medianUs()), x.gbps(), p.b().gbps(), ratio(p.ratio())));
            double[] acc = logs.computeIfAbsent(x.deviceFamily() + " | " + x.op(), k -> new double[2]);
            acc[0] += Math.log(p.ratio());
            acc[1]++;
        }
        sb.append("\n| device | op | cases | geometric mean B/A |\n| --- | --- | ---: | ---: |\n");
        logs.forEach((k, v) -> sb.append(String.format(Locale.ROOT, "| %s | %d | %s |%n", k, (int) v[1], ratio(Math.exp(v[0] / v[1])))));
        int onlyA = a.size() - pairs.size();
        int onlyB = b.size() - pairs.size();
        if (onlyA > 0 || onlyB > 0) sb.append(String.format(Locale.ROOT, "%nnot in both: %d case(s) only in A, %d only in B%n", onlyA, onlyB));
        return sb.toString();
    }

    private static String ratio(double r) {
        return Double.isFinite(r) ? String.format(Locale.ROOT, "%.2f", r) : "";
    }
}
