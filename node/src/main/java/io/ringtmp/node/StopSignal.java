package io.ringtmp.node;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Tells a running mode to end early, and why: a failed neighbour, SIGTERM, a fatal error. The
 * first reason wins. Thread-safe.
 */
public final class StopSignal {
    private final CountDownLatch latch = new CountDownLatch(1);
    private volatile String reason;
    private volatile boolean failure;

    /** Requests a stop; {@code failure} means the run did not complete (non-zero exit). */
    public synchronized void stop(String why, boolean isFailure) {
        if (reason == null) {
            reason = why;
            failure = isFailure;
            latch.countDown();
        }
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
