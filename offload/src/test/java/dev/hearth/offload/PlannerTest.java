package dev.hearth.offload;

import dev.hearth.runtime.HearthException;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The planner with fake devices of given sizes: pure numbers, no GPU. */
class PlannerTest {
    static final long MIB = 1 << 20;
    // 8 blocks of 100 MiB, a 50 MiB embedding, a 60 MiB head, 1 MiB of KV per 1024 tokens per block, 20 MiB compute.
    static final MemoryProfile P = new MemoryProfile(8, fill(8, 100 * MIB), 50 * MIB, 60 * MIB, 1024, 20 * MIB);

    static long[] fill(int n, long v) {
        long[] a = new long[n];
        Arrays.fill(a, v);
        return a;
    }

    static PlanRequest req(List<PlanRequest.GpuInfo> gpus, int ctx, int layers, long[] budgets, double[] split) {
        return new PlanRequest(P, gpus, ctx, 256, 10 * MIB, layers, budgets, split, 64L << 30);
    }

    static PlanRequest.GpuInfo gpu(String name, long mib) {
        return new PlanRequest.GpuInfo(name, mib * MIB);
    }

    @Test
    void everythingFitsOnABigGpu() {
        Plan p = Planner.plan(req(List.of(gpu("big", 10_000)), 4096, PlanRequest.AUTO, null, null));
        assertEquals(8, p.gpuLayerCount());
        assertEquals(0, p.headDevice());
        assertEquals(4096, p.ctx());
        Plan.Row g = p.rows().getFirst();
        assertEquals(8 * 100 * MIB + 60 * MIB, g.weights());
        assertEquals(8 * 4 * MIB, g.kv());
        assertEquals(20 * MIB, g.compute());
        assertEquals(10_000 * MIB - g.weights() - g.kv() - g.compute(), g.freeAfter());
        assertTrue(p.table().contains("0-7 +head"), p.table());
    }

    @Test
    void autoPutsTheLastLayersOnTheGpuAndTheRestOnTheCpu() {
        // 500 MiB free - 10 margin = 490: with the head, 20 + 60 + k * (100 + 4) <= 490 gives 3 blocks (360 MiB
        // offloaded); without it 20 + k * 104 <= 490 gives 4 (400 MiB): the planner offloads the most bytes.
        Plan p = Planner.plan(req(List.of(gpu("small", 500)), 4096, PlanRequest.AUTO, null, null));
        assertArrayEquals(new int[] {-1, -1, -1, -1, 0, 0, 0, 0}, p.layerDevice());
        assertEquals(-1, p.headDevice());
        long used = p.rows().getFirst().weights() + p.rows().getFirst().kv() + p.rows().getFirst().compute();
        assertTrue(used <= 490 * MIB);
        assertEquals("embd,0-3,head", p.rows().getLast().layers());
    }

    @Test
    void twoUnequalGpusShareByFreeMemory() {
        Plan p = Planner.plan(req(List.of(gpu("a", 300), gpu("b", 900)), 1024, PlanRequest.AUTO, null, null));
        assertEquals(8, p.gpuLayerCount());
        long onA = Arrays.stream(p.layerDevice()).filter(d -> d == 0).count();
        long onB = Arrays.stream(p.layerDevice()).filter(d -> d == 1).count();
        assertTrue(onA < onB, "a=" + onA + " b=" + onB);
        assertEquals(1, p.headDevice(), "the head goes with the last block");
        for (int i = 0; i < 2; i++) assertTrue(p.rows().get(i).freeAfter() >= 10 * MIB, p.table());
        // blocks stay in order: the first GPU takes the earlier ones
        int last = -1;
        for (int d : p.layerDevice()) {
            assertTrue(d >= last);
            last = d;
        }
    }

    @Test
    void explicitSplitRatios() {
        Plan p = Planner.plan(req(List.of(gpu("a", 5000), gpu("b", 5000)), 1024, 8, null, new double[] {3, 1}));
        assertEquals(6, Arrays.stream(p.layerDevice()).filter(d -> d == 0).count());
        assertEquals(2, Arrays.stream(p.layerDevice()).filter(d -> d == 1).count());
    }

