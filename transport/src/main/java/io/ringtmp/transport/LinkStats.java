package io.ringtmp.transport;

/**
 * Counters of one {@link Link} since it was opened; a snapshot, each field read separately.
 *
 * @param bytesSent        frame bytes written to the socket (headers included)
 * @param messagesSent     messages written to the socket
 * @param bytesReceived    frame bytes of accepted messages received on this connection
 * @param messagesReceived accepted messages received on this connection
 * @param blockedNanos     total time callers of {@link Link#send} spent blocked on back-pressure
 * @param queuedBytes      frame bytes accepted by {@code send} and not yet written, now
 * @param maxQueuedBytes   the largest {@code queuedBytes} seen
 */
public record LinkStats(long bytesSent, long messagesSent, long bytesReceived, long messagesReceived,
                        long blockedNanos, long queuedBytes, long maxQueuedBytes) {
}
