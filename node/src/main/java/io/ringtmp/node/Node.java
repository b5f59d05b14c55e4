package io.ringtmp.node;

import io.ringtmp.transport.Link;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.MessageHandler;
import io.ringtmp.transport.MessageKind;
import io.ringtmp.transport.NettyTransport;
import io.ringtmp.transport.TensorBuffers;
import io.ringtmp.transport.Transport;
import io.ringtmp.transport.TransportConfig;
import io.ringtmp.transport.TransportException;
import io.ringtmp.transport.TransportFactory;
import io.ringtmp.transport.tls.TlsConfig;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One node process of a cluster: starts the transport, connects to its ring neighbours, sends
 * heartbeats and watches for silent neighbours, runs the spec's mode, writes metrics, and ends
 * cleanly on SIGTERM.
 *
 * <p>Usage: {@code new Node(spec, id, Time.SYSTEM, System.out, LinkTest.FACTORY).run()} returns the exit code: 0
 * when the mode completed (or SIGTERM ended it after its current step, on this node or on
 * another), 3 when a neighbour failed (and failover did not take it over), 4 when the others declared this node
 * failed and went on without it ({@link #EXIT_FAILED_OVER}), 1 on an error (on this node, or on another node that
 * stopped the run, or a peer that broke the protocol); a bug or bad input is thrown, with its
 * stack trace, after the neighbours are told. The node, not its program, handles link errors,
 * protocol errors and stops ({@link NodeProgram#run}). Threads: the caller's thread runs the mode; a scheduler thread
 * sends heartbeats and runs the failure detector; transport I/O threads deliver messages.
 */
public final class Node implements AutoCloseable {
    /** Exit code when a neighbour failed. */
    public static final int EXIT_PEER_FAILED = 3;
    /**
     * Exit code of a node that the others declared failed and went on without (it was paused or
     * cut off for longer than the failure timeout, and failover took its work over): not a
     * failure of the run.
     */
    public static final int EXIT_FAILED_OVER = 4;
    /** Exit code of {@code ringtmp node} after a bug in RingTMP (sysexits' EX_SOFTWARE), its stack trace in the log. */
    public static final int EXIT_BUG = 70;
    private final ClusterSpec spec;
    private final int id;
    private final Time time;
    private final PrintStream log;
    private final StopSignal stop = new StopSignal();
    private final NodeMetrics metrics;
    private final ScheduledExecutorService heartbeats;
    private volatile FailureDetector detector;
    private final NodeProgram.Factory programs;
    private final TransportFactory transports;
    private volatile NodeProgram program;
    private final java.util.List<Message> early = new java.util.ArrayList<>();
    /** The peers this node sends heartbeats to and watches: its neighbours (and extra peers), changed by failover. */
    private final java.util.Set<Integer> neighbours = new java.util.concurrent.CopyOnWriteArraySet<>();
    /** Node words ({@code bye}, {@code abort}, {@code failed N}, {@code joins N}) and the failures the program took over. */
    private final NodeWords words;
    /** The links the program sees, by peer: the first ones, and those {@link Neighbours#connect} added. */
    private final Map<Integer, Link> programLinks = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile Transport transport;
    /**
     * Received tensors' arrays, reused when the program gives them back. An array enters the
     * pool only when given back, so it never holds more than were alive at once: a ring stage a
     * few per shape (one per slot in flight), a parameter-server worker a whole pull (W2: 205
     * chunks of 1 MiB), which arrives while the worker computes. The cap bounds what stays
     * after an unusual burst.
     */
    private final TensorBuffers buffers = TensorBuffers.pooled(256);

    /**
     * A node on the network: its transport is a {@link NettyTransport}.
     *
     * @param programs creates the program of the spec's mode (e.g. {@link LinkTest#FACTORY})
     */
    public Node(ClusterSpec spec, int id, Time time, PrintStream log, NodeProgram.Factory programs) {
        this(spec, id, time, log, programs, NettyTransport::start);
    }

    /**
     * @param programs   creates the program of the spec's mode (e.g. {@link LinkTest#FACTORY})
     * @param transports starts the node's transport: {@code NettyTransport::start}, or an
     *                   {@code InProcessNetwork}'s for nodes that share a JVM in a test
     */
    public Node(ClusterSpec spec, int id, Time time, PrintStream log, NodeProgram.Factory programs, TransportFactory transports) {
        spec.node(id);
        programs.check(spec); // a hand-written spec with a stray or malformed option is refused by every node
        this.programs = programs;
        this.transports = java.util.Objects.requireNonNull(transports, "transports");
        this.spec = spec;
        this.id = id;
        this.time = time;
        this.log = log;
        this.metrics = new NodeMetrics(id, Path.of(spec.metricsDir()), time, spec.runId());
        this.heartbeats = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ringtmp-heartbeat");
            t.setDaemon(true);
            return t;
        });
        this.words = new NodeWords(spec, id, time, log, stop, metrics, heartbeats, () -> program, () -> detector,
                () -> transport, neighbours);
    }

    public NodeMetrics metrics() {
        return metrics;
    }

    /** Asks the node to end after its current step (SIGTERM). */
    public void requestStop(String why) {
        stop.stop(why, false);
    }

    public int run() throws InterruptedException {
        NodeSpec me = spec.node(id);
        int succ = spec.successor(id), pred = spec.predecessor(id);
        MessageHandler handler = new MessageHandler() {
            @Override
            public void onMessage(Message m) {
                if (words.shutOut(m)) {
                    return; // a failed-over node's message, dealt with there: nothing of it enters the run
                }
                FailureDetector d = detector;
                if (d != null) {
                    d.heard(m.sender());
                }
                if (m.kind() == MessageKind.NODE) {
                    words.onNodeWord(m, d);
                    return;
                }
                if (m.kind() == MessageKind.HEARTBEAT) {
                    return;
                }
                NodeProgram p = program;
                if (p == null) {
                    synchronized (early) {
                        p = program;
                        if (p == null) {
                            // A neighbour may start before this node's program exists: keep its messages, in order.
                            early.add(m);
                            return;
                        }
                    }
                }
                p.onMessage(m);
            }

            @Override
            public void onRejected(int peerId, String reason) {
                log.println("rejected a message from " + (peerId < 0 ? "an unknown peer" : "node " + peerId) + ": " + reason);
                Map<String, Object> f = new LinkedHashMap<>();
                f.put("peer", peerId);
                f.put("reason", reason);
                metrics.event("message-rejected", f);
            }
        };
        TransportConfig tc = TransportConfig.of(id, me.host(), me.port(), spec.runId(),
                spec.secret().getBytes(StandardCharsets.UTF_8), programs.maxMessageBytes(spec) + 4096);
        tc = tc.withTimeouts(tc.sendTimeoutMs(), spec.joinTimeoutMs(), tc.handshakeTimeoutMs());
        Map<Integer, String> hosts = new LinkedHashMap<>();
        spec.nodes().forEach(n -> hosts.put(n.id(), n.host()));
        tc = tc.withPeerHosts(hosts); // a connection claiming node k must come from k's host
        if (spec.tls() != null) {
            tc = tc.withTls(TlsConfig.of(spec.tls().credentials(id, Instant.ofEpochMilli(time.currentTimeMillis()))));
        }
        transport = transports.start(tc, handler, buffers);
        log.println("node " + id + " listening on " + me.address() + ", run " + Long.toHexString(spec.runId()) + ", mode " + spec.mode().id());
        log.println("node " + id + " links: " + (tc.tls() == null ? "plaintext (shared-secret handshake only; the spec has no tls block)"
                : tc.tls().describe()));
        Map<Integer, Link> links = new LinkedHashMap<>();
        java.util.Set<Integer> peers = new java.util.LinkedHashSet<>(List.of(succ, pred));
        peers.addAll(programs.extraPeers(spec, id));
        peers.stream().filter(n -> n != id).forEach(neighbours::add);
        // Heartbeats start now, on whichever link to a neighbour is up (the one it opened counts):
        // a neighbour whose links are all up watches this node while it still waits for another.
        heartbeats.scheduleAtFixedRate(() -> {
            // The check comes first: a send to a dead neighbour fails, and must not skip it. Neither
            // waits behind tensors: heartbeats skip back-pressure (MessageKind.waitsForBackPressure).
            FailureDetector d = detector;
            if (d != null) {
                d.check();
            }
            for (int peer : neighbours) {
                if (d == null || !d.isFailed(peer)) {
                    try {
                        transport.link(peer).ifPresent(l -> l.send(Message.control(MessageKind.HEARTBEAT, id, spec.runId(), 0, new byte[0])));
                    } catch (RuntimeException e) {
                        // The neighbour is unreachable; the detector decides when that is a failure.
                    }
                }
            }
        }, spec.heartbeatMs(), spec.heartbeatMs(), TimeUnit.MILLISECONDS);
        for (int peer : peers) {
            // A neighbour may be started much later (by hand, on another machine): say so while waiting.
            long waitStart = time.nanoTime();
            long every = Math.min(10_000, Math.max(1, spec.joinTimeoutMs() / 4));
            java.util.concurrent.ScheduledFuture<?> waiting = heartbeats.scheduleAtFixedRate(() -> log.println(String.format(Locale.ROOT,
                    "node %d: waiting for neighbour %d at %s (%.0f s so far; gives up after %.0f s)", id, peer, spec.node(peer).address(),
                    (time.nanoTime() - waitStart) / 1e9, spec.joinTimeoutMs() / 1e3)), every, every, TimeUnit.MILLISECONDS);
            try {
                links.put(peer, transport.connect(peer, spec.node(peer).host(), spec.node(peer).port()));
            } catch (io.ringtmp.transport.TransportException e) {
                // A neighbour that dies while the ring forms is a failed neighbour, like one that dies later.
                log.println("neighbour " + peer + " failed: " + e.getMessage());
                Map<String, Object> f = new LinkedHashMap<>();
                f.put("peer", peer);
                f.put("silentMs", -1);
                f.put("reason", e.getMessage());
                metrics.event("peer-failed", f);
                for (Link l : links.values()) {
                    words.sendWord(l, NodeWords.FAILED + peer);
                }
                endEvent(false, "neighbour " + peer + " failed");
                log.println("node " + id + " stopping: neighbour " + peer + " failed");
                return EXIT_PEER_FAILED;
            } finally {
                waiting.cancel(false);
            }
        }
        log.println("node " + id + ": links up to " + links.keySet());
        links.forEach((peer, l) -> programLinks.put(peer, new ProgramLink(l)));
        NodeContext ctx = new NodeContext(spec, id, programLinks.get(succ), programLinks.get(pred),
                java.util.Collections.unmodifiableMap(programLinks), metrics, time, log, stop, buffers, new Neighbours() {
                    @Override
                    public Link connect(int peer) {
                        return connectNeighbour(peer);
                    }

                    @Override
                    public void readmit(int peer) {
                        words.readmitPeer(peer);
                    }

                    @Override
                    public void cutOff(int peer, String why) {
                        Node.this.cutOff(peer, why);
                    }

                    @Override
                    public void drop(int peer) {
                        neighbours.remove(peer);
                        FailureDetector d = detector;
                        if (d != null) {
                            d.forget(peer);
                        }
                    }
                });
        detector = new FailureDetector(time, spec.failureTimeoutMs(), List.copyOf(neighbours), peer -> {
            long silent = detector.silentMs(peer);
            log.println("neighbour " + peer + " failed: nothing heard for " + silent + " ms (timeout " + spec.failureTimeoutMs() + " ms)");
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("peer", peer);
            f.put("silentMs", silent);
            metrics.event("peer-failed", f);
            NodeProgram running = program;
            long grace = running == null ? 0 : running.failureGraceMs(peer);
            Runnable act = () -> failNeighbour(peer, "neighbour " + peer + " failed");
            if (grace > 0) {
                log.println("waiting " + grace + " ms for word of neighbour " + peer + " from the rest of the ring before failing it over");
                heartbeats.schedule(act, grace, TimeUnit.MILLISECONDS);
            } else {
                act.run();
            }
        });
        NodeProgram p = programs.create(ctx);
        synchronized (early) {
            early.forEach(p::onMessage);
            early.clear();
            program = p;
        }
        boolean ok = false;
        RuntimeException error = null;
        String protocolError = null;
        try {
            ok = p.run();
        } catch (StoppedException e) {
            // The stop's reason decides the exit code below.
        } catch (TransportException | CompletionException e) {
            log.println("link error: " + e.getMessage() + "; waiting for the failure detector");
            stop.await(2L * spec.failureTimeoutMs());
        } catch (ProtocolException e) {
            log.println(e.getMessage());
            if (e.peer() >= 0 && e.peer() != id && spec.hasNode(e.peer())) {
                // The peer's fault: it is cut off as a failed node (exit 3 here, naming it), not an error of this node.
                cutOff(e.peer(), e.getMessage());
            }
            if (!stop.failed()) {
                protocolError = e.getMessage();
                log.println("node " + id + " stopping: " + protocolError);
            }
        } catch (RuntimeException e) {
            // A bug here, or bad input (spec, data, checkpoint): the neighbours are told at once
            // (abort-error) rather than left to wait for the failure timeout.
            error = e;
        }
        // "bye" after a completed run; "failed N" when node N failed (detected here or reported),
        // so that nodes two hops or more from it stop too instead of waiting on a dead stage; when
        // this node stops early, "abort" if it was an orderly stop (SIGTERM, here or passed on),
        // "abort-error" after an error (here or passed on), so that its neighbours stop too and
        // exit as this node does. Neighbours that failed or already left are not told.
        String word = ok || stop.failedOver() ? NodeWords.BYE
                : stop.failed() ? (stop.failedNode() >= 0 ? NodeWords.FAILED + stop.failedNode() : NodeWords.BYE)
                : stop.stopped() && !stop.erred() && protocolError == null ? NodeWords.ABORT : NodeWords.ABORT_AFTER_ERROR;
        for (int peer : neighbours) {
            if (detector.isWatching(peer)) {
                transport.link(peer).ifPresent(l -> words.sendWord(l, word));
            }
        }
        log.println(String.format(Locale.ROOT, "node %d: %,d tensors received, %,d of them into reused arrays",
                id, buffers.taken(), buffers.reused()));
        if (error != null) {
            endEvent(false, "error: " + error.getMessage());
            throw error;
        }
        if (protocolError != null) {
            endEvent(false, protocolError);
            return 1;
        }
        endEvent(ok, stop.reason() != null ? stop.reason() : ok ? "completed" : "failed");
        if (stop.failedOver()) {
            log.println("node " + id + " leaving: " + stop.reason());
            return EXIT_FAILED_OVER;
        }
        if (stop.failed()) {
            log.println("node " + id + " stopping: " + stop.reason());
            return EXIT_PEER_FAILED;
        }
        if (stop.erred()) {
            log.println("node " + id + " stopping: " + stop.reason());
            return 1;
        }
        if (stop.stopped()) {
            log.println("node " + id + " stopped: " + stop.reason());
            return 0;
        }
        return ok ? 0 : 1;
    }

    /** {@link Neighbours#connect}: links to {@code peer} and watches it. */
    /** {@link Neighbours#cutOff}: {@code peer} broke the protocol ({@code why}) and is failed as a silent neighbour would be. */
    private void cutOff(int peer, String why) {
        log.println("cutting off node " + peer + ": " + why);
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("peer", peer);
        f.put("silentMs", -1);
        f.put("reason", why);
        metrics.event("peer-failed", f);
        failNeighbour(peer, "node " + peer + " was cut off: " + why);
    }

    /**
     * Neighbour {@code peer} is failed (silent past the timeout, or cut off): the program takes
     * it over, or this node stops for it ({@code why}). Nothing when it is settled already.
     */
    private void failNeighbour(int peer, String why) {
        if (words.isDead(peer) || stop.stopped()) {
            return; // settled meanwhile: reported by another node, or this node was failed over
        }
        if (!words.takenOver(peer, id)) {
            stop.stopForFailedNode(peer, why);
        }
    }

    private Link connectNeighbour(int peer) {
        Link l = programLinks.get(peer);
        if (l == null || !l.isOpen()) {
            l = new ProgramLink(connectUnlessFailed(peer));
            programLinks.put(peer, l);
        }
        neighbours.add(peer);
        FailureDetector d = detector;
        if (d != null) {
            d.watch(peer);
        }
        return l;
    }

    /**
     * Connects to {@code peer} as {@link io.ringtmp.transport.Transport#connect} does, but gives up
     * as soon as the peer is known to have failed: a repair that links to a node which died
     * meanwhile must hear the news, not wait out the connect timeout.
     */
    private Link connectUnlessFailed(int peer) {
        NodeSpec n = spec.node(peer);
        java.util.concurrent.CompletableFuture<Link> f = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> transport.connect(peer, n.host(), n.port()), r -> Thread.ofVirtual().name("connect-" + peer).start(r));
        while (true) {
            if (words.isDead(peer) || stop.stopped()) {
                f.cancel(false); // the attempt ends by itself at its timeout; its link, if any, is never used
                throw new TransportException("node " + peer + " failed while node " + id + " was linking to it", true);
            }
            try {
                return f.get(20, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                // still connecting
            } catch (java.util.concurrent.ExecutionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : new TransportException(String.valueOf(e.getCause()), true);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TransportException("interrupted while linking to node " + peer, true);
            }
        }
    }

    private void endEvent(boolean completed, String reason) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("completed", completed);
        f.put("reason", reason);
        f.put("tensorsReceived", buffers.taken());
        f.put("tensorsIntoReusedArrays", buffers.reused());
        metrics.event("end", f);
    }

    @Override
    public void close() {
        heartbeats.shutdownNow();
        if (transport != null) {
            transport.close();
        }
        metrics.close();
    }
}
