package io.ringtmp.transport.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * First handler of an accepted connection on a TLS node: looks at the first byte. A TLS
 * ClientHello starts with record type 22 (handshake); then this handler steps out of the pipeline
 * and the {@code SslHandler} behind it takes over. Anything else (a node without a tls block
 * sends the plaintext HELLO) is refused in words the client understands: a plaintext
 * {@link Handshake#REFUSE_NEEDS_TLS} frame, then the connection is closed, logged and reported.
 * I/O thread only.
 */
public final class PlaintextRefuser extends ChannelInboundHandlerAdapter {
    private static final System.Logger LOG = System.getLogger("io.ringtmp.transport");
    private static final int TLS_HANDSHAKE_RECORD = 22;

    private final Hub hub;

    public PlaintextRefuser(Hub hub) {
        this.hub = hub;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        if (!in.isReadable()) {
            in.release();
            return;
        }
        if (in.getUnsignedByte(in.readerIndex()) == TLS_HANDSHAKE_RECORD) {
            ctx.pipeline().remove(this);
            ctx.fireChannelRead(in);
            return;
        }
        in.release();
        String reason = Refusals.plaintextConnecting("connection from " + ctx.channel().remoteAddress());
        LOG.log(System.Logger.Level.WARNING, "node {0}: {1}", hub.config().nodeId(), reason);
        hub.rejected(-1, reason);
        ctx.channel().config().setAutoRead(false);
        ctx.writeAndFlush(Unpooled.wrappedBuffer(Handshake.encode(Handshake.REFUSE_NEEDS_TLS, hub.config().nodeId(),
                hub.config().runId(), null, null))).addListener(ChannelFutureListener.CLOSE);
    }
}
