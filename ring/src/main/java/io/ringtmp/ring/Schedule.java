package io.ringtmp.ring;

import io.ringtmp.node.SpecException;

import java.util.Arrays;
import java.util.Locale;

/**
 * The order in which a stage runs its microbatches' forward and backward passes.
 *
 * <ul>
 *   <li>{@link #GPIPE}: all M microbatches of a mini-batch forward, then all backward (the last
 *       stage in reverse order), gradients accumulated, one update per mini-batch. Every stage
 *       holds M microbatches' activations.</li>
 *   <li>{@link #ONE_F_ONE_B}: after a warm-up, one forward and one backward in turn; stage k
 *       holds at most K − k microbatches; one update per mini-batch (a flush): the same weights
 *       as gpipe with less activation memory.</li>
 *   <li>{@link #ASYNC}: no flush; every stage updates after each microbatch's backward, with
 *       weight stashing so that a backward uses the weights its forward used (PipeDream).</li>
 * </ul>
 */
public enum Schedule {
    GPIPE("gpipe"), ONE_F_ONE_B("1f1b"), ASYNC("async");

    private final String id;

    Schedule(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    /** Whether every stage updates once per mini-batch, at the same weights as the single-node trainer. */
    public boolean synchronous() {
        return this != ASYNC;
    }

    public static Schedule parse(String s) {
        for (Schedule v : values()) {
            if (v.id.equals(s.trim().toLowerCase(Locale.ROOT))) {
                return v;
            }
        }
        throw new SpecException("unknown schedule '" + s + "' (known: " + String.join(", ",
                Arrays.stream(values()).map(Schedule::id).toList()) + ")");
    }
}