    @Test
    void aDeviceTooSmallForOneLayerShrinksTheContextFirst() {
        // one block at 4096 needs 100 + 4 + 20 compute = 124 (+10 margin); 130 free gives 120: not at 4096,
        // at 256 tokens one block needs 100.25 + 20 = 120.25 > 120, still not; 131 free gives 121: fits at 1024.
        Plan shrunk = Planner.plan(req(List.of(gpu("tiny", 131)), 4096, PlanRequest.AUTO, null, null));
        assertEquals(1, shrunk.gpuLayerCount());
        assertTrue(shrunk.ctx() < 4096);
        assertTrue(shrunk.notes().stream().anyMatch(n -> n.contains("context shrunk")), shrunk.notes().toString());

        Plan none = Planner.plan(req(List.of(gpu("tiny", 100)), 4096, PlanRequest.AUTO, null, null));
        assertEquals(0, none.gpuLayerCount());
        assertEquals(4096, none.ctx(), "a context that shrinking did not help stays as asked");
        assertTrue(none.notes().stream().anyMatch(n -> n.contains("not even one layer fits")), none.notes().toString());
    }

    @Test
    void aBudgetOfZeroRunsOnTheCpuAndSaysWhy() {
        Plan p = Planner.plan(req(List.of(gpu("big", 10_000)), 4096, PlanRequest.AUTO, new long[] {0}, null));
        assertEquals(0, p.gpuLayerCount());
        assertEquals(-1, p.headDevice());
        assertTrue(p.notes().stream().anyMatch(n -> n.contains("not even one layer fits")), p.notes().toString());
        assertEquals(0, p.rows().getFirst().weights());
    }

    @Test
    void aBudgetCapsWhatTheGpuTakes() {
        Plan p = Planner.plan(req(List.of(gpu("big", 10_000)), 4096, PlanRequest.AUTO, new long[] {300 * MIB}, null));
        Plan.Row g = p.rows().getFirst();
        assertTrue(g.weights() + g.kv() + g.compute() <= 300 * MIB, p.table());
        assertTrue(p.gpuLayerCount() > 0 && p.gpuLayerCount() < 8);
    }

    @Test
    void moreGpuLayersThanTheModelHasMeansAll() {
        Plan p = Planner.plan(req(List.of(gpu("big", 10_000)), 4096, 99, null, null));
        assertEquals(8, p.gpuLayerCount());
        assertEquals(0, p.headDevice());
        assertTrue(p.notes().getFirst().contains("more than"));
    }

    @Test
    void explicitCountKeepsTheHeadOnTheCpuUnlessAll() {
        Plan p = Planner.plan(req(List.of(gpu("big", 10_000)), 4096, 3, null, null));
        assertArrayEquals(new int[] {-1, -1, -1, -1, -1, 0, 0, 0}, p.layerDevice());
        assertEquals(-1, p.headDevice());
    }

    @Test
    void explicitCountThatCannotFitEvenAtTheFloorIsAClearError() {
        HearthException e = assertThrows(HearthException.class,
                () -> Planner.plan(req(List.of(gpu("small", 400)), 4096, 8, null, null)));
        assertTrue(e.getMessage().contains("try --gpu-layers 3"), e.getMessage());
        assertTrue(e.getMessage().contains("MiB"), e.getMessage());
    }

    @Test
    void explicitCountShrinksTheContextBeforeFailing() {
        // 4 blocks at 4096: 400 + 16 + 20 = 436 > 430; at 2048: 400 + 8 + 20 = 428 <= 430
        Plan p = Planner.plan(req(List.of(gpu("g", 440)), 4096, 4, null, null));
        assertEquals(4, p.gpuLayerCount());
        assertEquals(2048, p.ctx());
    }

    @Test
    void noGpuMeansCpu() {
        Plan p = Planner.plan(req(List.of(), 4096, PlanRequest.AUTO, null, null));
        assertEquals(0, p.gpuLayerCount());
        assertEquals(1, p.rows().size());
        assertEquals(P.totalWeights(), p.rows().getFirst().weights());
    }
}
