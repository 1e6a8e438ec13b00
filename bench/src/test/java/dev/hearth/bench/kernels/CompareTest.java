package dev.hearth.bench.kernels;

import dev.hearth.runtime.HearthException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Two hand-written result files compared: matched by device family, op, type and shape. */
class CompareTest {
    private static final String A = """
            [
              {"case": "mul_mat 1b attn_q k=2048 n=2048 t=1 q4_0", "op": "mul_mat", "type": "q4_0", "family": "1b",
               "shape": "attn_q k=2048 n=2048 t=1", "device": "cpu", "threads": 2, "time_us": 100.0, "time_min_us": 90.0,
               "runs": 10, "bytes": 2375680, "flops": 8388608, "probe_gbps": 40.0, "probe_copy_gbps": 40.0, "probe_triad_gbps": 38.0},
              {"case": "mul_mat 1b attn_q k=2048 n=2048 t=1 q8_0", "op": "mul_mat", "type": "q8_0", "family": "1b",
               "shape": "attn_q k=2048 n=2048 t=1", "device": "cpu", "threads": 2, "time_us": 200.0, "time_min_us": 190.0,
               "runs": 10, "bytes": 4472832, "flops": 8388608, "probe_gbps": 40.0, "probe_copy_gbps": 40.0, "probe_triad_gbps": 38.0},
              {"case": "rope 1b k=2048 head_dim=64 t=1 f32", "op": "rope", "type": "f32", "family": "1b",
               "shape": "k=2048 head_dim=64 t=1", "device": "opencl:0 Old GPU (Some platform)", "threads": 0, "time_us": 10.0,
               "time_min_us": 9.0, "runs": 100, "bytes": 16388, "flops": 6144, "probe_gbps": 100.0, "probe_copy_gbps": 100.0,
               "probe_triad_gbps": 90.0},
              {"case": "swiglu 1b k=8192 t=1 f32", "op": "swiglu", "type": "f32", "family": "1b", "shape": "k=8192 t=1",
               "device": "cpu", "threads": 2, "time_us": 5.0, "time_min_us": 4.0, "runs": 100, "bytes": 98304, "flops": 40960,
               "probe_gbps": 40.0, "probe_copy_gbps": 40.0, "probe_triad_gbps": 38.0}
            ]
            """;
    private static final String B = """
            [
              {"case": "mul_mat 1b attn_q k=2048 n=2048 t=1 q8_0", "op": "mul_mat", "type": "q8_0", "family": "1b",
               "shape": "attn_q k=2048 n=2048 t=1", "device": "cpu", "threads": 8, "time_us": 400.0, "time_min_us": 390.0,
               "runs": 10, "bytes": 4472832, "flops": 8388608, "probe_gbps": 60.0, "probe_copy_gbps": 60.0, "probe_triad_gbps": 55.0},
              {"case": "mul_mat 1b attn_q k=2048 n=2048 t=1 q4_0", "op": "mul_mat", "type": "q4_0", "family": "1b",
               "shape": "attn_q k=2048 n=2048 t=1", "device": "cpu", "threads": 8, "time_us": 50.0, "time_min_us": 45.0,
               "runs": 10, "bytes": 2375680, "flops": 8388608, "probe_gbps": 60.0, "probe_copy_gbps": 60.0, "probe_triad_gbps": 55.0},
              {"case": "rope 1b k=2048 head_dim=64 t=1 f32", "op": "rope", "type": "f32", "family": "1b",
               "shape": "k=2048 head_dim=64 t=1", "device": "opencl:0 New GPU (Other platform)", "threads": 0, "time_us": 2.5,
               "time_min_us": 2.0, "runs": 100, "bytes": 16388, "flops": 6144, "probe_gbps": 500.0, "probe_copy_gbps": 500.0,
               "probe_triad_gbps": 450.0},
              {"case": "rope 1b k=2048 head_dim=64 t=1 f32", "op": "rope", "type": "f32", "family": "1b",
               "shape": "k=2048 head_dim=64 t=1", "device": "cuda:0 New GPU", "threads": 0, "time_us": 1.0,
               "time_min_us": 1.0, "runs": 100, "bytes": 16388, "flops": 6144, "probe_gbps": 900.0, "probe_copy_gbps": 900.0,
               "probe_triad_gbps": 850.0}
            ]
            """;

    @TempDir
    Path dir;

    private Path write(String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    @Test
    void matchedCasesGiveBsSpeedOverAs() throws IOException {
        List<KernelResult> a = Reports.read(write("a.json", A));
        List<KernelResult> b = Reports.read(write("b.json", B));
        List<Reports.Pair> pairs = Reports.match(a, b);
        assertEquals(3, pairs.size()); // swiglu only in A, cuda only in B
        assertEquals("q4_0", pairs.get(0).a().type());
        assertEquals(2.0, pairs.get(0).ratio(), 1e-12); // 100 us -> 50 us
        assertEquals("q8_0", pairs.get(1).b().type());
        assertEquals(0.5, pairs.get(1).ratio(), 1e-12); // 200 us -> 400 us
        assertEquals("opencl:0 New GPU (Other platform)", pairs.get(2).b().device()); // same family, other device name
        assertEquals(4.0, pairs.get(2).ratio(), 1e-12);

        String text = Reports.compare(a, b, "a.json", "b.json");
        assertTrue(text.contains("| cpu | mul_mat | q4_0 | 1b attn_q k=2048 n=2048 t=1 | 100 | 50.0 | 23.8 | 47.5 | 2.00 |"), text);
        assertTrue(text.contains("| cpu | mul_mat | 2 | 1.00 |"), text); // geometric mean of 2 and 0.5
        assertTrue(text.contains("| opencl:0 | rope | 1 | 4.00 |"), text);
        assertTrue(text.contains("| cpu | 40.0 | 60.0 | 1.50 |"), text); // probe ratio
        assertTrue(text.contains("1 case(s) only in A, 1 only in B"), text);
    }

    @Test
    void writtenResultsReadBackAndCompareEvenly() {
        List<KernelResult> a = Reports.read(write0("a.json", A));
        List<Path> files = Reports.write(dir.resolve("run.json"), a);
        assertEquals(List.of(dir.resolve("run.json"), dir.resolve("run.md")), files);
        List<KernelResult> back = Reports.read(files.getFirst());
        assertEquals(a.size(), back.size());
        for (Reports.Pair p : Reports.match(a, back)) assertEquals(1.0, p.ratio(), 1e-12);
        assertTrue(Reports.markdown(back).contains("| cpu | 2 | 40.0 | 38.0 |"));
    }

    private Path write0(String name, String text) {
        try {
            return write(name, text);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void filesThatAreNotResultsSaySo() throws IOException {
        HearthException e = assertThrows(HearthException.class, () -> Reports.read(dir.resolve("missing.json")));
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());
        Path obj = write("obj.json", "{\"a\": 1}");
        assertTrue(assertThrows(HearthException.class, () -> Reports.read(obj)).getMessage().contains("array"));
        Path bad = write("bad.json", "[{\"case\": \"x\"}]");
        assertTrue(assertThrows(HearthException.class, () -> Reports.read(bad)).getMessage().contains("\"op\""));
        Path broken = write("broken.json", "[{");
        assertThrows(HearthException.class, () -> Reports.read(broken));
    }
}
