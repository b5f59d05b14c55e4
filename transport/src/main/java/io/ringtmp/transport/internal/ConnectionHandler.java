package io.ringtmp.transport.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.TransportException;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The one handler of a connection: first the {@link Handshake}, then {@link FrameDecoder} on every
 * read. Owned by the channel's I/O thread; the only state other threads see is {@link #authenticated()}.
 *
 * <p>Buffer ownership: every inbound {@code ByteBuf} is released here, in {@code channelRead},
 * after its bytes were copied (into the handshake array or the decoded tensor).
 */
public final class ConnectionHandler extends ChannelInboundHandlerAdapter implements FrameDecoder.Sink {
    private static final System.Logger LOG = System.getLogger("io.ringtmp.transport");

    private enum Phase { AWAIT_HELLO, AWAIT_PROOF, AWAIT_CHALLENGE, AWAIT_ACCEPT, DATA, CLOSED }

    private final Hub hub;
    private final boolean outbound;
    private final int expectedPeer;
    private final CompletableFuture<NettyLink> authenticated = new CompletableFuture<>();
    private final byte[] hs = new byte[Handshake.FRAME_BYTES];
    private int hsFill;
    private Phase phase;
    private int peerId = -1;
    private byte[] clientNonce;
    private byte[] serverNonce;
    private NettyLink link;
    private FrameDecoder decoder;
    private ScheduledFuture<?> handshakeTimeout;

    /** For an accepted connection. */
    public static ConnectionHandler accepting(Hub hub) {
        return new ConnectionHandler(hub, false, -1);
    }

    /** For a connection this node opened to {@code peerId}. */
    public static ConnectionHandler connecting(Hub hub, int peerId) {
        return new ConnectionHandler(hub, true, peerId);
    }

    private ConnectionHandler(Hub hub, boolean outbound, int expectedPeer) {
        this.hub = hub;
        this.outbound = outbound;
        this.expectedPeer = expectedPeer;
        this.phase = outbound ? Phase.AWAIT_CHALLENGE : Phase.AWAIT_HELLO;
    }

