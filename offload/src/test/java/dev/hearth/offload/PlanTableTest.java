package dev.hearth.offload;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The placement table keeps its columns whatever the length of a device's name (PoCL's are long). */
class PlanTableTest {
    @Test
    void columnsHoldWithALongDeviceName() {
        String pocl = "opencl:0 cpu-sapphirerapids-Intel(R) Xeon(R) Platinum 8480+ (Portable Computing Language)";
        Plan p = new Plan(new int[] {0, 0, -1}, 0, 4096, List.of(
                new Plan.Row(pocl, "0-1 +head", 700L << 20, 64L << 20, 12L << 20, 30_000L << 20),
                new Plan.Row("cpu", "2", 350L << 20, 32L << 20, 6L << 20, Long.MIN_VALUE)), List.of("a note"));
        List<String> lines = p.table().lines().toList();
        List<String> table = lines.subList(0, 3);
        int layers = table.get(0).indexOf("layers");
        assertEquals(layers, table.get(1).indexOf("0-1 +head"), p.table());
        assertEquals(layers, table.get(2).indexOf("2 "), p.table());
        // sizes are right-aligned: every line of the table ends at the same column
        assertEquals(table.get(0).length(), table.get(1).length(), p.table());
        assertEquals(table.get(0).length(), table.get(2).length(), p.table());
        int weightsEnd = table.get(0).indexOf("weights") + "weights".length();
        assertEquals(weightsEnd, table.get(1).indexOf("700.0 MiB") + "700.0 MiB".length(), p.table());
        assertEquals("context: 4096 tokens", lines.get(3));
        assertEquals("note: a note", lines.get(4));
    }
}
