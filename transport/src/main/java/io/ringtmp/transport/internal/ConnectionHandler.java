package io.ringtmp.transport.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.TransportException;
import io.ringtmp.transport.tls.NodeIds;

import javax.net.ssl.SSLException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The one handler of a connection: first the {@link Handshake}, then {@link FrameDecoder} on every
 * read. Owned by the channel's I/O thread; the only state other threads see is {@link #authenticated()}.
 *
 * <p>In TLS mode an {@code SslHandler} sits before it. The HMAC handshake then starts once the
 * TLS handshake succeeded (the peer's certificate chains to the cluster CA: {@link ClusterTrustManager}),
 * and the node id in the peer's certificate must be the one it claims: the server compares it
 * with the id in the client's HELLO, the client with the node it meant to reach. A failed TLS
 * handshake is logged with the reason and the connection closed; the listener stays.
 *
 * <p>Buffer ownership: every inbound {@code ByteBuf} is released here, in {@code channelRead},
 * after its bytes were copied (into the handshake array or the decoded tensor).
 */
public final class ConnectionHandler extends ChannelInboundHandlerAdapter implements FrameDecoder.Sink {
    private static final System.Logger LOG = System.getLogger("io.ringtmp.transport");

    private enum Phase { AWAIT_HELLO, AWAIT_PROOF, AWAIT_CHALLENGE, AWAIT_ACCEPT, DATA, CLOSED }

    private final Hub hub;
    private final boolean outbound;
    private final boolean tls;
    private final int expectedPeer;
    /** TLS: the node id in the peer's certificate, once the TLS handshake succeeded. */
    private int certifiedPeer = -1;
    private String peerCertificate;
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

    /** For an accepted connection ({@code tls}: behind an {@code SslHandler}). */
    public static ConnectionHandler accepting(Hub hub, boolean tls) {
        return new ConnectionHandler(hub, false, -1, tls);
    }

    /** For a connection this node opened to {@code peerId} ({@code tls}: behind an {@code SslHandler}). */
    public static ConnectionHandler connecting(Hub hub, int peerId, boolean tls) {
        return new ConnectionHandler(hub, true, peerId, tls);
    }

    private ConnectionHandler(Hub hub, boolean outbound, int expectedPeer, boolean tls) {
        this.hub = hub;
        this.outbound = outbound;
        this.tls = tls;
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
        if (outbound && !tls) {
            sendHello(ctx);
        }
        ctx.fireChannelActive();
    }

    private void sendHello(ChannelHandlerContext ctx) {
        clientNonce = nonce();
        ctx.writeAndFlush(Unpooled.wrappedBuffer(Handshake.encode(Handshake.HELLO, hub.config().nodeId(),
                hub.config().runId(), clientNonce, null)));
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (!(evt instanceof SslHandshakeCompletionEvent done) || phase == Phase.CLOSED) {
            ctx.fireUserEventTriggered(evt);
            return;
        }
        Object address = ctx.channel().remoteAddress();
        if (!done.isSuccess()) {
            Throwable cause = done.cause();
            if (cause instanceof ClosedChannelException) {
                // Closed before TLS got going: refused as plaintext, a port scan, or a peer that died.
                closeQuietly(ctx, "connection " + address + " closed during the TLS handshake");
            } else if (outbound) {
                fail(ctx, causeIs(cause, NotSslRecordException.class) ? Refusals.peerWithoutTls(expectedPeer, address)
                        : Refusals.tlsFailedConnecting(expectedPeer, address, reason(cause)), false);
            } else {
                fail(ctx, Refusals.tlsRefusedConnecting("connection from " + address, reason(cause)), false);
            }
            return;
        }
        X509Certificate peer;
        try {
            peer = (X509Certificate) ctx.pipeline().get(SslHandler.class).engine().getSession().getPeerCertificates()[0];
        } catch (javax.net.ssl.SSLPeerUnverifiedException | RuntimeException e) {
            fail(ctx, (outbound ? "peer " + expectedPeer + " at " : "connection from ") + address + ": no peer certificate after the TLS handshake", false);
            return;
        }
        OptionalInt id = NodeIds.of(peer);
        peerCertificate = NodeIds.describe(peer);
        if (id.isEmpty()) {
            fail(ctx, (outbound ? "peer " + expectedPeer + " at " : "connection from ") + address + ": its certificate "
                    + peerCertificate + " carries no node id", false);
            return;
        }
        certifiedPeer = id.getAsInt();
        if (outbound) {
            if (certifiedPeer != expectedPeer) {
                fail(ctx, Refusals.otherNodesCertificate(expectedPeer, address, peerCertificate), false);
                return;
            }
            sendHello(ctx);
        }
    }

    /** The words of the innermost certificate refusal in {@code t}'s causes, or the TLS error's. */
    private static String reason(Throwable t) {
        String tlsWords = null;
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof CertificateException && c.getMessage() != null) {
                return c.getMessage();
            }
            if (c instanceof SSLException && tlsWords == null && c.getMessage() != null) {
                tlsWords = c.getMessage();
            }
        }
        return tlsWords != null ? tlsWords : String.valueOf(t);
    }

    private static boolean causeIs(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
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
            boolean clientHello = !tls && !outbound && phase == Phase.AWAIT_HELLO && hs[0] == 22 && hs[1] == 3;
            fail(ctx, who + (clientHello ? ": sent a TLS ClientHello, but this node runs without TLS (its spec has no tls block)"
                    : ": not a ringtmp handshake (bad length or magic) during " + phase), false);
            return;
        }
        switch (phase) {
            case AWAIT_HELLO -> {
                String stranger = f.type() == Handshake.HELLO ? hub.peers().refusal(f.node(), ctx.channel().remoteAddress()) : null;
                if (f.type() != Handshake.HELLO) {
                    fail(ctx, who + ": handshake type " + f.type() + ", expected HELLO", false);
                } else if (f.runId() != cfg.runId()) {
                    refuse(ctx, Refusals.otherRunConnecting(who, f.node(), f.runId(), cfg.runId()));
                } else if (tls && f.node() != certifiedPeer) {
                    refuse(ctx, Refusals.claimNotCertified(who, f.node(), peerCertificate));
                } else if (stranger != null) {
                    refuse(ctx, who + " " + stranger);
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
                } else if (f.type() == Handshake.REFUSE_NEEDS_TLS) {
                    fail(ctx, Refusals.peerRequiresTls(expectedPeer, ctx.channel().remoteAddress()), false);
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

    /** Closes a connection that failed for no reason worth a warning (logged at DEBUG). */
    private void closeQuietly(ChannelHandlerContext ctx, String reason) {
        phase = Phase.CLOSED;
        LOG.log(System.Logger.Level.DEBUG, "node {0}: {1}", hub.config().nodeId(), reason);
        authenticated.completeExceptionally(new TransportException(reason, true));
        ctx.close();
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
        if (phase == Phase.CLOSED) {
            ctx.close(); // Already logged and reported (a failed TLS handshake raises its error here too).
            return;
        }
        if (tls && phase != Phase.DATA && (cause instanceof SSLException || cause instanceof DecoderException && cause.getCause() instanceof SSLException)) {
            // TLS 1.3: a client finishes its handshake before the server checked its certificate, so
            // the server's refusal arrives here, as an alert, while we wait for the CHALLENGE.
            fail(ctx, outbound ? Refusals.tlsFailedConnecting(expectedPeer, ctx.channel().remoteAddress(),
                    reason(cause) + " (the peer refused our certificate? see its log)")
                    : Refusals.tlsRefusedConnecting("connection from " + ctx.channel().remoteAddress(), reason(cause)), false);
            return;
        }
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
