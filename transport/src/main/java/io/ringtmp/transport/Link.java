package io.ringtmp.transport;

import java.util.concurrent.CompletableFuture;

/**
 * An authenticated connection to one peer, obtained from {@link Transport#connect} (outbound) or
 * {@link Transport#link} (either direction). Messages sent on one link arrive in the order of the
 * {@code send} calls that returned (per sending thread, and in total when one thread sends).
 *
 * <p>Contract of {@link #send}:
 * <ul>
 *   <li>It copies the tensor and bytes into a transport-owned direct buffer before it returns: the
 *       caller may reuse or modify its tensor immediately.</li>
 *   <li>It never writes to the socket itself: the write happens on the link's I/O thread, so the
 *       compute thread only pays for the copy.</li>
 *   <li>Back-pressure: when the bytes accepted and not yet written exceed the configured high-water
 *       mark, {@code send} blocks until they fall to the low-water mark, at most
 *       {@link TransportConfig#sendTimeoutMs()}, then throws a transient {@link TransportException}.
 *       Called on a transport I/O thread (from a {@link MessageHandler}) it never blocks, because
 *       that thread is the one that drains the queue. Heartbeats and node words never block
 *       ({@link MessageKind#waitsForBackPressure()}): they join the queue at once.</li>
 *   <li>The future completes when the frame is written to the socket (not when the peer processed
 *       it; {@link InProcessTransport}: when the peer's handler returned) or fails with a
 *       {@link TransportException} saying why.</li>
 * </ul>
 * Any thread may call {@code send}; {@link #stats()} may be called at any time.
 *
 * <pre>{@code
 * try (Transport t = NettyTransport.start(cfg, handler)) {
 *     Link next = t.connect(2, "10.0.0.2", 7102);
 *     next.send(Message.tensor(MessageKind.ACTIVATION, cfg.nodeId(), cfg.runId(), step, mb, act));
 *     // act may be overwritten now
 * }
 * }</pre>
 */
public interface Link extends AutoCloseable {
    int peerId();

    /** Queues {@code m} for this peer; see the class doc for copying, blocking and completion. */
    CompletableFuture<Void> send(Message m);

    LinkStats stats();

    /** True until the connection closed. */
    boolean isOpen();

    /** Closes the connection; queued frames not yet written fail their futures. */
    @Override
    void close();
}
