package io.ringtmp.transport;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Where {@link InProcessTransport}s of one JVM find each other: each listens at its config's
 * {@code bindHost:port} here (no socket is opened), and {@code connect(peer, host, port)} looks
 * that exact pair up, waiting while nobody listens there yet. Port 0 picks a free port from
 * 49152 up. One network per test keeps tests apart; thread-safe.
 *
 * <pre>{@code
 * InProcessNetwork net = new InProcessNetwork();
 * try (Transport a = InProcessTransport.start(net, cfgA, handlerA, TensorBuffers.unpooled());
 *      Transport b = InProcessTransport.start(net, cfgB, handlerB, TensorBuffers.unpooled())) {
 *     Link ab = a.connect(cfgB.nodeId(), cfgB.bindHost(), b.boundPort());
 * }
 * // or give nodes net.transports() in place of NettyTransport::start
 * }</pre>
 */
public final class InProcessNetwork {
    private static final int FIRST_EPHEMERAL_PORT = 49152;

    private final Map<String, InProcessTransport> listening = new HashMap<>();
    private int nextPort = FIRST_EPHEMERAL_PORT;

    /** Starts in-process transports on this network: what a node is given in place of {@code NettyTransport::start}. */
    public TransportFactory transports() {
        return (cfg, handler, buffers) -> InProcessTransport.start(this, cfg, handler, buffers);
    }

    private static String key(String host, int port) {
        return host + ":" + port;
    }

    /** Listens with {@code t} at {@code host:port} (0: a free port); returns the port. */
    synchronized int bind(InProcessTransport t, String host, int port) {
        if (port == 0) {
            port = freePort(t, host);
        } else if (listening.containsKey(key(host, port))) {
            throw new TransportException("node " + t.nodeId() + ": cannot listen on " + host + ":" + port
                    + ": node " + listening.get(key(host, port)).nodeId() + " already listens there on this in-process network", false);
        }
        listening.put(key(host, port), t);
        notifyAll();
        return port;
    }

    private int freePort(InProcessTransport t, String host) {
        for (int tried = 0; tried <= 65535 - FIRST_EPHEMERAL_PORT; tried++) {
            int p = nextPort;
            nextPort = p == 65535 ? FIRST_EPHEMERAL_PORT : p + 1;
            if (!listening.containsKey(key(host, p))) {
                return p;
            }
        }
        throw new TransportException("node " + t.nodeId() + ": no free in-process port left on " + host, false);
    }

    synchronized void unbind(InProcessTransport t, String host, int port) {
        listening.remove(key(host, port), t);
    }

    /** The transport listening at {@code host:port}, waiting up to {@code timeoutMs} for one; null if none came. */
    synchronized InProcessTransport awaitListener(String host, int port, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        InProcessTransport t;
        while ((t = listening.get(key(host, port))) == null) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return t;
    }
}
