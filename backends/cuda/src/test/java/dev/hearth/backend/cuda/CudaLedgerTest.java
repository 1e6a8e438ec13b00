package dev.hearth.backend.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ledger's bookkeeping, without a GPU: handles are plain objects here. */
class CudaLedgerTest {
    @Test
    void entersAndStrikesOff() {
        CudaLedger ledger = new CudaLedger();
        assertTrue(ledger.isEmpty());
        assertEquals("nothing live", ledger.toString());
        Object a = new Object(), b = new Object(), e = new Object();
        ledger.opened(CudaLedger.Kind.DEVICE_MEMORY, a);
        ledger.opened(CudaLedger.Kind.DEVICE_MEMORY, b);
        ledger.opened(CudaLedger.Kind.EVENT, e);
        assertEquals(2, ledger.count(CudaLedger.Kind.DEVICE_MEMORY));
        assertEquals(1, ledger.count(CudaLedger.Kind.EVENT));
        assertEquals(0, ledger.count(CudaLedger.Kind.STREAM));
        assertEquals("DEVICE_MEMORY 2, EVENT 1", ledger.toString());
        ledger.closed(CudaLedger.Kind.DEVICE_MEMORY, a);
        ledger.closed(CudaLedger.Kind.EVENT, e);
        assertEquals("DEVICE_MEMORY 1", ledger.toString());
        ledger.closed(CudaLedger.Kind.DEVICE_MEMORY, b);
        assertTrue(ledger.isEmpty());
    }

    @Test
    void handlesAreComparedByIdentity() {
        CudaLedger ledger = new CudaLedger();
        String x = new String("h"), y = new String("h");
        ledger.opened(CudaLedger.Kind.STREAM, x);
        ledger.opened(CudaLedger.Kind.STREAM, y);
        assertEquals(2, ledger.count(CudaLedger.Kind.STREAM));
        ledger.closed(CudaLedger.Kind.STREAM, y);
        assertEquals(1, ledger.count(CudaLedger.Kind.STREAM));
    }

    @Test
    void refusesDoubleEntriesDoubleFreesAndWrongKinds() {
        CudaLedger ledger = new CudaLedger();
        Object g = new Object();
        ledger.opened(CudaLedger.Kind.GRAPH, g);
        assertThrows(IllegalStateException.class, () -> ledger.opened(CudaLedger.Kind.GRAPH, g));
        assertThrows(IllegalStateException.class, () -> ledger.closed(CudaLedger.Kind.GRAPH_EXEC, g));
        assertEquals(1, ledger.count(CudaLedger.Kind.GRAPH), "a refused strike leaves the entry");
        ledger.closed(CudaLedger.Kind.GRAPH, g);
        assertThrows(IllegalStateException.class, () -> ledger.closed(CudaLedger.Kind.GRAPH, g));
        assertTrue(ledger.isEmpty());
    }
}
