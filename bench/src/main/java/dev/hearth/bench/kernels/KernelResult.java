package dev.hearth.bench.kernels;

import dev.hearth.runtime.HearthException;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One measured case on one device: the times, the work, and the device's probed bandwidth, from
 * which GB/s, GFLOP/s and the share of the probe follow; {@code copies} says over how many copies
 * of its weights the runs went round ({@link BoundCase}). One JSON object per result; two runs
 * are matched by {@link #key()}: the device family ("cpu", "opencl:0", "cuda:0") and the case.
 */
public record KernelResult(String kernelCase, String op, String type, String family, String shape, String device,
                           int threads, double medianUs, double minUs, int runs, long bytes, long flops,
                           double probeGbps, double probeCopyGbps, double probeTriadGbps, int copies, String timer) {

    /** GB/s moved at the median time. */
    public double gbps() {
        return medianUs > 0 ? bytes / (medianUs * 1e3) : 0;
    }

    /** GFLOP/s done at the median time. */
    public double gflops() {
        return medianUs > 0 ? flops / (medianUs * 1e3) : 0;
    }

    /** The share of the probed bandwidth reached, in percent (NaN where there is no probe). */
    public double percentOfProbe() {
        return probeGbps > 0 ? 100 * gbps() / probeGbps : Double.NaN;
    }

    /** The device's name up to its first space: "cpu", "opencl:0", "cuda:0". */
    public String deviceFamily() {
        return deviceFamily(device);
    }

    public static String deviceFamily(String device) {
        int sp = device.indexOf(' ');
        return sp < 0 ? device : device.substring(0, sp);
    }

    /** What two runs are matched by: device family, op, type and shape. */
    public String key() {
        return deviceFamily() + " | " + op + " | " + type + " | " + family + " " + shape;
    }

    /** The result as a JSON object (derived figures included, for readers other than this one). */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("case", kernelCase);
        m.put("op", op);
        m.put("type", type);
        m.put("family", family);
        m.put("shape", shape);
        m.put("device", device);
        m.put("device_family", deviceFamily());
        m.put("threads", threads);
        m.put("time_us", round(medianUs));
        m.put("time_min_us", round(minUs));
        m.put("runs", runs);
        m.put("bytes", bytes);
        m.put("flops", flops);
        m.put("gbps", round(gbps()));
        m.put("gflops", round(gflops()));
        m.put("probe_gbps", round(probeGbps));
        m.put("probe_copy_gbps", round(probeCopyGbps));
        m.put("probe_triad_gbps", round(probeTriadGbps));
        m.put("percent_of_probe", round(percentOfProbe()));
        m.put("copies", copies);
        m.put("timer", timer);
        return m;
    }

    /** Reads an object written by {@link #toJson}; {@code where} names the file in errors. */
    public static KernelResult fromJson(Object o, String where) {
        if (!(o instanceof Map<?, ?> m)) throw new HearthException(where + ": each result must be a JSON object");
        return new KernelResult(str(m, "case", where), str(m, "op", where), str(m, "type", where), str(m, "family", where),
                str(m, "shape", where), str(m, "device", where), (int) num(m, "threads", where, 0), num(m, "time_us", where, -1),
                num(m, "time_min_us", where, Double.NaN), (int) num(m, "runs", where, 0), (long) num(m, "bytes", where, 0),
                (long) num(m, "flops", where, 0), num(m, "probe_gbps", where, 0), num(m, "probe_copy_gbps", where, 0),
                num(m, "probe_triad_gbps", where, 0), (int) num(m, "copies", where, 1), m.get("timer") instanceof String s ? s : "");
    }

    private static String str(Map<?, ?> m, String key, String where) {
        if (m.get(key) instanceof String s) return s;
        throw new HearthException(where + ": a result lacks the text field \"" + key + "\" (is this a file of 'hearth bench --kernels'?)");
    }

    private static double num(Map<?, ?> m, String key, String where, double dflt) {
        Object v = m.get(key);
        if (v instanceof Number n) return n.doubleValue();
        if (v == null && dflt >= 0) return dflt;
        if (v == null && Double.isNaN(dflt)) return dflt;
        throw new HearthException(where + ": a result lacks the number field \"" + key + "\" (is this a file of 'hearth bench --kernels'?)");
    }

    private static double round(double v) {
        if (!Double.isFinite(v)) return v;
        double scale = Math.abs(v) >= 100 ? 100 : Math.abs(v) >= 1 ? 1000 : 1e6;
        return Math.round(v * scale) / scale;
    }
}
