package io.ringtmp.node;

import io.ringtmp.transport.Link;
import io.ringtmp.transport.TensorBuffers;

import java.io.PrintStream;

/**
 * What a running mode sees of its node: who it is, its links to its ring neighbours, its
 * metrics, clock and log, and whether the run must stop (a neighbour failed, or SIGTERM).
 *
 * @param spec        the cluster spec
 * @param id          this node's id
 * @param successor   link to node (id+1) mod N
 * @param predecessor link to node (id-1) mod N (the same link as successor when N ≤ 2)
 * @param links       every link this node holds, by peer id (the ring neighbours and the
 *                    program's {@link NodeProgram.Factory#extraPeers extra peers})
 * @param metrics     this node's metrics
 * @param time        the clock
 * @param log         where to print progress lines
 * @param stop        set when the run must end early
 * @param buffers     where received tensors' arrays come from: a program may give a received
 *                    tensor back once it holds no reference it will read again
 * @param neighbours  links to new neighbours, and drops old ones, while the program runs
 *                    (ring failover); {@code links} then shows them too
 */
public record NodeContext(ClusterSpec spec, int id, Link successor, Link predecessor,
                          java.util.Map<Integer, Link> links, NodeMetrics metrics, Time time,
                          PrintStream log, StopSignal stop, TensorBuffers buffers, Neighbours neighbours) {
    public int successorId() {
        return spec.successor(id);
    }

    public int predecessorId() {
        return spec.predecessor(id);
    }

    /** The link to {@code peer}, which must be a neighbour or an extra peer. */
    public Link link(int peer) {
        Link l = links.get(peer);
        if (l == null) {
            throw new IllegalArgumentException("node " + id + " has no link to node " + peer + " (it has " + links.keySet() + ")");
        }
        return l;
    }

    /** Prints a line prefixed with nothing: the launcher adds "[node i]". */
    public void say(String line) {
        log.println(line);
    }
}
