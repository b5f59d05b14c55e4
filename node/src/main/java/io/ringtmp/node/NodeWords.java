package io.ringtmp.node;

import io.ringtmp.transport.Link;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.MessageKind;
import io.ringtmp.transport.Transport;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * A node's handling of node words, the {@link MessageKind#NODE} messages nodes tell each other
 * about themselves and the ring ({@code bye}, {@code abort}, {@code abort-error},
 * {@code failed N}, {@code joins N}), and of the failures the program took over: which nodes
 * are known dead, which of them asked to rejoin, and who was told it was failed over.
 *
 * <p>Threads: transport I/O threads call {@link #shutOut} and {@link #onNodeWord}; the heartbeat
 * thread (the failure detector) calls {@link #isDead} and {@link #takenOver}; the program's thread
 * calls {@link #readmitPeer} and {@link #isDead} (while linking). Its state is in concurrent
 * collections; every word it sends on from a transport thread goes through the heartbeat
 * executor, since a transport thread must not wait on a send.
 */
final class NodeWords {
    /** What a node tells its neighbours when it leaves after a completed run (or a failed neighbour). */
    static final String BYE = "bye";
    /** What a node tells its neighbours when it was stopped early in order (SIGTERM, here or passed on). */
    static final String ABORT = "abort";
    /** What a node that stops after an error tells its neighbours. */
    static final String ABORT_AFTER_ERROR = "abort-error";
    /**
     * What a node that stops because node {@code N} failed tells its other neighbours
     * ({@code failed N}); they stop too and pass it on, so every node of the ring learns of it.
     */
    static final String FAILED = "failed ";
    /** {@code joins N}: failed-over node N asks to rejoin (from N itself, or passed on). */
    static final String JOINS = "joins ";

    private final ClusterSpec spec;
    private final int id;
    private final Time time;
    private final PrintStream log;
    private final StopSignal stop;
    private final NodeMetrics metrics;
    private final ScheduledExecutorService heartbeats;
    private final Supplier<NodeProgram> program;
    private final Supplier<FailureDetector> detector;
    private final Supplier<Transport> transport;
    /** The node's peers it sends heartbeats to and watches (owned by {@link Node}; a failed-over one leaves it here). */
    private final Set<Integer> neighbours;
    /** The nodes known to have failed whose failure the program took over (each reported to it once). */
    private final Set<Integer> knownDead = ConcurrentHashMap.newKeySet();
    /** Failed-over nodes whose request to rejoin the program took: their control messages are delivered. */
    private final Set<Integer> rejoining = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean askedToRejoin = new AtomicBoolean();
    private final Map<Integer, Long> toldFailedAt = new ConcurrentHashMap<>();

    /**
     * @param program   the node's program, null until it exists
     * @param detector  the node's failure detector, null until it exists
     * @param transport the node's transport, null until it started
     */
    NodeWords(ClusterSpec spec, int id, Time time, PrintStream log, StopSignal stop, NodeMetrics metrics,
              ScheduledExecutorService heartbeats, Supplier<NodeProgram> program, Supplier<FailureDetector> detector,
              Supplier<Transport> transport, Set<Integer> neighbours) {
        this.spec = spec;
        this.id = id;
        this.time = time;
        this.log = log;
        this.stop = stop;
        this.metrics = metrics;
        this.heartbeats = heartbeats;
        this.program = program;
        this.detector = detector;
        this.transport = transport;
        this.neighbours = neighbours;
    }

    /** Whether node {@code node} failed and the program took its failure over (and has not taken it back). */
    boolean isDead(int node) {
        return knownDead.contains(node);
    }

    /**
     * Keeps a failed-over node's messages out of the run: returns true when {@code m} came from
     * such a node and was dealt with here (its request to rejoin, or an answer that it was failed
     * over); false when the node should handle it as usual (its sender is not known dead, or it is
     * a rejoining node's control message, the membership token it passes on, for the program).
     */
    boolean shutOut(Message m) {
        if (!knownDead.contains(m.sender())) {
            return false;
        }
        if (m.kind() == MessageKind.NODE && (JOINS + m.sender()).equals(wordOf(m))) {
            onJoinsWord(m.sender(), m.sender()); // it asks to rejoin; until it is taken back it stays out
            return true;
        }
        if (!(m.kind() == MessageKind.CONTROL && rejoining.contains(m.sender()))) {
            toldFailed(m.sender()); // a failed-over node come back: nothing of it enters the run
            return true;
        }
        // A rejoining node's control message (the membership token it passes on) goes to the program.
        return false;
    }

    /**
     * A neighbour leaving is not a failure: stop watching it. One that was stopped early ends the
     * run for its neighbours too: orderly after a SIGTERM ({@code abort}), as an error after an
     * error ({@code abort-error}).
     */
    void onNodeWord(Message m, FailureDetector d) {
        String word = wordOf(m);
        if (word.startsWith(FAILED)) {
            onFailedWord(m.sender(), word.substring(FAILED.length()), d);
            return;
        }
        if (word.startsWith(JOINS)) {
            try {
                onJoinsWord(Integer.parseInt(word.substring(JOINS.length())), m.sender());
            } catch (NumberFormatException e) {
                log.println("ignored a malformed node word from node " + m.sender() + ": " + word);
            }
            return;
        }
        if (d != null) {
            d.forget(m.sender());
        }
        switch (word) {
            case BYE -> { }
            case ABORT -> stop.stop("neighbour " + m.sender() + " stopped early", false);
            case ABORT_AFTER_ERROR -> stop.stopAfterError("neighbour " + m.sender() + " stopped after an error");
            default -> log.println("ignored an unknown node word from node " + m.sender() + ": " + word);
        }
    }

    private static String wordOf(Message m) {
        return m.bytes() == null ? "" : new String(m.bytes(), StandardCharsets.US_ASCII);
    }

    /**
     * Failed-over node {@code node} asks to rejoin (itself, or neighbour {@code reporter} passes
     * its word on): when the program takes it as news, the word goes on to the other neighbours.
     */
    private void onJoinsWord(int node, int reporter) {
        NodeProgram p = program.get();
        if (node == id || !spec.hasNode(node) || p == null || !p.onRejoin(node, reporter)) {
            return;
        }
        rejoining.add(node);
        log.println("node " + node + " asks to rejoin" + (reporter == node ? "" : " (reported by neighbour " + reporter + ")"));
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("node", node);
        f.put("reportedBy", reporter);
        metrics.event("rejoin-asked", f);
        for (int peer : neighbours) {
            if (peer != reporter && peer != node) {
                heartbeats.execute(() -> transport.get().link(peer).ifPresent(l -> sendWord(l, JOINS + node)));
            }
        }
    }

    /**
     * A neighbour says node {@code dead} failed: when the program takes the failure over, the
     * neighbour goes on and this node passes the word on; otherwise the neighbour has stopped,
     * and this node stops too, and passes it on.
     */
    private void onFailedWord(int reporter, String dead, FailureDetector d) {
        int node;
        try {
            node = Integer.parseInt(dead);
        } catch (NumberFormatException e) {
            log.println("ignored a malformed node word from node " + reporter + ": failed " + dead);
            return;
        }
        if (node == id) {
            if (stop.stopped()) {
                return;
            }
            NodeProgram p = program.get();
            if (p == null) {
                return; // the word comes again once the program exists, and the program decides
            }
            if (p.rejoins(reporter)) {
                if (askedToRejoin.compareAndSet(false, true)) {
                    log.println("node " + id + ": the others went on without this node (neighbour " + reporter + " says so): asking to rejoin");
                }
                heartbeats.execute(() -> transport.get().link(reporter).ifPresent(l -> sendWord(l, JOINS + id)));
                return;
            }
            String why = "node " + reporter + " says the others declared this node failed and went on without it (paused or cut off "
                    + "for longer than the failure timeout, " + spec.failureTimeoutMs() + " ms): it is no longer a member of the run";
            log.println(why);
            stop.stopAsFailedOver(why);
            return;
        }
        if (!spec.hasNode(node)) {
            log.println("ignored a node word from node " + reporter + " naming node " + node + ", which is not in the spec");
            return;
        }
        if (knownDead.contains(node) || takenOver(node, reporter)) {
            return;
        }
        if (d != null) {
            d.forget(reporter);
        }
        if (!stop.stopForFailedNode(node, "node " + node + " failed (reported by neighbour " + reporter + ")")) {
            return; // already stopping (told by its other neighbour, say)
        }
        log.println("node " + node + " failed (reported by neighbour " + reporter + ")");
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("failedNode", node);
        f.put("reportedBy", reporter);
        metrics.event("node-failed", f);
    }

    /**
     * Offers node {@code node}'s failure to the program; when it takes it over, stops watching the
     * dead node and passes {@code failed N} on to the other neighbours (on the heartbeat thread:
     * a word may arrive on a transport thread, which must not wait). Returns whether it was taken.
     */
    boolean takenOver(int node, int reportedBy) {
        NodeProgram running = program.get();
        if (running == null || !running.onNodeFailed(node, reportedBy)) {
            return false;
        }
        if (knownDead.add(node)) {
            neighbours.remove(node);
            FailureDetector d = detector.get();
            if (d != null) {
                d.forget(node);
            }
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("failedNode", node);
            f.put("reportedBy", reportedBy);
            metrics.event("node-failed", f);
            log.println("node " + node + " failed (" + (reportedBy == id ? "detected here" : "reported by neighbour " + reportedBy)
                    + "): failing over");
            // The node itself hears it first, should it be alive (paused, cut off, or cut off for what it
            // sent): it reads the word when it goes on, and leaves (exit 4) instead of repairing a ring
            // of its own. Then the link closes: a send blocked on it (a paused node reads nothing) fails
            // now rather than after the send timeout.
            // The link as it is now: the heartbeat thread may run this after the node was restarted and
            // linked anew, and that link must stay.
            transport.get().link(node).ifPresent(old -> heartbeats.execute(() -> {
                sendWord(old, FAILED + node, 200);
                old.close();
            }));
            for (int peer : neighbours) {
                if (peer != reportedBy) {
                    heartbeats.execute(() -> transport.get().link(peer).ifPresent(l -> sendWord(l, FAILED + node)));
                }
            }
        }
        return true;
    }

    /** Tells a failed-over node that it was (at most once a second): it stops rather than send stale work into the run. */
    private void toldFailed(int peer) {
        long now = time.nanoTime();
        Long last = toldFailedAt.get(peer);
        if (last != null && now - last < 1_000_000_000L) {
            return;
        }
        toldFailedAt.put(peer, now);
        heartbeats.execute(() -> transport.get().link(peer).ifPresent(l -> sendWord(l, FAILED + peer)));
    }

    /** {@link Neighbours#readmit}: on the heartbeat thread, after any {@code failed N} answer already queued there. */
    void readmitPeer(int peer) {
        try {
            heartbeats.submit(() -> readmitNow(peer)).get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoppedException("interrupted while taking node " + peer + " back");
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            readmitNow(peer);
        }
    }

    private void readmitNow(int peer) {
        knownDead.remove(peer);
        rejoining.remove(peer);
        toldFailedAt.remove(peer);
        FailureDetector d = detector.get();
        if (d != null) {
            d.readmit(peer);
        }
    }

    /** Sends a node word, waiting at most a second: a neighbour that is gone no longer needs it. */
    void sendWord(Link l, String word) {
        sendWord(l, word, 1000);
    }

    private void sendWord(Link l, String word, long waitMs) {
        try {
            l.send(Message.control(MessageKind.NODE, id, spec.runId(), 0, word.getBytes(StandardCharsets.US_ASCII)))
                    .get(waitMs, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            // Best effort: a neighbour that missed it has its own failure detector.
        }
    }
}
