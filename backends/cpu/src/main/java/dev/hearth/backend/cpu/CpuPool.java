package dev.hearth.backend.cpu;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed pool of threads for data-parallel kernels: {@code threads - 1} workers plus the calling
 * thread. {@link #run} hands out the indices of one job one at a time (so a core that another
 * program holds up takes fewer), works on them itself, and returns when all are done. Idle
 * workers spin for a short while (the next kernel usually comes within microseconds), then park.
 */
final class CpuPool implements AutoCloseable {
    /** One index of a job; {@code worker} is 0 for the caller, 1.. for the pool's threads. */
    interface Task {
        void run(int index, int worker);
    }

    /** How long an idle worker spins before it parks. */
    private static final long SPIN_NANOS = Long.getLong("hearth.spinMicros", 200) * 1000;

    private static final VarHandle NEXT, DONE;
    private static final VarHandle PARKED = MethodHandles.arrayElementVarHandle(boolean[].class);

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            NEXT = l.findVarHandle(Job.class, "next", int.class);
            DONE = l.findVarHandle(Job.class, "done", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final class Job {
        final Task task;
        final int count;
        @SuppressWarnings("unused") volatile int next;
        volatile int done;
        volatile Throwable failure;

        Job(Task task, int count) {
            this.task = task;
            this.count = count;
        }

        /** Claims and runs indices until none are left. */
        void work(int worker) {
            int i;
            while ((i = (int) NEXT.getAndAdd(this, 1)) < count) {
                try {
                    task.run(i, worker);
                } catch (Throwable t) {
                    if (failure == null) failure = t;
                } finally {
                    DONE.getAndAdd(this, 1);
                }
            }
        }
    }

    private final int threads;
    private final Thread[] workers;
    private final boolean[] parked;
    private volatile Job job;
    private volatile boolean closed;

    CpuPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1: " + threads);
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        this.parked = new boolean[threads];
        for (int w = 1; w < threads; w++) {
            int id = w;
            Thread t = new Thread(() -> loop(id), "hearth-cpu-" + w);
            t.setDaemon(true);
            workers[w - 1] = t;
            t.start();
        }
    }

    int threads() {
        return threads;
    }

    /** Runs {@code task} for indices 0..count-1 across the pool; returns when all have run. */
    void run(int count, Task task) {
        if (count <= 0) return;
        if (threads == 1 || count == 1) {
            for (int i = 0; i < count; i++) task.run(i, 0);
            return;
        }
        if (closed) throw new IllegalStateException("cpu thread pool is closed");
        Job j = new Job(task, count);
        job = j;
        for (int w = 1; w < threads; w++) {
            if ((boolean) PARKED.getVolatile(parked, w)) LockSupport.unpark(workers[w - 1]);
        }
        j.work(0);
        int spins = 0;
        while (j.done < count) {
            if (++spins < 1 << 12) Thread.onSpinWait();
            else Thread.yield();
        }
        Throwable f = j.failure;
        if (f instanceof RuntimeException re) throw re;
        if (f instanceof Error e) throw e;
        if (f != null) throw new IllegalStateException(f);
    }

    private void loop(int id) {
        Job seen = null;
        while (!closed) {
            Job j = job;
            if (j != seen) {
                seen = j;
                j.work(id);
                continue;
            }
            long start = System.nanoTime();
            int spins = 0;
            while (job == seen && !closed) {
                Thread.onSpinWait();
                if ((++spins & 255) == 0 && System.nanoTime() - start > SPIN_NANOS) {
                    PARKED.setVolatile(parked, id, true);
                    if (job == seen && !closed) LockSupport.park(this);
                    PARKED.setVolatile(parked, id, false);
                    start = System.nanoTime();
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread t : workers) LockSupport.unpark(t);
    }
}
