package io.ringtmp.node;

/**
 * A program's wait ended because the run must stop (SIGTERM, a failed or departed neighbour,
 * another node's error); {@link Node} turns it into the stop's exit code.
 */
public final class StoppedException extends RuntimeException {
    public StoppedException(String reason) {
        super(reason, null, false, false);
    }
}
