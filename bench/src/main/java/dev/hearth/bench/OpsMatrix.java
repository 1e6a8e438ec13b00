package dev.hearth.bench;

import dev.hearth.runtime.backend.BackendProvider;
import dev.hearth.runtime.backend.Backends;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.conformance.ConformanceRunner;
import dev.hearth.runtime.conformance.ConformanceRunner.Result;
import dev.hearth.runtime.conformance.ConformanceRunner.Status;
import dev.hearth.runtime.conformance.OpCase;
import dev.hearth.runtime.conformance.OpCases;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.tensor.TensorDesc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the ops matrix, {@code docs/ops.md}: one row per op (and type, where the op has one),
 * one column per device found, each cell saying whether the device supports the row and passes
 * its conformance cases. Rows for weight types that have no reference codec yet still show
 * whether a device claims them.
 *
 * <pre>java ... dev.hearth.bench.OpsMatrix [--support-only] [OUT.md]   (default docs/ops.md)</pre>
 *
 * {@code --support-only} asks each device what it supports without running the cases.
 */
public final class OpsMatrix {
    /** One row: its cases, or a probe node where there are none. */
    private record Row(String label, List<OpCase> cases, Node probe) {
    }

    private final List<Device> devices;
    private final boolean run;
    private final ConformanceRunner runner = new ConformanceRunner();
    private final List<String> failures = new ArrayList<>();
    /** Per device column: cases passed, failed, not supported. */
    private final Map<Device, int[]> counts = new LinkedHashMap<>();

    public OpsMatrix(List<Device> devices, boolean run) {
        this.devices = devices;
        this.run = run;
    }

    public static void main(String[] args) throws IOException {
        boolean run = true;
        Path out = Path.of("docs/ops.md");
        for (String a : args) {
            if (a.equals("--support-only")) run = false;
            else out = Path.of(a);
        }
        String md = new OpsMatrix(Backends.allDevices(), run).markdown();
        if (out.getParent() != null) Files.createDirectories(out.getParent());
        Files.writeString(out, md);
        System.out.println("wrote " + out.toAbsolutePath());
    }

    /** The matrix as a Markdown page. */
    public String markdown() {
        StringBuilder sb = new StringBuilder();
        sb.append("# Ops matrix\n\n");
        sb.append("Which device computes which op, and whether it agrees with the reference backend on the\n");
        sb.append("conformance cases (`dev.hearth.runtime.conformance.OpCases`). Written by `dev.hearth.bench.OpsMatrix`")
                .append(run ? "" : " (`--support-only`: cases not run)").append(".\n\n");
        sb.append("| cell | meaning |\n|---|---|\n");
        sb.append("| ✓ | supported; every case of the row ").append(run ? "passes" : "is supported").append(" |\n");
        sb.append("| ✓ p/n | p of the row's n cases are supported").append(run ? " and pass" : "").append("; the others are not supported |\n");
        if (run) sb.append("| ✗ | supported, but a case fails (see Failures below) |\n");
        sb.append("| — | not supported |\n");
        sb.append("| ? | the device says it supports it, but there is no reference codec for the type yet, so no case checks it |\n\n");
        sb.append("To write it again on this machine's devices (from the repository root):\n\n");
        sb.append("```\n. ci/jdk.sh\n");
        sb.append("mvn -q -DskipTests -pl bench -am package dependency:build-classpath -Dmdep.outputFile=/tmp/hearth-cp.txt\n");
        sb.append("java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \\\n");
        sb.append("  -cp bench/target/hearth-bench-0.1.0-SNAPSHOT.jar:$(cat /tmp/hearth-cp.txt) dev.hearth.bench.OpsMatrix docs/ops.md\n```\n\n");
        sb.append("Devices:\n\n");
        for (Device d : devices) sb.append("- `").append(column(d)).append("`: ").append(d.name()).append(" (").append(d.provider().name()).append(")\n");
        for (BackendProvider p : Backends.providers()) {
            if (devices.stream().noneMatch(d -> d.provider() == p) && p.devices().isEmpty()) {
                sb.append("- ").append(p.name()).append(": no device here (").append(p.unavailableReason()).append(")\n");
            }
        }
        sb.append("\n| op(type) |");
        for (Device d : devices) sb.append(' ').append(column(d)).append(" |");
        sb.append("\n|---|");
        sb.append("---|".repeat(devices.size())).append('\n');
        for (Row r : rows()) {
            sb.append("| ").append(r.label()).append(" |");
            for (Device d : devices) sb.append(' ').append(cell(r, d)).append(" |");
            sb.append('\n');
        }
        sb.append('\n');
        for (Device d : devices) {
            int[] c = counts.getOrDefault(d, new int[3]);
            sb.append("- `").append(column(d)).append("`: ").append(c[0]).append(run ? " cases pass, " : " cases supported, ");
            if (run) sb.append(c[1]).append(" fail, ");
            sb.append(c[2]).append(" not supported\n");
        }
        if (!failures.isEmpty()) {
            sb.append("\n## Failures\n\n");
            for (String f : failures) sb.append("- ").append(f).append('\n');
        }
        return sb.toString();
    }

