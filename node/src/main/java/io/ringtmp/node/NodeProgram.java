package io.ringtmp.node;

import io.ringtmp.transport.Message;

/**
 * What a node runs in its mode (the link test, a ring stage, a parameter-server role). The
 * {@link Node} owns the transport, links, heartbeats and failure detection; the program owns
 * what travels on the links.
 *
 * <p>Order of calls: the {@link Factory} creates the program on the node's main thread once the
 * links are up; {@link #onMessage} is called on transport I/O threads for every message that is
 * not a heartbeat or a goodbye (including messages that arrived before the program existed, in
 * their order); {@link #run} is called once on the main thread and returns when the program is
 * done or {@link NodeContext#stop()} says it must end. {@code onMessage} must not block: hand
 * the message to the program's own thread.
 */
public interface NodeProgram {
    /** Handles one message from a neighbour; called on a transport I/O thread; must not block or throw. */
    void onMessage(Message m);

    /**
     * Runs the program; returns true when it completed its work. What ends it early is the
     * node's to handle, so a program lets these through: {@link StoppedException} (from its
     * {@link Inbox}: the run must stop), a link's {@code TransportException} or
     * {@code CompletionException} (the node waits for the failure detector), a
     * {@link ProtocolException} (a peer broke the protocol: one line, exit 1). Any other
     * exception is bad input or a bug, reported with its stack trace.
     */
    boolean run() throws InterruptedException;

    /**
     * Told, on the node's heartbeat thread, that neighbour {@code peer} was declared failed; must
     * not block. Returns whether the program takes the failure over (failover); by default it
     * does not, and the node stops the run with exit 3.
     */
    default boolean onPeerFailed(int peer) {
        return false;
    }

    /** Creates a mode's program for a node. */
    interface Factory {
        /** The largest message body the program sends or accepts (sizes the transport's limit). */
        long maxMessageBytes(ClusterSpec spec);

        /**
         * The peers this node talks to besides its ring neighbours (a parameter server's workers,
         * say), which it connects to and watches; none by default.
         */
        default java.util.List<Integer> extraPeers(ClusterSpec spec, int id) {
            return java.util.List.of();
        }

        NodeProgram create(NodeContext ctx);
    }
}