    /** Completes with the link when the handshake succeeded, or fails with a {@link TransportException}. */
    public CompletableFuture<NettyLink> authenticated() {
        return authenticated;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        handshakeTimeout = ctx.executor().schedule(() -> {
            if (phase != Phase.DATA && phase != Phase.CLOSED) {
                fail(ctx, "connection from " + ctx.channel().remoteAddress() + " did not authenticate within "
                        + hub.config().handshakeTimeoutMs() + " ms", true);
            }
        }, hub.config().handshakeTimeoutMs(), TimeUnit.MILLISECONDS);
        if (outbound) {
            clientNonce = nonce();
            ctx.writeAndFlush(Unpooled.wrappedBuffer(Handshake.encode(Handshake.HELLO, hub.config().nodeId(),
                    hub.config().runId(), clientNonce, null)));
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        try {
            while (in.isReadable() && phase != Phase.CLOSED) {
                if (phase == Phase.DATA) {
                    for (ByteBuffer nio : in.nioBuffers()) {
                        String fatal = decoder.feed(nio);
                        if (fatal != null) {
                            fail(ctx, Refusals.connectionClosed(peerId, fatal), false);
                            break;
                        }
                    }
                    in.skipBytes(in.readableBytes());
                } else {
                    int take = Math.min(in.readableBytes(), hs.length - hsFill);
                    in.readBytes(hs, hsFill, take);
                    hsFill += take;
                    if (hsFill == hs.length) {
                        hsFill = 0;
                        onHandshakeFrame(ctx, Handshake.decode(hs));
                    }
                }
            }
        } finally {
            in.release();
        }
    }

    private void onHandshakeFrame(ChannelHandlerContext ctx, Handshake.Frame f) {
        var cfg = hub.config();
        String who = "connection from " + ctx.channel().remoteAddress();
        if (f == null) {
            fail(ctx, who + ": not a ringtmp handshake (bad length or magic) during " + phase, false);
            return;
        }
        switch (phase) {
            case AWAIT_HELLO -> {
                if (f.type() != Handshake.HELLO) {
                    fail(ctx, who + ": handshake type " + f.type() + ", expected HELLO", false);
                } else if (f.runId() != cfg.runId()) {
                    refuse(ctx, Refusals.otherRunConnecting(who, f.node(), f.runId(), cfg.runId()));
                } else {
                    peerId = f.node();
                    clientNonce = f.nonce();
                    serverNonce = nonce();
                    byte[] mac = Handshake.serverMac(hub.secret(), cfg.nodeId(), peerId, cfg.runId(), clientNonce, serverNonce);
                    ctx.writeAndFlush(Unpooled.wrappedBuffer(Handshake.encode(Handshake.CHALLENGE, cfg.nodeId(), cfg.runId(), serverNonce, mac)));
                    phase = Phase.AWAIT_PROOF;
                }
            }
            case AWAIT_PROOF -> {
                byte[] expected = Handshake.clientMac(hub.secret(), cfg.nodeId(), peerId, cfg.runId(), clientNonce, serverNonce);
                if (f.type() != Handshake.PROOF || f.node() != peerId || !Handshake.macEquals(expected, f.mac())) {
                    int claimed = peerId;
                    peerId = -1;
                    refuse(ctx, who + " claiming node " + claimed + " failed to prove the shared secret");
                } else {
                    ctx.writeAndFlush(Unpooled.wrappedBuffer(Handshake.encode(Handshake.ACCEPT, cfg.nodeId(), cfg.runId(), null, null)));
                    enterData(ctx);
                }
            }
            case AWAIT_CHALLENGE -> {
                if (f.type() == Handshake.REFUSE) {
                    fail(ctx, Refusals.refusedByPeer(expectedPeer, ctx.channel().remoteAddress()), false);
                } else if (f.type() != Handshake.CHALLENGE) {
                    fail(ctx, "peer " + expectedPeer + ": handshake type " + f.type() + ", expected CHALLENGE", false);
                } else if (f.node() != expectedPeer || f.runId() != cfg.runId()) {
                    fail(ctx, Refusals.otherNodeListening(expectedPeer, cfg.runId(), ctx.channel().remoteAddress(), f.node(), f.runId()),
                            false);
                } else {
                    serverNonce = f.nonce();
                    byte[] expected = Handshake.serverMac(hub.secret(), expectedPeer, cfg.nodeId(), cfg.runId(), clientNonce, serverNonce);
                    if (!Handshake.macEquals(expected, f.mac())) {
                        fail(ctx, Refusals.peerFailedProof(expectedPeer, ctx.channel().remoteAddress()), false);
                    } else {
                        byte[] mac = Handshake.clientMac(hub.secret(), expectedPeer, cfg.nodeId(), cfg.runId(), clientNonce, serverNonce);
                        ctx.writeAndFlush(Unpooled.wrappedBuffer(Handshake.encode(Handshake.PROOF, cfg.nodeId(), cfg.runId(), null, mac)));
                        phase = Phase.AWAIT_ACCEPT;
                    }
                }
            }
            case AWAIT_ACCEPT -> {
                if (f.type() == Handshake.ACCEPT) {
                    peerId = expectedPeer;
                    enterData(ctx);
                } else {
                    fail(ctx, "peer " + expectedPeer + " at " + ctx.channel().remoteAddress()
                            + " refused our proof: it has another secret (see its log)", false);
                }
            }
            default -> throw new IllegalStateException("handshake frame in phase " + phase);
        }
    }

    private void enterData(ChannelHandlerContext ctx) {
        handshakeTimeout.cancel(false);
        phase = Phase.DATA;
        decoder = new FrameDecoder(hub.config().maxMessageBytes(), hub.config().runId(), hub.buffers(), this);
        link = hub.authenticated(peerId, ctx.channel(), outbound);
        LOG.log(System.Logger.Level.DEBUG, "node {0}: authenticated node {1} ({2})", hub.config().nodeId(), peerId,
                outbound ? "outbound" : "inbound");
        authenticated.complete(link);
    }

    private void refuse(ChannelHandlerContext ctx, String reason) {
        ctx.writeAndFlush(Unpooled.wrappedBuffer(Handshake.encode(Handshake.REFUSE, hub.config().nodeId(), hub.config().runId(), null, null)));
        fail(ctx, reason, false);
    }

    /** Logs, reports, closes; a connection that failed is never used again. */
    private void fail(ChannelHandlerContext ctx, String reason, boolean transientFailure) {
        if (phase == Phase.CLOSED) {
            return;
        }
        boolean wasData = phase == Phase.DATA;
        phase = Phase.CLOSED;
        LOG.log(System.Logger.Level.WARNING, "node {0}: {1}", hub.config().nodeId(), reason);
        if (!outbound || wasData) {
            hub.rejected(wasData ? peerId : -1, reason);
        }
        authenticated.completeExceptionally(new TransportException(reason, transientFailure));
        ctx.close();
    }

    @Override
    public void onMessage(Message m, int frameBytes) {
        if (m.sender() != peerId) {
            onDropped("frame " + m.kind() + " claims sender " + m.sender() + " on the connection authenticated as node " + peerId);
            return;
        }
        link.received(frameBytes);
        hub.deliver(m);
    }

    @Override
    public void onDropped(String reason) {
        LOG.log(System.Logger.Level.WARNING, "node {0}: dropped a frame from node {1}: {2}", hub.config().nodeId(), peerId, reason);
        hub.rejected(peerId, reason);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (handshakeTimeout != null) {
            handshakeTimeout.cancel(false);
        }
        authenticated.completeExceptionally(new TransportException("connection to " + ctx.channel().remoteAddress()
                + " closed during the handshake", true));
        if (!outbound && phase == Phase.AWAIT_PROOF) {
            // A peer without the secret learns from our challenge that we hold one it cannot match, and hangs up.
            String reason = Refusals.closedWithoutProof("connection from " + ctx.channel().remoteAddress(), peerId);
            LOG.log(System.Logger.Level.WARNING, "node {0}: {1}", hub.config().nodeId(), reason);
            hub.rejected(-1, reason);
        }
        phase = Phase.CLOSED;
        if (link != null) {
            link.wakeSenders();
            hub.disconnected(link);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof java.io.IOException) {
            // A neighbour that died or closed: one line, the failure detector tells the rest.
            LOG.log(System.Logger.Level.WARNING, "node " + hub.config().nodeId() + ": connection " + ctx.channel().remoteAddress()
                    + " failed (" + cause.getMessage() + "); closing it");
        } else {
            LOG.log(System.Logger.Level.WARNING, "node " + hub.config().nodeId() + ": connection " + ctx.channel().remoteAddress()
                    + " failed; closing it", cause);
        }
        ctx.close();
    }

    private byte[] nonce() {
        byte[] n = new byte[Handshake.NONCE_BYTES];
        hub.random().nextBytes(n);
        return n;
    }
}
