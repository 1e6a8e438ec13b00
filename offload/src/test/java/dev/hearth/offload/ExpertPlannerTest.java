package dev.hearth.offload;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The planner on a mixture-of-experts profile: experts leave the GPU before whole layers do. */
class ExpertPlannerTest {
    static final long MIB = 1 << 20;
    // 8 blocks of 100 MiB of which 80 MiB are experts, a 50 MiB embedding, a 60 MiB head, 1 MiB of KV per 1024 tokens, 20 MiB compute.
    static final MemoryProfile P = new MemoryProfile(8, PlannerTest.fill(8, 100 * MIB), 50 * MIB, 60 * MIB, 1024, 20 * MIB,
            PlannerTest.fill(8, 80 * MIB));

    static Plan plan(long freeMib, int gpuLayers, int cpuMoe) {
        return Planner.plan(new PlanRequest(P, List.of(new PlanRequest.GpuInfo("gpu", freeMib * MIB)), 4096, 256, 10 * MIB,
                gpuLayers, null, null, 64L << 30, cpuMoe));
    }

    static boolean[] firstExperts(int n) {
        boolean[] b = new boolean[8];
        for (int i = 0; i < n; i++) b[i] = true;
        return b;
    }

    @Test
    void autoKeepsEveryLayerOnTheGpuAndMovesTheFirstLayersExpertsToTheCpu() {
        // 500 - 10 margin = 490 MiB: 20 compute + 60 head + 8 * (4 KV + 20 dense) = 272; each layer's experts add 80:
        // 2 layers' experts fit (432), 3 do not (512). So the experts of layers 0-5 go to the CPU.
        Plan p = plan(500, PlanRequest.AUTO, PlanRequest.AUTO);
        assertEquals(8, p.gpuLayerCount());
        assertEquals(0, p.headDevice());
        assertArrayEquals(firstExperts(6), p.expertsOnCpu());
        assertEquals(60 * MIB + 6 * 20 * MIB + 2 * 100 * MIB, p.rows().getFirst().weights());
        assertTrue(p.rows().getFirst().layers().contains("experts of 0-5 on cpu"), p.table());
        assertTrue(p.rows().getLast().layers().contains("+experts 0-5"), p.table());
        assertEquals(50 * MIB + 6 * 80 * MIB, p.rows().getLast().weights());
    }

    @Test
    void autoOnABigGpuKeepsTheExpertsThere() {
        Plan p = plan(10_000, PlanRequest.AUTO, PlanRequest.AUTO);
        assertEquals(8, p.gpuLayerCount());
        assertArrayEquals(new boolean[8], p.expertsOnCpu());
    }

    @Test
    void whenEvenTheDensePartsDoNotFitLayersStayOnTheCpuWithTheirExperts() {
        // 150 - 10 = 140 MiB, every layer's experts on the CPU: with the head 20 + 60 + k * 24 (dense + KV) fits 2
        // layers (100 MiB of weights offloaded), without it 20 + k * 24 fits 5 (100 MiB): the head and 2 layers
        Plan p = plan(150, PlanRequest.AUTO, PlanRequest.AUTO);
        assertEquals(2, p.gpuLayerCount());
        assertEquals(0, p.headDevice());
        assertArrayEquals(new int[]{-1, -1, -1, -1, -1, -1, 0, 0}, p.layerDevice());
        for (int l = 6; l < 8; l++) assertTrue(p.expertsOnCpu()[l], "layer " + l);
        assertEquals(60 * MIB + 2 * 20 * MIB, p.rows().getFirst().weights());
    }

    @Test
    void cpuMoeAndNCpuMoeAreObeyed() {
        Plan all = plan(10_000, PlanRequest.AUTO, 8);
        assertArrayEquals(firstExperts(8), all.expertsOnCpu());
        Plan three = plan(10_000, 8, 3);
        assertArrayEquals(firstExperts(3), three.expertsOnCpu());
        // an explicit layer count without --cpu-moe takes the experts along, as llama.cpp's -ngl does
        Plan ngl = plan(10_000, 8, PlanRequest.AUTO);
        assertFalse(ngl.expertsOnCpu()[0]);
    }
}
