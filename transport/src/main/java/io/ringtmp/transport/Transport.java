package io.ringtmp.transport;

import java.util.Optional;

/**
 * One node's end of the data plane: it accepts authenticated peers, connects to peers and hands
 * what arrives to its {@link MessageHandler}. Two implementations behind this one contract:
 * {@link NettyTransport}, length-framed TCP that nodes run, and {@link InProcessTransport},
 * transports of one JVM that find each other on an {@link InProcessNetwork}, for tests. A
 * {@link TransportFactory} starts one; {@code NettyTransport::start} is the default everywhere.
 *
 * <p>Lifecycle and threads: a started transport accepts peers at once; {@link #connect} may be
 * called from any thread, several times; received messages go to the handler on the transport's
 * own threads (the handler's doc says what that means); {@link #close} closes every link and
 * waits for those threads, after which no callback runs. A link breaks when its connection
 * breaks; connecting again gives a new link.
 *
 * <pre>{@code
 * try (Transport t = NettyTransport.start(cfg, handler)) {
 *     Link next = t.connect(2, "10.0.0.2", 7102);   // retries while node 2 starts
 *     next.send(Message.tensor(MessageKind.ACTIVATION, 1, runId, step, mb, activation));
 * }
 * }</pre>
 */
public interface Transport extends AutoCloseable {
    TransportConfig config();

    default int nodeId() {
        return config().nodeId();
    }

    /** The port actually bound (useful with port 0). */
    int boundPort();

    /**
     * Opens and authenticates a link to node {@code peerId} at {@code host:port}, waiting up to
     * {@link TransportConfig#connectTimeoutMs()} while the peer is not up yet. Returns the link,
     * also registered as {@link #link}{@code (peerId)}.
     *
     * @throws TransportException transient when the peer did not come up in time or the connection
     *                            broke; permanent when the peer is another node, another run, or
     *                            does not hold the secret, or this transport is closed
     */
    Link connect(int peerId, String host, int port);

    /** The open link to or from {@code peerId}, if any (an outbound one is preferred). */
    Optional<Link> link(int peerId);

    /** Closes every link and stops the transport's threads, waiting a few seconds for them. Idempotent. */
    @Override
    void close();
}
