package io.ringtmp.transport;

/**
 * Receives what a {@link Transport} takes off the wire.
 *
 * <p>Threading: every callback runs on a transport I/O thread, the one that owns the connection
 * the message came on ({@link NettyTransport}: a Netty event loop; {@link InProcessTransport}: the
 * link's delivery thread); messages of one connection arrive in order, one at a time; messages of
 * different connections may arrive concurrently on different I/O threads. While a callback runs,
 * that connection is not read: a slow handler is how a receiver pushes back on a fast sender
 * (TCP or the in-process queue fills, the sender's {@link Link#send} blocks). Hand work to your own thread quickly unless
 * that back-pressure is what you want, and never block waiting for a message on the same
 * connection. Callbacks must not throw; an exception is logged and dropped.
 */
public interface MessageHandler {
    /** A verified message (authenticated peer, this run, CRC32C correct). The message is the receiver's. */
    void onMessage(Message m);

    /**
     * A frame was refused: garbled, oversized, wrong run, bad CRC, or an authentication failure.
     *
     * @param peerId the authenticated peer it came from, or -1 when the connection was not (yet) authenticated
     * @param reason what was wrong, naming expected and actual values
     */
    default void onRejected(int peerId, String reason) {
    }

    /** An authenticated connection to or from {@code peerId} closed (not called during {@link Transport#close}). */
    default void onDisconnected(int peerId) {
    }
}
