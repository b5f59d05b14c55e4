package io.ringtmp.tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The process's compute threads: matrix products ({@link Blas}) and the large element-wise
 * loops (optimiser updates) split their work over {@link #threads()} threads, the caller's own
 * thread included. One pool per process; set its size once at start-up.
 */
public final class Parallel {
    /** A piece of work over the index range {@code [from, to)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    private static volatile int threads = 1;
    private static volatile ExecutorService pool;

    private Parallel() {
    }

    public static int threads() {
        return threads;
    }

    /** Sets the number of compute threads (1 .. number of cores is sensible). */
    public static synchronized void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + n);
        }
        if (n == threads) {
            return;
        }
        ExecutorService old = pool;
        pool = n > 1 ? Executors.newFixedThreadPool(n - 1, r -> {
            Thread t = new Thread(r, "ringtmp-compute");
            t.setDaemon(true);
            return t;
        }) : null;
        threads = n;
        if (old != null) {
            old.shutdown();
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
        ExecutorService p = pool;
        int chunks = Math.min(Math.min(parts, threads), Math.max(1, n / Math.max(1, align)));
        if (chunks <= 1 || p == null) {
            body.run(0, n);
            return;
        }
        int per = ((n + chunks - 1) / chunks + align - 1) / align * align;
        List<Future<?>> futures = new ArrayList<>(chunks - 1);
        for (int c = 1; c < chunks; c++) {
            int from = c * per, to = Math.min(n, from + per);
            if (from >= to) {
                break;
            }
            futures.add(p.submit(() -> body.run(from, to)));
        }
        Throwable failure = null;
        try {
            body.run(0, Math.min(n, per));
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        boolean interrupted = false;
        for (Future<?> f : futures) {
            while (true) {
                try {
                    f.get();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    if (failure == null) {
                        failure = e.getCause();
                    }
                    break;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (failure instanceof RuntimeException re) {
            throw re;
        }
        if (failure instanceof Error err) {
            throw err;
        }
        if (failure != null) {
            throw new IllegalStateException("compute thread failed", failure);
        }
    }
}
