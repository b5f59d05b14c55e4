package io.ringtmp.node;

/**
 * A peer broke the protocol of the run's mode: a message of a kind, step or shape the receiver
 * does not expect, or a control message it cannot read. The peer's fault, not a bug here: the
 * node says so in one line naming the peer, tells its neighbours, and exits 1 ({@link Node}).
 */
public final class ProtocolException extends RuntimeException {
    private final int peer;

    /**
     * @param peer the node that broke the protocol (-1 when unknown)
     * @param what what was wrong, in the receiver's words
     */
    public ProtocolException(int peer, String what) {
        super((peer < 0 ? "a peer" : "node " + peer) + " broke the protocol: " + what);
        this.peer = peer;
    }

    public int peer() {
        return peer;
    }
}
