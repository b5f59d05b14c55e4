package io.ringtmp.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.ringtmp.transport.internal.ConnectionHandler;
import io.ringtmp.transport.internal.Hub;
import io.ringtmp.transport.internal.NettyLink;
import io.ringtmp.transport.internal.PeerAddresses;
import io.ringtmp.transport.internal.PlaintextRefuser;
import io.ringtmp.transport.internal.TlsContexts;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The {@link Transport} nodes run: it listens for peers, connects to peers, authenticates every
 * connection with the shared-secret handshake and moves {@link Message}s over length-framed TCP
 * (Netty, NIO). With a {@link io.ringtmp.transport.tls.TlsConfig} in its config every connection
 * is mutual TLS 1.3 first (the peer's certificate must chain to the cluster CA and carry the node
 * id the peer claims), and plaintext peers are refused. See docs/transport.md for the wire format
 * and the measurements behind the choice, docs/security.md for what TLS protects.
 *
 * <p>Lifecycle and threads: {@link #start} binds and returns a running transport; {@link #connect}
 * may be called from any thread, several times; received messages go to the {@link MessageHandler}
 * on I/O threads (its doc says what that means); {@link #close} closes every connection, stops
 * the I/O threads (named {@code ringtmp-io-<node>-…}) and waits for them, after which no callback
 * runs. A link breaks when its connection breaks; connecting again gives a new link.
 *
 * <pre>{@code
 * TransportConfig cfg = TransportConfig.of(1, "0.0.0.0", 7101, runId, secret,
 *         TransportConfig.maxMessageBytesFor(microbatch * widestLayer, 4096));
 * try (Transport t = NettyTransport.start(cfg, handler)) {
 *     Link next = t.connect(2, "10.0.0.2", 7102);   // retries while node 2 starts
 *     next.send(Message.tensor(MessageKind.ACTIVATION, 1, runId, step, mb, activation));
 * }
 * }</pre>
 */
public final class NettyTransport implements Transport {
    /** Name prefix of the I/O threads ({@code ringtmp-io-<node>-…}). */
    public static final String THREAD_PREFIX = "ringtmp-io-";
    /** Plaintext bytes handed to BoringSSL per wrap call. */
    static final int TLS_WRAP_BYTES = 256 << 10;

    private final TransportConfig cfg;
    private final MessageHandler handler;
    private final TensorBuffers buffers;
    private final EventLoopGroup group;
    private final Channel serverChannel;
    private final HubImpl hub = new HubImpl();
    private final ConcurrentHashMap<Integer, NettyLink> links = new ConcurrentHashMap<>();
    private final Set<Channel> channels = ConcurrentHashMap.newKeySet();
    private final byte[] secret;
    private final SecureRandom random = new SecureRandom();
    private final PeerAddresses peers;
    /** Null for plaintext links. */
    private final TlsContexts tls;
    private volatile boolean closed;

    private NettyTransport(TransportConfig cfg, MessageHandler handler, TensorBuffers buffers) {
        this.cfg = cfg;
        this.handler = new io.ringtmp.transport.internal.GuardedHandler(cfg.nodeId(), handler);
        this.buffers = buffers;
        this.secret = cfg.secret();
        this.peers = new PeerAddresses(cfg.peerHosts()); // resolved here, never on an I/O thread
        this.tls = cfg.tls() == null ? null : TlsContexts.of(cfg.tls());
        this.group = new MultiThreadIoEventLoopGroup(cfg.ioThreads(),
                new DefaultThreadFactory(THREAD_PREFIX + cfg.nodeId(), true), NioIoHandler.newFactory());
        ServerBootstrap sb = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        track(ch);
                        if (tls != null) {
                            ch.pipeline().addLast(new PlaintextRefuser(hub), sslHandler(tls.server(), ch));
                        }
                        ch.pipeline().addLast(ConnectionHandler.accepting(hub, tls != null));
                    }
                });
        configure(sb.childOption(ChannelOption.TCP_NODELAY, true));
        try {
            ChannelFuture bound = sb.bind(cfg.bindHost(), cfg.port()).syncUninterruptibly();
            this.serverChannel = bound.channel();
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            throw new TransportException("node " + cfg.nodeId() + ": cannot listen on " + cfg.bindHost() + ":" + cfg.port()
                    + ": " + e.getMessage(), false, e);
        }
    }

    /** Binds {@code cfg.bindHost():cfg.port()} and starts accepting authenticated peers. */
    public static NettyTransport start(TransportConfig cfg, MessageHandler handler) {
        return start(cfg, handler, TensorBuffers.unpooled());
    }

    /**
     * Like {@link #start(TransportConfig, MessageHandler)}, decoding received tensors into arrays
     * from {@code buffers}, to which the handler may give them back when done with them.
     */
    public static NettyTransport start(TransportConfig cfg, MessageHandler handler, TensorBuffers buffers) {
        Objects.requireNonNull(cfg, "cfg");
        Objects.requireNonNull(handler, "handler");
        Objects.requireNonNull(buffers, "buffers");
        return new NettyTransport(cfg, handler, buffers);
    }

    @Override
    public TransportConfig config() {
        return cfg;
    }

    @Override
    public int boundPort() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /**
     * Whether a failed connect may succeed later, when the peer has started: refused or unanswered
     * (a {@link ConnectException}, Netty's connect timeout included), no route to the host (a
     * machine still booting), or a name that does not resolve yet (a pod's DNS record appears
     * once the pod runs).
     */
    static boolean peerNotUpYet(Throwable cause) {
        return cause instanceof ConnectException || cause instanceof java.net.NoRouteToHostException
                || cause instanceof java.net.UnknownHostException;
    }

    /**
     * Opens and authenticates a connection to node {@code peerId}, retrying with backoff (50 ms
     * doubling to 1 s) while the peer is not up yet ({@link #peerNotUpYet}: it refuses TCP
     * connections, does not answer them, is not routable, or its name does not resolve yet), for
     * up to {@link TransportConfig#connectTimeoutMs()}. Returns the authenticated link, also registered
     * as {@link #link}{@code (peerId)}.
     *
     * @throws TransportException transient when the peer did not come up in time or the connection
     *                            broke; permanent when the peer is another node, another run, or
     *                            the handshake failed (wrong secret)
     */
    @Override
    public Link connect(int peerId, String host, int port) {
        if (peerId < 0) {
            throw new IllegalArgumentException("peerId must be >= 0, got " + peerId);
        }
        Objects.requireNonNull(host, "host");
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(cfg.connectTimeoutMs());
        long backoffMs = 50;
        int attempts = 0;
        while (true) {
            ensureOpen();
            attempts++;
            ConnectionHandler[] handlerRef = new ConnectionHandler[1];
            Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1000, Math.min(cfg.connectTimeoutMs(), 10_000)))
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            track(ch);
                            if (tls != null) {
                                ch.pipeline().addLast(sslHandler(tls.client(), ch));
                            }
                            ch.pipeline().addLast(handlerRef[0]);
                        }
                    });
            configureClient(b);
            handlerRef[0] = ConnectionHandler.connecting(hub, peerId, tls != null);
            ChannelFuture cf = b.connect(host, port).awaitUninterruptibly();
            if (!cf.isSuccess()) {
                Throwable cause = cf.cause();
                if (!peerNotUpYet(cause) || System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMs) > deadline) {
                    throw new TransportException("node " + cfg.nodeId() + ": peer " + peerId + " at " + host + ":" + port
                            + " not reachable after " + attempts + " attempts: " + cause, true, cause);
                }
                sleep(backoffMs);
                backoffMs = Math.min(1000, backoffMs * 2);
                continue;
            }
            try {
                return handlerRef[0].authenticated().get(cfg.handshakeTimeoutMs() + 1000, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                cf.channel().close();
                if (e.getCause() instanceof TransportException te) {
                    throw new TransportException(te.getMessage(), te.transientFailure(), te);
                }
                throw new TransportException("peer " + peerId + ": handshake failed", true, e.getCause());
            } catch (TimeoutException e) {
                cf.channel().close();
                throw new TransportException("peer " + peerId + " at " + host + ":" + port + ": no handshake answer within "
                        + cfg.handshakeTimeoutMs() + " ms", true, e);
            } catch (InterruptedException e) {
                cf.channel().close();
                Thread.currentThread().interrupt();
                throw new TransportException("interrupted while connecting to peer " + peerId, true, e);
            }
        }
    }

    @Override
    public Optional<Link> link(int peerId) {
        NettyLink l = links.get(peerId);
        return l != null && l.isOpen() ? Optional.of(l) : Optional.empty();
    }

    /** Closes every connection and stops the I/O threads, waiting up to 5 s for them. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        serverChannel.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        for (Channel ch : channels) {
            ch.close();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        links.clear();
    }

    private SslHandler sslHandler(SslContext ctx, SocketChannel ch) {
        SslHandler h = ctx.newHandler(ch.alloc());
        h.setHandshakeTimeoutMillis(cfg.handshakeTimeoutMs());
        if (cfg.tls().provider() == io.ringtmp.transport.tls.TlsProvider.OPENSSL) {
            // BoringSSL writes many records per wrap call: hand it 256 KiB of a large frame at a
            // time rather than Netty's default 16 KiB (one record), for 16x fewer JNI calls and
            // output buffers. 4 MiB on loopback: 31-57 % of raw TCP against 25-26 % (noisy, docs/security.md).
            h.setWrapDataSize(TLS_WRAP_BYTES);
        }
        return h;
    }

    private void track(Channel ch) {
        channels.add(ch);
        ch.closeFuture().addListener(f -> channels.remove(ch));
    }

    private void configure(ServerBootstrap sb) {
        sb.childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                new WriteBufferWaterMark(cfg.lowWaterMarkBytes(), Math.max(cfg.highWaterMarkBytes(), 1)));
        if (cfg.socketBufferBytes() > 0) {
            sb.childOption(ChannelOption.SO_SNDBUF, cfg.socketBufferBytes()).childOption(ChannelOption.SO_RCVBUF, cfg.socketBufferBytes());
        }
    }

    private void configureClient(Bootstrap b) {
        b.option(ChannelOption.WRITE_BUFFER_WATER_MARK,
                new WriteBufferWaterMark(cfg.lowWaterMarkBytes(), Math.max(cfg.highWaterMarkBytes(), 1)));
        if (cfg.socketBufferBytes() > 0) {
            b.option(ChannelOption.SO_SNDBUF, cfg.socketBufferBytes()).option(ChannelOption.SO_RCVBUF, cfg.socketBufferBytes());
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new TransportException("transport of node " + cfg.nodeId() + " is closed", false);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransportException("interrupted while waiting to retry a connection", true, e);
        }
    }

    private final class HubImpl implements Hub {
        @Override
        public TransportConfig config() {
            return cfg;
        }

        @Override
        public byte[] secret() {
            return secret;
        }

        @Override
        public SecureRandom random() {
            return random;
        }

        @Override
        public PeerAddresses peers() {
            return peers;
        }

        @Override
        public boolean onIoThread() {
            for (EventExecutor e : group) {
                if (e.inEventLoop()) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public NettyLink authenticated(int peerId, Channel ch, boolean outbound) {
            NettyLink l = NettyLink.create(peerId, ch, this);
            if (outbound) {
                links.put(peerId, l);
            } else {
                links.merge(peerId, l, (old, neu) -> old.isOpen() ? old : neu);
            }
            return l;
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
        public void disconnected(NettyLink link) {
            links.remove(link.peerId(), link);
            if (!closed) {
                handler.onDisconnected(link.peerId());
            }
        }
    }
}
