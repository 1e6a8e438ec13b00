package dev.hearth.bench.kernels;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.conformance.OpCases;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The case list covers the shapes of the issue, and the filters take what they say. */
class KernelCasesTest {
    /** The (K, N) of the weight matrices of Llama-3.2-1B and Llama-3-8B, written out by hand. */
    private static final int[][] SHAPES_1B = {{2048, 2048}, {2048, 512}, {2048, 8192}, {8192, 2048}, {2048, 128256}};
    private static final int[][] SHAPES_8B = {{4096, 4096}, {4096, 1024}, {4096, 14336}, {14336, 4096}, {4096, 128256}};

    private static Node only(Graph g, Class<?> op) {
        List<Node> ns = g.nodes().stream().filter(n -> op.isInstance(n.op())).toList();
        assertEquals(1, ns.size(), "one " + op.getSimpleName() + " in " + g.nodes());
        return ns.getFirst();
    }

    @Test
    void mulMatAtEveryModelShapeTokenCountAndDefaultType() {
        for (var fam : List.of(new Object[]{"1b", SHAPES_1B}, new Object[]{"8b", SHAPES_8B})) {
            String family = (String) fam[0];
            for (int[] kn : (int[][]) fam[1]) {
                for (int t : new int[]{1, 512}) {
                    for (DType type : List.of(DType.F32, DType.F16, DType.Q4_0, DType.Q8_0, DType.Q4_K, DType.Q6_K)) {
                        List<KernelCase> found = KernelCases.all().stream().filter(c -> c.op().equals("mul_mat") && c.family().equals(family)
                                && c.type() == type && c.tokens() == t && c.shape().contains(" k=" + kn[0] + " n=" + kn[1] + " ")).toList();
                        assertEquals(1, found.size(), family + " " + kn[0] + "x" + kn[1] + " t=" + t + " " + type);
                        Op.MulMat m = (Op.MulMat) only(found.getFirst().graph(), Op.MulMat.class).op();
                        assertArrayEquals(new long[]{kn[0], kn[1]}, m.w().desc().ne());
                        assertEquals(type, m.w().desc().type());
                        assertArrayEquals(new long[]{kn[0], t}, m.x().desc().ne());
                    }
                }
            }
        }
    }

    @Test
    void attentionAtContexts512And4096WithLlama1bHeads() {
        for (int ctx : new int[]{512, 4096}) {
            for (int t : new int[]{1, 16, 64, 512}) {
                for (DType cache : List.of(DType.F32, DType.F16, DType.Q8_0, DType.Q4_0)) {
                    String name = "attention 1b heads=32/8 head_dim=64 ctx=" + ctx + " t=" + t + " " + cache.name().toLowerCase();
                    KernelCase c = KernelCases.byName(name);
                    assertNotNull(c, name);
                    Op.Attention a = (Op.Attention) only(c.graph(), Op.Attention.class).op();
                    assertEquals(32, a.heads());
                    assertEquals(8, a.kvHeads());
                    assertEquals(64, a.headDim());
                    assertArrayEquals(new long[]{8 * 64, ctx}, a.kCache().desc().ne());
                    assertEquals(cache, a.vCache().desc().type());
                    assertEquals(t, a.q().desc().rows());
                }
            }
        }
    }

    @Test
    void normRopeSwigluAtModelWidths() {
        assertEquals(2048, only(KernelCases.byName("rms_norm 1b k=2048 t=1 f32").graph(), Op.RmsNorm.class).desc().ne(0));
        assertEquals(8192, only(KernelCases.byName("swiglu 1b k=8192 t=512 f32").graph(), Op.Swiglu.class).desc().ne(0));
        Op.Rope r = (Op.Rope) only(KernelCases.byName("rope 1b k=2048 head_dim=64 t=512 f32").graph(), Op.Rope.class).op();
        assertEquals(64, r.headDim());
        assertEquals(512, r.x().desc().rows());
        assertNotNull(KernelCases.byName("swiglu 8b k=14336 t=1 f32"));
    }

