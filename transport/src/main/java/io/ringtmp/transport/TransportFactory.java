package io.ringtmp.transport;

/**
 * Starts a node's {@link Transport}: {@code NettyTransport::start} for a real node, an
 * {@link InProcessNetwork}'s {@link InProcessNetwork#transports() transports()} for nodes that
 * share a JVM in a test.
 */
@FunctionalInterface
public interface TransportFactory {
    /**
     * Starts a transport that accepts peers at once, hands what arrives to {@code handler} and
     * decodes received tensors into arrays from {@code buffers}.
     */
    Transport start(TransportConfig cfg, MessageHandler handler, TensorBuffers buffers);
}
