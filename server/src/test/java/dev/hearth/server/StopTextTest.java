package dev.hearth.server;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StopTextTest {
    static String feed(StopText s, String... pieces) {
        StringBuilder out = new StringBuilder();
        for (String p : pieces) out.append(s.add(p));
        return out.toString();
    }

    @Test
    void stopStringSplitOverPiecesIsNeverSent() {
        StopText s = new StopText(List.of("\nUser:"));
        assertEquals("Hello", s.add("Hello"));
        assertEquals("", s.add("\nUs"));
        assertEquals("", s.add("er: more"));
        assertTrue(s.stopped());
        assertEquals("Hello", s.text());
        assertEquals("", s.flush());
    }

    @Test
    void heldBackTextComesOutWhenItIsNotAStop() {
        StopText s = new StopText(List.of("END"));
        assertEquals("a", s.add("aE"));
        assertEquals("", s.add("N"));
        assertEquals("ENx", s.add("x"));
        assertEquals("", s.add("EN"));
        assertEquals("EN", s.flush());
        assertFalse(s.stopped());
        assertEquals("aENxEN", s.text());
    }

    @Test
    void earliestOfSeveralStops() {
        StopText s = new StopText(List.of("cd", "bcde", "x"));
        assertEquals("a", feed(s, "ab", "cdef"));
        assertTrue(s.stopped());
        assertEquals("a", s.text());
    }

    @Test
    void stopInsideOnePiece() {
        StopText s = new StopText(List.of("."));
        assertEquals("Lily", s.add("Lily. She"));
        assertEquals("", s.add("more"));
    }

    @Test
    void noStops() {
        StopText s = new StopText(List.of());
        assertEquals("abc", feed(s, "a", "b", "c"));
        assertEquals("", s.flush());
        StopText empty = new StopText(List.of(""));
        assertEquals("abc", feed(empty, "abc"));
    }
}
