package io.ringtmp.transport;

import io.ringtmp.transport.internal.GrpcShutdown;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.ringtmp.transport.internal.FrameMarshaller;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * The gRPC alternative for tensors, kept to be measured against {@link Transport}'s framed Netty
 * path (docs/transport.md): a bidirectional stream whose requests are data-plane frames carried by
 * a custom marshaller (no protobuf, one copy each way), a 16 MiB HTTP/2 flow-control window, a
 * raised inbound limit, direct executors, and an 8-byte acknowledgement (the step) per message.
 * It has no authentication of its own; it is not the data plane and is used by the benchmark only.
 */
public final class GrpcTensorPath {
    /** HTTP/2 flow-control window of both sides. */
    public static final int FLOW_CONTROL_WINDOW = 16 << 20;

    private GrpcTensorPath() {
    }

    private static MethodDescriptor<Message, Long> push(long maxMessageBytes, long runId) {
        return MethodDescriptor.<Message, Long>newBuilder()
                .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
                .setFullMethodName("ringtmp.transport.TensorStream/Push")
                .setRequestMarshaller(new FrameMarshaller(maxMessageBytes, runId))
                .setResponseMarshaller(new AckMarshaller())
                .build();
    }

    private static EventLoopGroup group(String name) {
        return new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory(name, true), NioIoHandler.newFactory());
    }

    /** Receiving side: hands each message to {@code handler} (on the gRPC I/O thread) and acknowledges it. */
    public static final class Receiver implements AutoCloseable {
        private final EventLoopGroup group = group("ringtmp-grpc-data-server");
        private final Server server;

        public Receiver(String host, int port, long maxMessageBytes, long runId, MessageHandler handler) {
            MethodDescriptor<Message, Long> method = push(maxMessageBytes, runId);
            ServerServiceDefinition service = ServerServiceDefinition.builder("ringtmp.transport.TensorStream")
                    .addMethod(method, ServerCalls.asyncBidiStreamingCall(acks -> new StreamObserver<Message>() {
                        @Override
                        public void onNext(Message m) {
                            handler.onMessage(m);
                            acks.onNext(m.step());
                        }

                        @Override
                        public void onError(Throwable t) {
                            handler.onRejected(-1, "gRPC tensor stream failed: " + t);
                        }

                        @Override
                        public void onCompleted() {
                            acks.onCompleted();
                        }
                    })).build();
            try {
                server = NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
                        .channelType(NioServerSocketChannel.class).bossEventLoopGroup(group).workerEventLoopGroup(group)
                        .directExecutor().flowControlWindow(FLOW_CONTROL_WINDOW)
                        .maxInboundMessageSize((int) maxMessageBytes + 16)
                        .addService(service).build().start();
            } catch (IOException e) {
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
                throw new TransportException("cannot start the gRPC tensor receiver on " + host + ":" + port, false, e);
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

    /** Sending side: one stream; {@code onAck} gets each acknowledged step on the gRPC I/O thread. */
    public static final class Sender implements AutoCloseable {
        private final EventLoopGroup group = group("ringtmp-grpc-data-client");
        private final ManagedChannel channel;
        private final StreamObserver<Message> requests;

        public Sender(String host, int port, long maxMessageBytes, long runId, LongConsumer onAck) {
            channel = NettyChannelBuilder.forAddress(host, port).channelType(NioSocketChannel.class).eventLoopGroup(group)
                    .directExecutor().usePlaintext().flowControlWindow(FLOW_CONTROL_WINDOW)
                    .maxInboundMessageSize((int) maxMessageBytes + 16).build();
            requests = ClientCalls.asyncBidiStreamingCall(channel.newCall(push(maxMessageBytes, runId), CallOptions.DEFAULT),
                    new StreamObserver<Long>() {
                        @Override
                        public void onNext(Long step) {
                            onAck.accept(step);
                        }

                        @Override
                        public void onError(Throwable t) {
                        }

                        @Override
                        public void onCompleted() {
                        }
                    });
        }

        /** Encodes {@code m} (the caller may reuse its tensor afterwards) and queues it on the stream. */
        public synchronized void send(Message m) {
            requests.onNext(m);
        }

        @Override
        public void close() {
            synchronized (this) {
                requests.onCompleted();
            }
            GrpcShutdown.stop(channel, group);
        }
    }

    private static final class AckMarshaller implements MethodDescriptor.Marshaller<Long> {
        @Override
        public InputStream stream(Long step) {
            return new ByteArrayInputStream(ByteBuffer.allocate(8).putLong(step).array());
        }

        @Override
        public Long parse(InputStream in) {
            try {
                return ByteBuffer.wrap(in.readNBytes(8)).getLong();
            } catch (IOException e) {
                throw new TransportException("reading an acknowledgement", true, e);
            }
        }
    }
}
