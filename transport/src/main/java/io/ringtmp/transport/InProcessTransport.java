package io.ringtmp.transport;

import io.ringtmp.transport.internal.InProcessLink;
import io.ringtmp.transport.internal.Refusals;

import java.security.MessageDigest;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A {@link Transport} for nodes that share a JVM, as grpc-java has {@code InProcessTransport}:
 * it listens on an {@link InProcessNetwork} instead of a socket, and its links move
 * {@link Message}s between threads, so that the ring's and the parameter server's protocols
 * get fast, deterministic tests with real nodes and no mocks.
 *
 * <p>What it keeps of the contract of {@link Link} and {@link MessageHandler}: {@code send}
 * copies the tensor and bytes before it returns (the tensor into an array of the receiver's
 * {@link TensorBuffers}, as the Netty decoder does) and stamps this node's id as the sender; a
 * per-link delivery thread ({@code ringtmp-inproc-<receiver>-from-<sender>}) is the receiver's
 * I/O thread and calls its handler in send order; the future completes once the handler took the
 * message; {@link LinkStats} counts frame bytes as the Netty frames would
 * ({@link Message#frameBytes()}); the water marks and send timeout give the same back-pressure,
 * and a send from inside a handler never blocks. Connecting checks what the handshake checks,
 * and refuses in the same words: another run id, another node at the address, or another secret
 * fail {@code connect} permanently and report {@code onRejected(-1, reason)} to the peer (on the
 * connecting thread: there is no handshake thread). A received frame above the receiver's
 * {@code maxMessageBytes} closes the connection and one of another run is dropped, each reported
 * as the Netty decoder does. Closing a link closes both ends: queued messages fail their futures
 * and both sides get {@code onDisconnected}, except a transport that is closing.
 *
 * <p>What it does not test: sockets, TCP flow control, the wire format and its CRC, the
 * cryptographic handshake, TLS; a wrong secret is a byte comparison here. Use
 * {@link NettyTransport} for those (its tests do).
 *
 * <p>Lifecycle and threads as in {@link Transport}: {@link #start} listens at once;
 * {@link #connect} waits on the network for a peer that is not listening yet, up to
 * {@link TransportConfig#connectTimeoutMs()}; {@link #close} closes every link and waits up to
 * 5 s for the threads delivering into this transport, after which no callback runs.
 */
public final class InProcessTransport implements Transport {
    private static final System.Logger LOG = System.getLogger("io.ringtmp.transport");
    /** Name prefix of the delivery threads ({@code ringtmp-inproc-<receiver>-from-<sender>}). */
    public static final String THREAD_PREFIX = InProcessLink.THREAD_PREFIX;

    private final InProcessNetwork network;
    private final TransportConfig cfg;
    private final MessageHandler handler;
    private final TensorBuffers buffers;
    private final byte[] secret;
    private final OwnerImpl owner = new OwnerImpl();
    private final ConcurrentHashMap<Integer, InProcessLink> links = new ConcurrentHashMap<>();
    private final Set<InProcessLink> ends = ConcurrentHashMap.newKeySet();
    private final Object lifecycle = new Object();
    private volatile boolean closed;
    private volatile int port;

    private InProcessTransport(InProcessNetwork network, TransportConfig cfg, MessageHandler handler, TensorBuffers buffers) {
        this.network = network;
        this.cfg = cfg;
        this.handler = new io.ringtmp.transport.internal.GuardedHandler(cfg.nodeId(), handler);
        this.buffers = buffers;
        this.secret = cfg.secret();
    }

    /**
     * Listens at {@code cfg.bindHost():cfg.port()} on {@code network} (port 0: a free one) and
     * accepts peers, handing what arrives to {@code handler}; received tensors' arrays come from
     * {@code buffers}.
     *
     * @throws TransportException permanent when another transport listens there already
     */
    public static InProcessTransport start(InProcessNetwork network, TransportConfig cfg, MessageHandler handler,
                                           TensorBuffers buffers) {
        Objects.requireNonNull(network, "network");
        Objects.requireNonNull(cfg, "cfg");
        Objects.requireNonNull(handler, "handler");
        Objects.requireNonNull(buffers, "buffers");
        InProcessTransport t = new InProcessTransport(network, cfg, handler, buffers);
        t.port = network.bind(t, cfg.bindHost(), cfg.port());
        return t;
    }

    @Override
    public TransportConfig config() {
        return cfg;
    }

    @Override
    public int boundPort() {
        return port;
    }

    private String address() {
        return "in-process " + cfg.bindHost() + ":" + port;
    }

    @Override
    public Link connect(int peerId, String host, int port) {
        if (peerId < 0) {
            throw new IllegalArgumentException("peerId must be >= 0, got " + peerId);
        }
        Objects.requireNonNull(host, "host");
        ensureOpen();
        InProcessTransport server;
        try {
            server = network.awaitListener(host, port, cfg.connectTimeoutMs());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransportException("interrupted while connecting to peer " + peerId, true, e);
        }
        String at = "in-process " + host + ":" + port;
        if (server == null) {
            throw new TransportException("node " + cfg.nodeId() + ": peer " + peerId + " at " + at + " not reachable within "
                    + cfg.connectTimeoutMs() + " ms: nothing listens there on this in-process network", true);
        }
        String who = "connection from " + address();
        if (server.cfg.runId() != cfg.runId()) {
            server.refused(Refusals.otherRunConnecting(who, cfg.nodeId(), cfg.runId(), server.cfg.runId()));
            throw refusal(Refusals.refusedByPeer(peerId, at));
        }
        if (server.nodeId() != peerId) {
            // As over TCP: the connecting side hangs up on the wrong node before proving anything.
            server.refused(Refusals.closedWithoutProof(who, cfg.nodeId()));
            throw refusal(Refusals.otherNodeListening(peerId, cfg.runId(), at, server.nodeId(), server.cfg.runId()));
        }
        if (!MessageDigest.isEqual(secret, server.secret)) {
            server.refused(Refusals.closedWithoutProof(who, cfg.nodeId()));
            throw refusal(Refusals.peerFailedProof(peerId, at));
        }
        InProcessLink mine = InProcessLink.pair(owner, server.owner);
        if (!server.register(mine.peer(), false)) {
            throw new TransportException("node " + cfg.nodeId() + ": peer " + peerId + " at " + at + " closed while we connected", true);
        }
        if (!register(mine, true)) {
            server.forget(mine.peer());
            throw new TransportException("transport of node " + cfg.nodeId() + " is closed", false);
        }
        mine.start();
        LOG.log(System.Logger.Level.DEBUG, "node {0}: authenticated node {1} (outbound, in-process)", cfg.nodeId(), peerId);
        return mine;
    }

    private TransportException refusal(String reason) {
        LOG.log(System.Logger.Level.WARNING, "node {0}: {1}", cfg.nodeId(), reason);
        return new TransportException(reason, false);
    }

    /** A connection to this transport was refused during the handshake: log it and tell the handler. */
    private void refused(String reason) {
        LOG.log(System.Logger.Level.WARNING, "node {0}: {1}", cfg.nodeId(), reason);
        owner.rejected(-1, reason);
    }

    private boolean register(InProcessLink end, boolean outbound) {
        synchronized (lifecycle) {
            if (closed) {
                return false;
            }
            ends.add(end);
            if (outbound) {
                links.put(end.peerId(), end);
            } else {
                links.merge(end.peerId(), end, (old, neu) -> old.isOpen() ? old : neu);
            }
            return true;
        }
    }

    private void forget(InProcessLink end) {
        ends.remove(end);
        links.remove(end.peerId(), end);
    }

    @Override
    public Optional<Link> link(int peerId) {
        InProcessLink l = links.get(peerId);
        return l != null && l.isOpen() ? Optional.of(l) : Optional.empty();
    }

    @Override
    public void close() {
        List<InProcessLink> mine;
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            mine = List.copyOf(ends);
        }
        network.unbind(this, cfg.bindHost(), port);
        for (InProcessLink l : mine) {
            l.close();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        try {
            for (InProcessLink l : mine) {
                l.awaitInboundEnded(TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        links.clear();
        ends.clear();
    }

    private void ensureOpen() {
        if (closed) {
            throw new TransportException("transport of node " + cfg.nodeId() + " is closed", false);
        }
    }

    @Override
    public String toString() {
        return "InProcessTransport[node " + cfg.nodeId() + " " + address() + "]";
    }

    private final class OwnerImpl implements InProcessLink.Owner {
        @Override
        public TransportConfig config() {
            return cfg;
        }

        @Override
        public TensorBuffers buffers() {
            return buffers;
        }

        @Override
        public void deliver(Message m) {
            handler.onMessage(m);
        }

        @Override
        public void rejected(int peerId, String reason) {
            handler.onRejected(peerId, reason);
        }

        @Override
        public void disconnected(InProcessLink end) {
            forget(end);
            if (!closed) {
                handler.onDisconnected(end.peerId());
            }
        }
    }
}
