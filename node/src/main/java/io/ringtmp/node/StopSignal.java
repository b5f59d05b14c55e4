package io.ringtmp.node;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Tells a running mode to end early, and why: a failed neighbour, SIGTERM, another node's error.
 * The first reason wins. Thread-safe.
 */
public final class StopSignal {
    private final CountDownLatch latch = new CountDownLatch(1);
    private volatile String reason;
    private volatile boolean failure;
    private volatile boolean error;

    /**
     * Requests a stop; {@code isFailure} means a neighbour failed (the node exits with
     * {@link Node#EXIT_PEER_FAILED}); otherwise the stop is orderly (SIGTERM: exit 0).
     */
    public synchronized void stop(String why, boolean isFailure) {
        if (reason == null) {
            reason = why;
            failure = isFailure;
            latch.countDown();
        }
    }

    /** Requests a stop because another node stopped after an error: the run did not complete (exit 1). */
    public synchronized void stopAfterError(String why) {
        if (reason == null) {
            reason = why;
            error = true;
            latch.countDown();
        }
    }

    /** Whether the stop came from another node's error ({@link #stopAfterError}). */
    public boolean erred() {
        return error;
    }

    public boolean stopped() {
        return reason != null;
    }

    public boolean failed() {
        return failure;
    }

    public String reason() {
        return reason;
    }

    /** Waits up to {@code ms} for a stop; returns whether one came. */
    public boolean await(long ms) throws InterruptedException {
        return latch.await(ms, TimeUnit.MILLISECONDS);
    }
}
