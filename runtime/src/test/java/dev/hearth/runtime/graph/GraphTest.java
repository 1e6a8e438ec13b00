package dev.hearth.runtime.graph;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.tensor.TensorDesc;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The graph builder derives result shapes and refuses shapes that do not fit. */
class GraphTest {
    @Test
    void derivesShapesAndKeepsOrder() {
        Graph g = new Graph();
        Node w = g.weight(TensorDesc.of("w", DType.Q4_0, 64, 10));
        Node x = g.input("x", DType.F32, 64, 3);
        Node y = g.mulMat("y", w, x);
        assertArrayEquals(new long[]{10, 3}, y.desc().ne());
        assertEquals(DType.F32, y.desc().type());
        Node ids = g.input("ids", DType.I32, 5);
        Node rows = g.getRows("rows", w, ids);
        assertArrayEquals(new long[]{64, 5}, rows.desc().ne());
        Node half = g.convert("half", y, DType.F16);
        assertEquals(DType.F16, half.desc().type());
        for (int i = 0; i < g.size(); i++) assertEquals(i, g.node(i).id());
        g.output(y).output(y);
        assertEquals(List.of(y), g.outputs(), "an output is listed once");
    }

    @Test
    void inputsInRecordOrderWithoutAbsentOnes() {
        Graph g = new Graph();
        Node x = g.input("x", DType.F32, 8, 2);
        Node w = g.weight(TensorDesc.of("w", DType.F32, 8));
        assertEquals(List.of(x, w), g.rmsNorm("a", x, w, 1e-5f).inputs());
        assertEquals(List.of(x), g.rmsNorm("b", x, null, 1e-5f).inputs());
        Node pos = g.input("pos", DType.I32, 2);
        Node cache = g.state(TensorDesc.of("k", DType.F16, 8, 16));
        Node st = g.kvStore("st", cache, x, pos);
        assertEquals(List.of(cache, x, pos), st.inputs());
        assertEquals(cache.desc().ne()[1], st.desc().ne()[1], "kv_store's value is the cache");
        Node att = g.attention("att", x, st, st, pos, 2, 2, 4, 0.5f);
        assertEquals(List.of(x, st, st, pos), att.inputs());
    }

    @Test
    void refusesShapesThatDoNotFit() {
        Graph g = new Graph();
        Node x = g.input("x", DType.F32, 64, 3);
        Node pos = g.input("pos", DType.I32, 3);
        assertThrows(HearthException.class, () -> g.mulMat("y", g.weight(TensorDesc.of("w", DType.F32, 32, 4)), x));
        assertThrows(HearthException.class, () -> g.mulMat("y", x, g.input("h", DType.F16, 64, 3)), "activations are F32");
        assertThrows(HearthException.class, () -> g.add("z", x, g.input("b", DType.F32, 64, 2)), "b has 1 or all rows");
        g.add("z", x, g.input("b1", DType.F32, 64, 1));
        assertThrows(HearthException.class, () -> g.rope("r", x, pos, 48, 48, Op.RopeMode.NORMAL, 1e4f, 1, null), "whole heads");
        assertThrows(HearthException.class, () -> g.rope("r", x, pos, 32, 33, Op.RopeMode.NORMAL, 1e4f, 1, null), "even dims");
        assertThrows(HearthException.class, () -> g.rope("r", x, g.input("p2", DType.I32, 2), 32, 32, Op.RopeMode.NEOX, 1e4f, 1, null));
        assertThrows(HearthException.class, () -> g.attention("a", x, x, x, pos, 3, 2, 16, 1), "heads multiple of kv heads");
        assertThrows(HearthException.class, () -> g.getRows("r", x, x), "ids are I32");
        assertThrows(HearthException.class, () -> g.convert("c", x, DType.Q8_0));
        var e = assertThrows(HearthException.class, () -> g.swiglu("s", x, g.input("u", DType.F32, 32, 3)));
        assertTrue(e.getMessage().startsWith("graph: "), e.getMessage());
    }

    @Test
    void nodesOfAnotherGraphAreRefused() {
        Graph a = new Graph();
        Graph b = new Graph();
        Node x = a.input("x", DType.F32, 4, 1);
        b.input("y", DType.F32, 4, 1);
        assertThrows(IllegalArgumentException.class, () -> b.scale("s", x, 2));
    }
}
