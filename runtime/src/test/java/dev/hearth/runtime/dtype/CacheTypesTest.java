package dev.hearth.runtime.dtype;

import dev.hearth.runtime.HearthException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CacheTypesTest {
    @Test
    void namesParseInAnyCase() {
        assertEquals(DType.Q8_0, CacheTypes.parse("q8_0"));
        assertEquals(DType.Q4_0, CacheTypes.parse("Q4_0"));
        assertEquals(DType.F16, CacheTypes.parse("f16"));
        assertNull(CacheTypes.parse("q4_1"), "not a cache type");
        assertNull(CacheTypes.parse("bogus"));
        assertEquals("f16, f32, q8_0, q4_0", CacheTypes.names());
    }

    @Test
    void quantizedCachesNeedWholeBlocks() {
        assertDoesNotThrow(() -> CacheTypes.check(DType.Q8_0, 32));
        assertDoesNotThrow(() -> CacheTypes.check(DType.F16, 20));
        String why = CacheTypes.whyNot(DType.Q4_0, 48);
        assertTrue(why.contains("48") && why.contains("multiple of 32") && why.contains("--cache-type f16"), why);
        HearthException e = assertThrows(HearthException.class, () -> CacheTypes.check(DType.Q5_1, 64));
        assertTrue(e.getMessage().contains("f16, f32, q8_0, q4_0"), e.getMessage());
    }
}
