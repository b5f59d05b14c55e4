package io.ringtmp.transport;

/**
 * What a {@link Message} is for. The wire carries the ordinal in one byte, so the order of the
 * constants is part of the wire format (docs/transport.md): append, never reorder.
 */
public enum MessageKind {
    ACTIVATION, GRADIENT, CREDIT, LOSS, CONTROL, HEARTBEAT,
    /** Payload for link tests and benchmarks; no protocol meaning. */
    DATA,
    /** Ring: activations of an evaluation batch with its labels (forward only, no backward). */
    EVAL,
    // parameter server
    /** A worker asks a server for its shard of the parameters of a step. */
    PULL,
    /** A server's answer to a PULL: one chunk of its shard's parameter values. */
    PARAMS,
    /** A worker's gradient for one chunk of a server's shard. */
    PUSH,
    /**
     * The node runtime's own words (a neighbour leaving: {@code bye}, {@code abort},
     * {@code abort-error}); handled by the node, never delivered to its program, and refused
     * when a program tries to send one.
     */
    NODE,
    /**
     * Ring: one chunk of a stage's buddy replica (its weights, optimiser state and step at a
     * replica point), streamed in the background to the node that takes the stage over if its
     * node dies.
     */
    REPLICA;

    private static final MessageKind[] VALUES = values();

    /**
     * Whether a send of this kind waits for back-pressure ({@link Link#send}). Heartbeats and node
     * words never do: they are a few bytes, and a node must be able to say it is alive, or leaving,
     * while its link is full of tensors that the peer is slow to read.
     */
    public boolean waitsForBackPressure() {
        return this != HEARTBEAT && this != NODE;
    }

    /** The kind with wire code {@code code}, or null when there is none. */
    public static MessageKind fromCode(int code) {
        return code >= 0 && code < VALUES.length ? VALUES[code] : null;
    }
}
