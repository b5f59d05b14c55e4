package io.ringtmp.ps;

import io.ringtmp.node.SpecException;

import java.util.Locale;

/**
 * When a parameter server answers a worker's pull. In every mode a server sums W pushes into
 * one update (workers compute B/W rows each, so an update is one batch of B samples, as in the
 * single-node trainer); the modes differ in which pushes and in how stale the parameters a
 * worker computes with may be.
 *
 * <ul>
 *   <li>{@link #BSP}: bulk synchronous. The W pushes of step t make update t; the pull of step
 *       t+1 is answered only after all W pushes of step t. With W workers and global batch B this
 *       computes the single-node trainer's weights.</li>
 *   <li>{@link #ASP}: asynchronous. The next W pushes to arrive make an update; pulls are
 *       answered at once; a worker fetches the parameters of its next step while it computes.</li>
 *   <li>{@link #SSP}: stale synchronous with staleness s. As asp, but the pull of step t is
 *       answered once every worker has pushed at least t - s steps, so no worker runs more than s
 *       steps ahead of the slowest.</li>
 * </ul>
 */
public enum Consistency {
    BSP, ASP, SSP;

    /** The lower-case name used in specs and on the command line. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
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
