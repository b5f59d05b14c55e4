package io.ringtmp.transport;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.ringtmp.transport.internal.GrpcShutdown;
import io.ringtmp.transport.internal.Handshake;
import io.ringtmp.transport.proto.HelloRequest;
import io.ringtmp.transport.proto.NodeControlGrpc;
import io.ringtmp.transport.proto.NodeStatus;
import io.ringtmp.transport.proto.PingRequest;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The gRPC control plane: the {@code NodeControl} service ({@code node_control.proto}) with
 * {@code Ping} and {@code Hello}, for small, infrequent calls between node runtimes. Tensors
 * never travel here (see {@link Transport}). Every call carries an HMAC-SHA256 of the caller's node
 * id, the run id, a fresh nonce and the method name under the cluster secret; a server answers
 * UNAUTHENTICATED to any call without a valid one. (The nonce is not remembered, so a captured
 * call could be replayed; the calls are idempotent status queries.)
 *
 * <p>Both ends run on their own one-thread Netty group (the same Netty as the data plane) with a
 * direct executor: handlers run on that I/O thread and must be quick.
 */
public final class ControlPlane {
    private static final Metadata.Key<String> NODE = Metadata.Key.of("ringtmp-node", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> NONCE = Metadata.Key.of("ringtmp-nonce", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> MAC = Metadata.Key.of("ringtmp-mac", Metadata.ASCII_STRING_MARSHALLER);
    private static final HexFormat HEX = HexFormat.of();

    private ControlPlane() {
    }

    /** What a peer said about itself. */
    public record PeerStatus(int nodeId, long runId, String status, boolean accepted, String reason, long roundTripNanos) {
    }

    /** Serves {@code NodeControl} for this node on {@code cfg.bindHost():port} (0 = any); {@code status} is asked on every call. */
    public static Server serve(TransportConfig cfg, int port, Supplier<String> status) {
        return new Server(cfg, port, status);
    }

    /** A client of a peer's control plane. */
    public static Client connect(TransportConfig cfg, String host, int port) {
        return new Client(cfg, host, port);
    }

    /** A running control-plane server. */
    public static final class Server implements AutoCloseable {
        private final EventLoopGroup group;
        private final io.grpc.Server server;

        private Server(TransportConfig cfg, int port, Supplier<String> status) {
            group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("ringtmp-control-" + cfg.nodeId(), true),
                    NioIoHandler.newFactory());
            var impl = new NodeControlGrpc.NodeControlImplBase() {
                @Override
                public void ping(PingRequest req, StreamObserver<NodeStatus> out) {
                    out.onNext(NodeStatus.newBuilder().setNodeId(cfg.nodeId()).setRunId(cfg.runId()).setStatus(status.get())
                            .setSentNanos(req.getSentNanos()).setAccepted(req.getRunId() == cfg.runId())
                            .setReason(req.getRunId() == cfg.runId() ? "" : "run id " + req.getRunId() + ", expected " + cfg.runId())
                            .build());
                    out.onCompleted();
                }

                @Override
                public void hello(HelloRequest req, StreamObserver<NodeStatus> out) {
                    boolean ok = req.getRunId() == cfg.runId();
                    out.onNext(NodeStatus.newBuilder().setNodeId(cfg.nodeId()).setRunId(cfg.runId()).setStatus(status.get())
                            .setAccepted(ok).setReason(ok ? "" : "run id " + req.getRunId() + ", expected " + cfg.runId()).build());
                    out.onCompleted();
                }
            };
            try {
                server = NettyServerBuilder.forAddress(new InetSocketAddress(cfg.bindHost(), port))
                        .channelType(NioServerSocketChannel.class).bossEventLoopGroup(group).workerEventLoopGroup(group)
                        .directExecutor().addService(ServerInterceptors.intercept(impl, new MacCheck(cfg))).build().start();
            } catch (IOException e) {
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
                throw new TransportException("node " + cfg.nodeId() + ": cannot serve the control plane on "
                        + cfg.bindHost() + ":" + port, false, e);
            }
        }

        public int port() {
            return server.getPort();
        }

        @Override
        public void close() {
            GrpcShutdown.stop(server, group);
        }
    }

    /** Calls a peer's control plane; thread-safe. */
    public static final class Client implements AutoCloseable {
        private final TransportConfig cfg;
        private final EventLoopGroup group;
        private final ManagedChannel channel;
        private final NodeControlGrpc.NodeControlBlockingStub stub;

        private Client(TransportConfig cfg, String host, int port) {
            this.cfg = cfg;
            group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("ringtmp-control-client-" + cfg.nodeId(), true),
                    NioIoHandler.newFactory());
            channel = NettyChannelBuilder.forAddress(host, port).channelType(NioSocketChannel.class).eventLoopGroup(group)
                    .directExecutor().usePlaintext().intercept(new MacSign(cfg)).build();
            stub = NodeControlGrpc.newBlockingStub(channel);
        }

        /** Pings the peer; throws a {@link TransportException} (permanent when unauthenticated). */
        public PeerStatus ping(long timeoutMs) {
            long t0 = System.nanoTime();
            NodeStatus s = call(() -> stub.withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS)
                    .ping(PingRequest.newBuilder().setSender(cfg.nodeId()).setRunId(cfg.runId()).setSentNanos(t0).build()));
            return new PeerStatus(s.getNodeId(), s.getRunId(), s.getStatus(), s.getAccepted(), s.getReason(), System.nanoTime() - t0);
        }

