package io.ringtmp.ring.internal;

/**
 * Which compute a stage's loop does next when a forward, a backward or both could run.
 *
 * <p>A backward goes first: it frees an activation slot and sends the gradient that the stage
 * before this one waits for. But not twice in a row while a forward is ready: a stage that works
 * off its queued gradients first leaves the stage after it without activations, and that stage
 * idles although this one had its input (with equal stages, the wait moves down the ring and
 * comes back as a gap). So after a backward a ready forward runs, then a backward again: one
 * forward, one backward, as in PipeDream's steady state. The order of the backwards among
 * themselves, and so the order in which gradients are accumulated, does not change.
 *
 * <p>Not thread-safe: the loop thread only.
 */
public final class ComputeOrder {
    /** What to do next. */
    public enum Next { FORWARD, BACKWARD, NOTHING }

    private boolean lastWasBackward;

    /** Chooses the next compute and records it as done. */
    public Next next(boolean backwardReady, boolean forwardReady) {
        if (backwardReady && !(lastWasBackward && forwardReady)) {
            lastWasBackward = true;
            return Next.BACKWARD;
        }
        if (forwardReady) {
            lastWasBackward = false;
            return Next.FORWARD;
        }
        return Next.NOTHING;
    }
}
