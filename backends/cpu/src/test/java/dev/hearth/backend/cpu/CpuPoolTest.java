package dev.hearth.backend.cpu;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuPoolTest {
    @Test
    void everyIndexRunsOnceOnValidWorkers() throws Exception {
        try (CpuPool pool = new CpuPool(3)) {
            for (int rep = 0; rep < 2000; rep++) {
                int count = 1 + rep % 37;
                AtomicIntegerArray hits = new AtomicIntegerArray(count);
                boolean[] badWorker = new boolean[1];
                pool.run(count, (i, w) -> {
                    hits.incrementAndGet(i);
                    if (w < 0 || w >= 3) badWorker[0] = true;
                });
                for (int i = 0; i < count; i++) assertEquals(1, hits.get(i), "index " + i + " of " + count);
                assertTrue(!badWorker[0]);
                if (rep % 500 == 0) Thread.sleep(1); // let workers park now and then
            }
        }
    }

    @Test
    void workersShareTheWork() {
        try (CpuPool pool = new CpuPool(2)) {
            AtomicIntegerArray byWorker = new AtomicIntegerArray(2);
            for (int rep = 0; rep < 200; rep++) {
                pool.run(8, (i, w) -> {
                    byWorker.incrementAndGet(w);
                    long end = System.nanoTime() + 20_000;
                    while (System.nanoTime() < end) Thread.onSpinWait();
                });
            }
            assertTrue(byWorker.get(1) > 0, "the second thread never took an index");
            assertEquals(1600, byWorker.get(0) + byWorker.get(1));
        }
    }

    @Test
    void failuresReachTheCallerAfterAllIndicesFinish() {
        try (CpuPool pool = new CpuPool(3)) {
            AtomicIntegerArray hits = new AtomicIntegerArray(50);
            IllegalArgumentException boom = new IllegalArgumentException("boom");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pool.run(50, (i, w) -> {
                hits.incrementAndGet(i);
                if (i == 17) throw boom;
            }));
            assertSame(boom, e);
            for (int i = 0; i < 50; i++) assertEquals(1, hits.get(i));
            int[] after = new int[1];
            pool.run(10, (i, w) -> {
                synchronized (after) {
                    after[0]++;
                }
            });
            assertEquals(10, after[0]);
        }
    }

    @Test
    void oneThreadRunsInline() {
        try (CpuPool pool = new CpuPool(1)) {
            Thread me = Thread.currentThread();
            pool.run(5, (i, w) -> {
                assertSame(me, Thread.currentThread());
                assertEquals(0, w);
            });
        }
    }
}
