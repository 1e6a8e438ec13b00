package dev.hearth.backend.opencl;

import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Node;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A device of its own runs a few plans (the int8 and tiled mul_mat, with their scratch, and
 * rms_norm), builds a program of its own and keeps a buffer open; closing it releases every
 * OpenCL object it made, by the count of {@link LiveObjects}.
 */
@Tag("opencl")
class ResourcesTest {
    @Test
    void closeReleasesEveryObject(@TempDir Path dir) {
        OpenClTesting.device();
        OpenClDevice d = (OpenClDevice) new OpenClProvider(dir).devices().getFirst();
        try (var c = new OpenClTesting.Case(7)) {
            Node w = c.weight("w", DType.Q4_0, 64, 9, 0.5f);
            for (int t : new int[] {1, 19}) {
                Node x = c.input("x" + t, DType.F32, 64, t, 1f);
                c.out(c.graph.rmsNorm("n" + t, c.graph.mulMat("y" + t, w, x), null, 1e-5f));
            }
            OpenClTesting.run(c, d);
        }
        d.build("probe.cl", "kernel void probe(global int* x) { x[get_global_id(0)] += 1; }\n");
        d.allocate(256, BufferUsage.COMPUTE);
        String before = d.live().toString();
        assertTrue(before.contains("kernel") && before.contains("program") && before.contains("mem"), before);
        d.close();
        assertEquals(0, d.live().total(), () -> "live after close: " + d.live() + " (before: " + before + ")");
        assertThrows(IllegalStateException.class, () -> d.allocate(4, BufferUsage.COMPUTE));
    }
}
