package dev.hearth.server;

import dev.hearth.llama.Engine;
import dev.hearth.llama.Session;
import dev.hearth.server.http.ApiError;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The generation slots: one engine (and so one KV cache) and one {@link Session} each. A
 * request takes a free slot: the one whose cache shares the longest prefix with its prompt where
 * that prefix is at least half the prompt (as llama.cpp's slot similarity), else the one used
 * longest ago, so that an unrelated request does not evict a conversation another slot could
 * take. When none is free it waits in a bounded first-come-first-served queue, and when the
 * queue is full it is refused (503).
 */
public final class SlotPool {
    /** One slot: used by one request at a time. */
    public static final class Slot {
        final int id;
        final Session session;
        long releasedAt;

        Slot(int id, Engine engine) {
            this.id = id;
            this.session = new Session(engine);
        }

        public int id() {
            return id;
        }

        public Session session() {
            return session;
        }
    }

    private static final class Ticket {
        Slot slot;
        boolean abandoned;
    }

    private final List<Slot> all = new ArrayList<>();
    private final List<Slot> free = new ArrayList<>();
    private final Deque<Ticket> waiting = new ArrayDeque<>();
    private final int maxQueue;
    private long releases;

    public SlotPool(List<Engine> engines, int maxQueue) {
        if (engines.isEmpty()) throw new IllegalArgumentException("no engines");
        for (Engine e : engines) all.add(new Slot(all.size(), e));
        free.addAll(all);
        this.maxQueue = maxQueue;
    }

    public int size() {
        return all.size();
    }

    /** Every slot, busy or not (to read their state, never to use them). */
    public List<Slot> all() {
        return List.copyOf(all);
    }

    public synchronized int idle() {
        return free.size();
    }

    public synchronized int queued() {
        return waiting.size();
    }

    /**
     * A slot for {@code prompt}: at once if one is free and nobody waits, else after the requests
     * before it. {@code cancelled} is polled while waiting (a client that went away); then null.
     *
     * @throws ApiError 503 when the queue is full
     */
    public Slot acquire(int[] prompt, BooleanSupplier cancelled) throws InterruptedException {
        Ticket t;
        synchronized (this) {
            if (!free.isEmpty() && waiting.isEmpty()) return takeBest(prompt);
            if (waiting.size() >= maxQueue) {
                throw new ApiError(503, "server_error", null, "queue_full",
                        "The server is busy: " + all.size() + " slot(s) generating and " + waiting.size() + " request(s) queued. Retry later.");
            }
            t = new Ticket();
            waiting.addLast(t);
        }
        boolean done = false;
        try {
            while (true) {
                synchronized (this) {
                    if (t.slot != null) {
                        done = true;
                        return t.slot;
                    }
                    wait(100);
                    if (t.slot != null) {
                        done = true;
                        return t.slot;
                    }
                }
                if (cancelled.getAsBoolean()) return null;
            }
        } finally {
            if (!done) abandon(t);
        }
    }

    private synchronized void abandon(Ticket t) {
        t.abandoned = true;
        waiting.remove(t);
        if (t.slot != null) {
            Slot s = t.slot;
            t.slot = null;
            release(s);
        }
    }

    private Slot takeBest(int[] prompt) {
        Slot best = free.getFirst();
        int bestLen = -1;
        Slot oldest = free.getFirst();
        for (Slot s : free) {
            int n = commonPrefix(s.session.tokens(), prompt);
            if (n > bestLen) {
                best = s;
                bestLen = n;
            }
            if (s.releasedAt < oldest.releasedAt) oldest = s;
        }
        if ((long) bestLen * 2 < prompt.length) best = oldest;
        free.remove(best);
        return best;
    }

    private static int commonPrefix(int[] a, int[] b) {
        int n = 0;
        while (n < a.length && n < b.length && a[n] == b[n]) n++;
        return n;
    }

    /** Gives a slot back: to the first waiting request, else to the free list. */
    public synchronized void release(Slot s) {
        s.releasedAt = ++releases;
        while (!waiting.isEmpty()) {
            Ticket t = waiting.pollFirst();
            if (t.abandoned) continue;
            t.slot = s;
            notifyAll();
            return;
        }
        free.add(s);
    }
}
