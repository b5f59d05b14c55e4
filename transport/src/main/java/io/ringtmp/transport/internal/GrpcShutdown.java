package io.ringtmp.transport.internal;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.netty.channel.EventLoopGroup;

import java.util.concurrent.TimeUnit;

/** Stops a gRPC server or channel and then the event-loop group it ran on, bounded in time. */
public final class GrpcShutdown {
    private GrpcShutdown() {
    }

    public static void stop(Server server, EventLoopGroup group) {
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stop(group);
    }

    public static void stop(ManagedChannel channel, EventLoopGroup group) {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stop(group);
    }

    private static void stop(EventLoopGroup group) {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
