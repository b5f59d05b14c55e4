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
    private volatile int failedNode = -1;
    private volatile boolean failedOver;

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

    /**
     * Requests a stop because node {@code node} failed (detected here, or reported by a neighbour):
     * the node exits with {@link Node#EXIT_PEER_FAILED} and tells its other neighbours which node
     * failed, so that the whole ring stops rather than waiting on a dead stage. Returns whether
     * this was the first reason to stop.
     */
    public synchronized boolean stopForFailedNode(int node, String why) {
        if (reason != null) {
            return false;
        }
        failedNode = node;
        stop(why, true);
        return true;
    }

    /**
     * Requests a stop because the other nodes declared this node failed and went on without it
     * (it was paused or cut off for longer than the failure timeout): the node exits with
     * {@link Node#EXIT_FAILED_OVER} and sends nothing more into the run.
     */
    public synchronized void stopAsFailedOver(String why) {
        if (reason == null) {
            reason = why;
            failedOver = true;
            latch.countDown();
        }
    }

    /** Whether the stop was {@link #stopAsFailedOver}. */
    public boolean failedOver() {
        return failedOver;
    }

    /** The failed node that stopped the run ({@link #stopForFailedNode}), or -1. */
    public int failedNode() {
        return failedNode;
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
