package io.ringtmp.tensor;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;


/**
 * The process's compute threads: matrix products ({@link Blas}) and the large element-wise
 * loops (optimiser updates) split their work over {@link #threads()} threads, the caller's own
 * thread included. One set of threads per process; set its size once at start-up.
 *
 * <p>Why not an ExecutorService: a training step hands out a dozen pieces of work a few hundred
 * microseconds apart, and waking a parked pool thread costs tens of microseconds on a VM. The
 * workers here spin briefly after each piece before parking, so back-to-back products reach
 * them at once. One {@link #forRange} runs at a time; a call made while another is running
 * (from another thread) runs on its caller alone rather than waiting.
 */
public final class Parallel {
    /** A piece of work over the index range {@code [from, to)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    /**
     * How long an idle worker spins before parking, and how long the caller spins waiting for
     * workers before yielding its core: short, because with more runnable threads than cores
     * (other processes, other nodes) spinning only steals time from the thread being waited for.
     */
    private static final long SPIN_NS = 50_000;
    /** After spinning, how long an idle worker keeps yielding before it parks. */
    private static final long YIELD_NS = 2_000_000;

    /** Held by the one forRange (or setThreads) in progress. Not reentrant on purpose: a nested forRange runs serially. */
    private static final AtomicBoolean BUSY = new AtomicBoolean();
    private static volatile Worker[] workers = new Worker[0];

    private Parallel() {
    }

    public static int threads() {
        return workers.length + 1;
    }

    /** Sets the number of compute threads (1 .. number of cores is sensible). */
    public static void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + n);
        }
        while (!BUSY.compareAndSet(false, true)) {
            Thread.onSpinWait();
        }
        try {
            if (n == threads()) {
                return;
            }
            for (Worker w : workers) {
                w.shutdown();
            }
            Worker[] ws = new Worker[n - 1];
            for (int i = 0; i < ws.length; i++) {
                ws[i] = new Worker(i + 1);
                ws[i].start();
            }
            workers = ws;
        } finally {
            BUSY.set(false);
        }
    }

    /**
     * Runs {@code body} over {@code [0, n)} in at most {@code parts} contiguous chunks (fewer when
     * there are fewer threads or fewer than {@code align}-sized pieces), chunk boundaries being
     * multiples of {@code align}. The caller runs the first chunk; returns when every chunk is
     * done, even when one failed (then the first failure is rethrown), so nothing still writes
     * into the caller's buffers afterwards.
     */
    public static void forRange(int n, int align, int parts, RangeBody body) {
        Worker[] ws = workers;
        int chunks = Math.min(Math.min(parts, ws.length + 1), Math.max(1, n / Math.max(1, align)));
        if (chunks <= 1 || !BUSY.compareAndSet(false, true)) {
            body.run(0, n);
            return;
        }
        try {
            ws = workers;
            chunks = Math.min(chunks, ws.length + 1);
            int per = ((n + chunks - 1) / chunks + align - 1) / align * align;
            Call call = new Call(body);
            int handed = 0;
            for (int c = 1; c < chunks; c++) {
                int from = c * per, to = Math.min(n, from + per);
                if (from >= to) {
                    break;
                }
                call.pending.incrementAndGet();
                ws[c - 1].hand(call, from, to);
                handed++;
            }
            try {
                body.run(0, Math.min(n, per));
            } catch (RuntimeException | Error e) {
                call.fail(e);
            }
            // Wait for every chunk, even after a failure, so that no thread still writes into the output.
            long spinUntil = System.nanoTime() + SPIN_NS;
            while (handed > 0 && call.pending.get() > 0) {
                if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
            Throwable f = call.failure;
            if (f instanceof RuntimeException re) {
                throw re;
            }
            if (f instanceof Error err) {
                throw err;
            }
        } finally {
            BUSY.set(false);
        }
    }

    /** One forRange call: its body, the chunks still running, the first failure. */
    private static final class Call {
        final RangeBody body;
        final AtomicInteger pending = new AtomicInteger();
        volatile Throwable failure;

        Call(RangeBody body) {
            this.body = body;
        }

        synchronized void fail(Throwable t) {
            if (failure == null) {
                failure = t;
            }
        }
    }

    /** A compute thread with a one-piece mailbox. */
    private static final class Worker extends Thread {
        private volatile Call call;
        private volatile int from;
        private volatile int to;
        private volatile boolean running = true;

        Worker(int index) {
            super("ringtmp-compute-" + index);
            setDaemon(true);
        }

        void hand(Call c, int f, int t) {
            from = f;
            to = t;
            call = c; // published last: the worker reads from/to after seeing call
            LockSupport.unpark(this);
        }

        void shutdown() {
            running = false;
            LockSupport.unpark(this);
        }

        @Override
        public void run() {
            while (running) {
                Call c = call;
                if (c == null) {
                    // Spin, then yield (a training step's products come a few hundred microseconds
                    // apart, and a wake-up from park costs tens of microseconds), then park.
                    long start = System.nanoTime();
                    while ((c = call) == null && running) {
                        long idle = System.nanoTime() - start;
                        if (idle < SPIN_NS) {
                            Thread.onSpinWait();
                        } else if (idle < YIELD_NS) {
                            Thread.yield();
                        } else {
                            break;
                        }
                    }
                    if (c == null) {
                        LockSupport.park(this);
                        continue;
                    }
                }
                int f = from, t = to;
                try {
                    c.body.run(f, t);
                } catch (RuntimeException | Error e) {
                    c.fail(e);
                } finally {
                    call = null;
                    c.pending.decrementAndGet();
                }
            }
        }
    }
}
