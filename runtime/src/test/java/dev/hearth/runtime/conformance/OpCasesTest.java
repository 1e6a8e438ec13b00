package dev.hearth.runtime.conformance;

import dev.hearth.runtime.dtype.Codecs;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.reference.ReferenceDevice;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The suite covers every op and type, names cases uniquely, and makes the same data each time. */
class OpCasesTest {
    private final List<OpCase> all = OpCases.all();

    @Test
    void namesAreUnique() {
        Set<String> seen = new HashSet<>();
        for (OpCase c : all) assertTrue(seen.add(c.name()), "twice: " + c.name());
    }

    @Test
    void everyOpIsCovered() {
        Set<Class<?>> ops = new HashSet<>();
        for (OpCase c : all) {
            try (OpCase.Instance inst = c.instantiate()) {
                assertNull(ConformanceRunner.unsupported(inst, new ReferenceDevice()), c.name());
                for (Node n : inst.graph().nodes()) ops.add(n.op().getClass());
            }
        }
        for (Class<?> op : Op.class.getPermittedSubclasses()) {
            if (op.isRecord()) assertTrue(ops.contains(op), op.getSimpleName() + " has no case");
        }
    }

    @Test
    void everyTypeWithACodecHasMulMatAndGetRows() {
        assertTrue(OpCases.weightTypes().containsAll(List.of(DType.F32, DType.F16)));
        for (DType t : OpCases.weightTypes()) {
            assertTrue(Codecs.has(t));
            for (int tokens : new int[]{1, 7, 32}) {
                assertTrue(all.stream().anyMatch(c -> c.op().equals("mul_mat") && c.type() == t && c.name().endsWith(" t=" + tokens)), t + " t=" + tokens);
            }
            assertTrue(all.stream().anyMatch(c -> c.op().equals("get_rows") && c.type() == t), t.name());
        }
        assertFalse(OpCases.allWeightTypes().contains(DType.I32));
        assertFalse(OpCases.allWeightTypes().contains(DType.Q4_2), "retired");
    }

    @Test
    void dataIsTheSameEachTime() {
        for (OpCase c : List.of(OpCases.of("mul_mat").getLast(), OpCases.of("attention").getLast(), OpCases.of("llama_layer").getFirst())) {
            try (OpCase.Instance a = c.instantiate(); OpCase.Instance b = c.instantiate()) {
                assertEquals(a.inputs().keySet(), b.inputs().keySet());
                assertEquals(a.leaves().keySet(), b.leaves().keySet());
                for (String k : a.inputs().keySet()) assertEquals(-1, a.inputs().get(k).mismatch(b.inputs().get(k)), k);
                for (String k : a.leaves().keySet()) assertEquals(-1, a.leaves().get(k).mismatch(b.leaves().get(k)), k);
                MemorySegment w = a.leaves().values().iterator().next();
                assertTrue(w.byteSize() > 0);
            }
        }
    }

    @Test
    void positionsFitTheirCaches() {
        for (OpCase c : all) {
            try (OpCase.Instance inst = c.instantiate()) {
                for (Node n : inst.graph().nodes()) {
                    Node cache = switch (n.op()) {
                        case Op.KvStore k -> k.cache();
                        case Op.Attention a -> a.kCache();
                        default -> null;
                    };
                    if (cache == null) continue;
                    Node pos = n.op() instanceof Op.KvStore k ? k.pos() : ((Op.Attention) n.op()).pos();
                    MemorySegment p = inst.inputs().get(pos.name());
                    int window = n.op() instanceof Op.Attention a ? a.window() : 0;
                    long t = pos.desc().elements();
                    for (long i = 0; i < t; i++) {
                        int v = p.getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, i);
                        assertTrue(v >= 0, c.name() + ": position " + v);
                        // a ring (position p at row p % R) holds what a token attends to, and a batch's own rows besides
                        if (n.op() instanceof Op.Attention) {
                            long span = window > 0 ? Math.min(v + 1, window) : v + 1L;
                            assertTrue(span + t - 1 <= cache.desc().rows() || v < cache.desc().rows(), c.name() + ": position " + v);
                        }
                    }
                }
            }
        }
    }
}
