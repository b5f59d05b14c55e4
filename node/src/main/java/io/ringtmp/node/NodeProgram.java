package io.ringtmp.node;

import io.ringtmp.transport.Message;

/**
 * What a node runs in its mode (the link test, a ring stage, a parameter-server role). The
 * {@link Node} owns the transport, links, heartbeats and failure detection; the program owns
 * what travels on the links.
 *
 * <p>Order of calls: the {@link Factory} creates the program on the node's main thread once the
 * links are up; {@link #onMessage} is called on transport I/O threads for every message that is
 * not a heartbeat or a node word (those that arrived before the program existed are handed to it
 * first, in their order, on the main thread); {@link #run} is called once on the main thread and returns when the program is
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
     * Told that node {@code node} failed: declared failed by this node's detector
     * ({@code reportedBy} is this node's id; on the heartbeat thread), or reported by neighbour
     * {@code reportedBy} ({@code failed N}; on a transport thread). Called once per failed node;
     * must not block. Returns whether the program takes the failure over (failover): then the
     * node stops watching the dead node, passes {@code failed N} on to its other neighbours so
     * that every node of the ring learns of it, and goes on. By default it does not, and the node
     * stops the run with exit 3.
     */
    default boolean onNodeFailed(int node, int reportedBy) {
        return false;
    }

    /**
     * Told, by neighbour {@code reportedBy}, that the others declared this node failed and went on
     * without it (on a transport thread; must not block). Returns whether the program asks to
     * rejoin: then the node answers {@code joins N} and goes on; by default it does not, and the
     * node leaves with exit 4. The word comes again while the node stays out (at most once a
     * second per neighbour), so the program may be asked several times.
     */
    default boolean rejoins(int reportedBy) {
        return false;
    }

    /**
     * Told that failed-over node {@code node} asks to rejoin: by the node itself
     * ({@code reportedBy == node}) or by neighbour {@code reportedBy} passing its word on (on a
     * transport thread; must not block). Returns whether this is news the program takes: then the
     * node passes {@code joins N} on to its other neighbours. By default it is not.
     */
    default boolean onRejoin(int node, int reportedBy) {
        return false;
    }

    /**
     * How long this node waits, after its own detector declared neighbour {@code peer} failed,
     * before it acts on it (called on the heartbeat thread; must not block). Within that time a
     * {@code failed} word from elsewhere settles it: another node's report of {@code peer}, or
     * one naming this node (the two ends of a cut link each see the other silent, and only one of
     * them may be failed over). 0 by default: at once.
     */
    default long failureGraceMs(int peer) {
        return 0;
    }

    /**
     * Creates a mode's program for a node. Each mode's factory is a service
     * ({@code META-INF/services/io.ringtmp.node.NodeProgram$Factory}), found by its name ({@link Modes}).
     */
    interface Factory {
        /** The mode's name in a cluster spec, e.g. {@code ring}. */
        String mode();

        /** The spec option keys the mode takes (docs/cluster-spec.md). */
        java.util.Set<String> optionKeys();

        /**
         * Checks a spec for this mode, before any node starts and again on every node: an
         * option the mode does not take, or a malformed value, is a {@link SpecException} naming it.
         */
        default void check(ClusterSpec spec) {
            java.util.Set<String> unknown = new java.util.TreeSet<>(spec.options().keySet());
            unknown.removeAll(optionKeys());
            if (!unknown.isEmpty()) {
                throw new SpecException("mode " + mode() + " does not take the option" + (unknown.size() > 1 ? "s " : " ")
                        + String.join(", ", unknown) + " (it takes " + String.join(", ", new java.util.TreeSet<>(optionKeys())) + ")");
            }
            maxMessageBytes(spec); // reads, and so checks, every option's value
        }

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
