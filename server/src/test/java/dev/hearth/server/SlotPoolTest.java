package dev.hearth.server;

import dev.hearth.server.http.ApiError;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The queue in front of the slots, on a real (tiny) model's engines. */
class SlotPoolTest {
    @Test
    void firstComeFirstServedAndBounded() throws Exception {
        try (TestModel m = new TestModel(TestModel.stories(), 1, 32, TestModel.options())) {
            SlotPool pool = new SlotPool(m.engines, 3);
            SlotPool.Slot held = pool.acquire(new int[] {1}, () -> false);
            assertNotNull(held);
            List<Integer> order = new CopyOnWriteArrayList<>();
            Thread[] waiters = new Thread[3];
            for (int i = 0; i < 3; i++) {
                int id = i;
                waiters[i] = new Thread(() -> {
                    try {
                        SlotPool.Slot s = pool.acquire(new int[] {1}, () -> false);
                        order.add(id);
                        pool.release(s);
                    } catch (InterruptedException e) {
                        throw new RuntimeException(e);
                    }
                });
                waiters[i].start();
                while (pool.queued() < i + 1) Thread.sleep(5); // queue them in a known order
            }
            ApiError full = assertThrows(ApiError.class, () -> pool.acquire(new int[] {1}, () -> false));
            assertEquals(503, full.status());
            pool.release(held);
            for (Thread t : waiters) t.join(5000);
            assertEquals(List.of(0, 1, 2), order);
            assertEquals(1, pool.idle());
            assertEquals(0, pool.queued());
        }
    }

    @Test
    void aWaiterThatGivesUpLeavesTheQueue() throws Exception {
        try (TestModel m = new TestModel(TestModel.stories(), 1, 32, TestModel.options())) {
            SlotPool pool = new SlotPool(m.engines, 4);
            SlotPool.Slot held = pool.acquire(new int[] {1}, () -> false);
            AtomicBoolean gone = new AtomicBoolean();
            CountDownLatch done = new CountDownLatch(1);
            SlotPool.Slot[] got = new SlotPool.Slot[1];
            Thread t = new Thread(() -> {
                try {
                    got[0] = pool.acquire(new int[] {1}, gone::get);
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
                done.countDown();
            });
            t.start();
            while (pool.queued() < 1) Thread.sleep(5);
            gone.set(true);
            assertTrue(done.await(5, java.util.concurrent.TimeUnit.SECONDS));
            assertNull(got[0]);
            assertEquals(0, pool.queued());
            pool.release(held);
            assertEquals(1, pool.idle());
        }
    }

    @Test
    void prefersTheSlotThatHoldsThePrompt() throws Exception {
        try (TestModel m = new TestModel(TestModel.stories(), 2, 32, TestModel.options())) {
            SlotPool pool = new SlotPool(m.engines, 4);
            int[] prompt = m.tokenizer.encode("Once upon a time", true);
            SlotPool.Slot a = pool.acquire(prompt, () -> false);
            SlotPool.Slot b = pool.acquire(new int[] {1, 5}, () -> false);
            b.session().prefill(new int[] {1, 5});
            a.session().prefill(prompt);
            pool.release(b);
            pool.release(a);
            assertEquals(a.id(), pool.acquire(prompt, () -> false).id());
        }
    }
}