    @Test
    void conformanceCasesAreAllThereNamesUniqueAndFoundByName() {
        long ops = KernelCases.all().stream().filter(c -> c.family().equals("ops")).count();
        assertEquals(OpCases.all().size(), ops);
        Set<String> names = new HashSet<>();
        for (KernelCase c : KernelCases.all()) {
            assertTrue(names.add(c.name()), "duplicate " + c.name());
            assertEquals(c, KernelCases.byName(c.shapeName() + " " + c.typeLabel()));
        }
    }

    @Test
    void warmupCaseIsASmallCaseOfTheSameKind() {
        KernelCase one = KernelCases.warmupFor(KernelCases.byName("mul_mat 1b ffn_up k=2048 n=8192 t=1 q4_0"));
        assertEquals("ops", one.family());
        assertEquals(DType.Q4_0, one.type());
        assertTrue(one.shape().endsWith(" t=1"), one.shape());
        KernelCase many = KernelCases.warmupFor(KernelCases.byName("mul_mat 8b output k=4096 n=128256 t=512 q8_0"));
        assertEquals("ops", many.family());
        assertEquals(DType.Q8_0, many.type());
        int most = KernelCases.all().stream().filter(c -> c.family().equals("ops") && c.op().equals("mul_mat") && c.type() == DType.Q8_0)
                .mapToInt(c -> KernelCases.tokensOf(c.shape())).max().orElseThrow();
        assertTrue(most > 1 && KernelCases.tokensOf(many.shape()) == most, many.shape() + ", the most tokens being " + most);
        KernelCase att = KernelCases.warmupFor(KernelCases.byName("attention 1b heads=32/8 head_dim=64 ctx=4096 t=512 f16"));
        assertEquals("attention", att.op());
        assertEquals(DType.F16, att.type());
        assertEquals("rms_norm", KernelCases.warmupFor(KernelCases.byName("rms_norm 8b k=4096 t=1 f32")).op());
    }

    @Test
    void defaultSelectionTakesModelShapesAndCommonTypes() {
        List<KernelCase> sel = Selection.DEFAULT.filter(KernelCases.all());
        assertTrue(sel.stream().noneMatch(c -> c.family().equals("ops")));
        assertTrue(sel.stream().noneMatch(c -> c.type() == DType.Q4_1));
        assertTrue(sel.stream().anyMatch(c -> c.op().equals("attention")));
        // 2 models x 5 matrices x 6 types, one token
        assertEquals(60, sel.stream().filter(c -> c.op().equals("mul_mat")).count());
        assertTrue(sel.stream().allMatch(c -> c.tokens() == 1));
        List<KernelCase> both = Selection.parse(null, null, null, "all").filter(KernelCases.all());
        // the mul_mat cases at 1, 4, 8, 16, 32 and 512 tokens
        assertEquals(360, both.stream().filter(c -> c.op().equals("mul_mat")).count());
        // and the attention cases at 1, 16, 64 and 512
        assertEquals(both, Selection.parse(null, null, null, "1,4,8,16,32,64,512").filter(KernelCases.all()));
    }

    @Test
    void filtersNarrowAndAllWidens() {
        List<KernelCase> q = Selection.parse("mul_mat", "q4_0,q8_0", "1b", "1").filter(KernelCases.all());
        assertEquals(10, q.size());
        assertTrue(q.stream().allMatch(c -> c.family().equals("1b") && c.tokens() == 1 && c.op().equals("mul_mat")));
        List<KernelCase> all = Selection.parse("mul_mat", "all", "1b", null).filter(KernelCases.all());
        assertTrue(all.stream().anyMatch(c -> c.type() == DType.Q4_1));
        List<KernelCase> ops = Selection.parse(null, null, "ops", null).filter(KernelCases.all());
        assertEquals(OpCases.all().size(), ops.size());
        assertFalse(Selection.parse("rope", null, "all", null).filter(KernelCases.all()).isEmpty());
    }

    @Test
    void unknownFilterValuesAreErrorsThatSayWhatExists() {
        HearthException e = assertThrows(HearthException.class, () -> Selection.parse("matmul", null, null, null));
        assertTrue(e.getMessage().contains("mul_mat"), e.getMessage());
        assertThrows(HearthException.class, () -> Selection.parse(null, "q3_x", null, null));
        assertThrows(HearthException.class, () -> Selection.parse(null, null, "70b", null));
        assertThrows(HearthException.class, () -> Selection.parse(null, null, null, "one"));
    }
}