        /** Introduces this node (reachable at {@code address}) to the peer. */
        public PeerStatus hello(String address, long timeoutMs) {
            long t0 = System.nanoTime();
            NodeStatus s = call(() -> stub.withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS)
                    .hello(HelloRequest.newBuilder().setSender(cfg.nodeId()).setRunId(cfg.runId()).setAddress(address).build()));
            return new PeerStatus(s.getNodeId(), s.getRunId(), s.getStatus(), s.getAccepted(), s.getReason(), System.nanoTime() - t0);
        }

        private static NodeStatus call(Supplier<NodeStatus> c) {
            try {
                return c.get();
            } catch (StatusRuntimeException e) {
                Status.Code code = e.getStatus().getCode();
                boolean transientFailure = code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED;
                throw new TransportException("control call failed: " + e.getStatus(), transientFailure, e);
            }
        }

        @Override
        public void close() {
            GrpcShutdown.stop(channel, group);
        }
    }

    private static final class MacSign implements ClientInterceptor {
        private final TransportConfig cfg;
        private final byte[] secret;
        private final SecureRandom random = new SecureRandom();

        MacSign(TransportConfig cfg) {
            this.cfg = cfg;
            this.secret = cfg.secret();
        }

        @Override
        public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
            return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                @Override
                public void start(Listener<R> listener, Metadata headers) {
                    byte[] nonce = new byte[16];
                    random.nextBytes(nonce);
                    headers.put(NODE, Integer.toString(cfg.nodeId()));
                    headers.put(NONCE, HEX.formatHex(nonce));
                    headers.put(MAC, HEX.formatHex(Handshake.controlMac(secret, cfg.nodeId(), cfg.runId(), nonce, method.getFullMethodName())));
                    super.start(listener, headers);
                }
            };
        }
    }

    private static final class MacCheck implements ServerInterceptor {
        private static final System.Logger LOG = System.getLogger("io.ringtmp.transport");
        private final TransportConfig cfg;
        private final byte[] secret;

        MacCheck(TransportConfig cfg) {
            this.cfg = cfg;
            this.secret = cfg.secret();
        }

        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            String why = verify(call.getMethodDescriptor().getFullMethodName(), headers);
            if (why != null) {
                LOG.log(System.Logger.Level.WARNING, "node {0}: control call {1} refused: {2}", cfg.nodeId(),
                        call.getMethodDescriptor().getFullMethodName(), why);
                call.close(Status.UNAUTHENTICATED.withDescription("no valid ringtmp MAC"), new Metadata());
                return new ServerCall.Listener<>() {
                };
            }
            return next.startCall(call, headers);
        }

        private String verify(String method, Metadata h) {
            String node = h.get(NODE), nonce = h.get(NONCE), mac = h.get(MAC);
            if (node == null || nonce == null || mac == null) {
                return "missing ringtmp-node/nonce/mac headers";
            }
            try {
                byte[] expected = Handshake.controlMac(secret, Integer.parseInt(node), cfg.runId(), HEX.parseHex(nonce), method);
                return Handshake.macEquals(expected, HEX.parseHex(mac)) ? null : "MAC of node " + node + " does not verify";
            } catch (IllegalArgumentException e) {
                return "malformed auth headers: " + e.getMessage();
            }
        }
    }
}