    /** The column heading: the device name up to its first space ("opencl:0"). */
    private static String column(Device d) {
        String n = d.name();
        int sp = n.indexOf(' ');
        return sp > 0 ? n.substring(0, sp) : n;
    }

    private static String label(String op, DType type) {
        return type == null ? op : op + "(" + type.name().toLowerCase() + ")";
    }

    private static List<Row> rows() {
        Map<String, Row> rows = new LinkedHashMap<>();
        for (DType t : OpCases.allWeightTypes()) rows.put(label("mul_mat", t), new Row(label("mul_mat", t), new ArrayList<>(), probeMulMat(t)));
        for (DType t : OpCases.allWeightTypes()) rows.put(label("get_rows", t), new Row(label("get_rows", t), new ArrayList<>(), probeGetRows(t)));
        for (OpCase c : OpCases.all()) {
            String l = label(c.op(), c.type());
            rows.computeIfAbsent(l, k -> new Row(k, new ArrayList<>(), null)).cases().add(c);
        }
        return List.copyOf(rows.values());
    }

    private static Node probeMulMat(DType t) {
        Graph g = new Graph();
        return g.mulMat("y", g.weight(TensorDesc.of("w", t, 256, 64)), g.input("x", DType.F32, 256, 1));
    }

    private static Node probeGetRows(DType t) {
        Graph g = new Graph();
        return g.getRows("rows", g.weight(TensorDesc.of("table", t, 256, 40)), g.input("ids", DType.I32, 6));
    }

    private String cell(Row r, Device d) {
        if (r.cases().isEmpty()) return supports(d, r.probe()) ? "?" : "—";
        int supported = 0;
        int failed = 0;
        for (OpCase c : r.cases()) {
            Result res = run ? runner.run(c, d) : supportOnly(c, d);
            counts.computeIfAbsent(d, k -> new int[3])[res.status().ordinal()]++;
            if (res.status() == Status.SKIP) continue;
            supported++;
            if (res.status() == Status.FAIL) {
                failed++;
                failures.add("`" + column(d) + "` " + c.name() + ": " + res.detail());
            }
        }
        if (supported == 0) return "—";
        if (failed > 0) return "✗";
        return supported == r.cases().size() ? "✓" : "✓ " + supported + "/" + r.cases().size();
    }

    private static boolean supports(Device d, Node n) {
        try {
            return d.supports(n);
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static Result supportOnly(OpCase c, Device d) {
        try (OpCase.Instance inst = c.instantiate()) {
            String why = ConformanceRunner.unsupported(inst, d);
            return new Result(c, d.name(), why == null ? Status.PASS : Status.SKIP, Double.NaN, why == null ? "supported" : why);
        }
    }
}
