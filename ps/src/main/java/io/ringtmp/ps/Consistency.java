package io.ringtmp.ps;

import io.ringtmp.node.SpecException;

import java.util.Locale;

/**
 * When a parameter server answers a worker's pull, and how it applies pushes.
 *
 * <ul>
 *   <li>{@link #BSP}: bulk synchronous. A server sums the W pushes of step t and applies one
 *       update; the pull of step t+1 is answered only after all W pushes of step t. With W
 *       workers and global batch B this computes the single-node trainer's weights.</li>
 *   <li>{@link #ASP}: asynchronous. Every push is applied when it arrives; pulls are answered at
 *       once.</li>
 *   <li>{@link #SSP}: stale synchronous with staleness s. Every push is applied when it
 *       arrives; the pull of step t is answered once every worker has pushed at least t - s
 *       steps, so no worker runs more than s steps ahead of the slowest.</li>
 * </ul>
 */
public enum Consistency {
    BSP, ASP, SSP;

    /** The lower-case name used in specs and on the command line. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether a worker may compute step t while its push of t-1 and its pull of t+1 travel. */
    public boolean overlapsCommunication() {
        return this != BSP;
    }

    /** Parses {@code bsp}, {@code asp} or {@code ssp} (any case). */
    public static Consistency parse(String s) {
        for (Consistency c : values()) {
            if (c.id().equalsIgnoreCase(s.trim())) {
                return c;
            }
        }
        throw new SpecException("unknown consistency '" + s + "' (expected bsp, asp or ssp)");
    }
}
