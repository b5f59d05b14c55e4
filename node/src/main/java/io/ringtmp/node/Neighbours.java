package io.ringtmp.node;

import io.ringtmp.transport.Link;

/**
 * A running program's say over who its node's neighbours are, for a program whose membership
 * changes while it runs (the ring's failover: node i−1 links to node i+1 when node i dies). A
 * neighbour is a peer the node holds a link to, sends heartbeats to and watches with its failure
 * detector. Thread-safe.
 */
public interface Neighbours {
    /**
     * Links to {@code peer} (connecting when no link is open yet, waiting while it comes up as
     * {@code connect} does), and from now on sends it heartbeats and watches it (counting it as
     * heard now). Returns the link as programs see it.
     *
     * @throws io.ringtmp.transport.TransportException when the peer cannot be reached
     */
    Link connect(int peer);

    /** Stops sending heartbeats to {@code peer} and watching it (it left the membership). */
    void drop(int peer);

    /**
     * Takes failed-over {@code peer} back (it rejoins the run): its frames are delivered again
     * instead of being answered with {@code failed N}, and its failure is news again. Returns
     * once any answer already under way has been sent.
     */
    void readmit(int peer);

    /**
     * Declares neighbour {@code peer} failed because it broke the protocol ({@code why}: what it
     * sent), as the failure detector declares a silent one: with failover the program takes it
     * over (its link is closed, the word goes round the ring, and the peer, told so, leaves);
     * without, this node stops with exit 3 naming it, as for a dead neighbour. Either way this
     * node does not go down with it.
     */
    void cutOff(int peer, String why);
}
