package io.ringtmp.transport.internal;

import io.netty.channel.Channel;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.TensorBuffers;
import io.ringtmp.transport.TransportConfig;

import java.security.SecureRandom;

/** What a connection needs from its transport; implemented by {@code NettyTransport}. */
public interface Hub {
    TransportConfig config();

    /** The secret without a defensive copy (read only). */
    byte[] secret();

    SecureRandom random();

    /** Who may connect as whom ({@link TransportConfig#peerHosts}). */
    PeerAddresses peers();

    /** True on one of the transport's I/O threads (where {@code send} must not block). */
    boolean onIoThread();

    /** A connection finished its handshake with {@code peerId}: make and register its link. */
    NettyLink authenticated(int peerId, Channel ch, boolean outbound);

    void deliver(Message m);

    /** Where received tensors' arrays come from. */
    TensorBuffers buffers();

    void rejected(int peerId, String reason);

    void disconnected(NettyLink link);
}
