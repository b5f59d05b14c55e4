package io.ringtmp.transport;

import io.ringtmp.transport.internal.Frames;
import io.ringtmp.transport.tls.TlsConfig;

import java.util.Arrays;
import java.util.Objects;

/**
 * Settings of one node's {@link Transport}. Build with {@link #of} and adjust with the
 * {@code withX} methods; the canonical constructor checks every value.
 *
 * @param nodeId             this node's id, stamped on every outgoing message and proved in the handshake
 * @param bindHost           address to listen on (e.g. "127.0.0.1" or "0.0.0.0")
 * @param port               port to listen on, 0 for any free port ({@link Transport#boundPort()})
 * @param runId              run id; frames and handshakes of another run are refused
 * @param secret             shared secret of the cluster (at least 16 bytes) used for the HMAC handshake
 * @param maxMessageBytes    largest frame body accepted, header included; derive it from the model
 *                           with {@link #maxMessageBytesFor}; larger frames are refused before any
 *                           allocation and their connection is closed
 * @param lowWaterMarkBytes  a blocked {@code send} resumes when a link's queued bytes fall to this
 * @param highWaterMarkBytes {@code send} blocks while a link's queued bytes exceed this
 * @param sendTimeoutMs      longest a {@code send} blocks on back-pressure before it throws
 * @param connectTimeoutMs   how long {@link Transport#connect} keeps retrying a peer that is not up
 * @param handshakeTimeoutMs how long a new connection may take to authenticate before it is closed
 * @param ioThreads          Netty I/O threads (each owns some connections)
 * @param socketBufferBytes  SO_SNDBUF/SO_RCVBUF, 0 for the operating system's default (autotuning)
 * @param tls                mutual TLS under the cluster CA ({@link TlsConfig}), or null for plaintext
 *                           links; either way every connection runs the HMAC handshake (in TLS mode
 *                           inside the TLS session, after the peer's certificate was checked)
 * @param peerHosts          each node's host as the spec gives it: a connection claiming node k must
 *                           come from an address of k's host, and claim a node the map has (empty:
 *                           any id, from anywhere, as in tests and benchmarks)
 */
public record TransportConfig(int nodeId, String bindHost, int port, long runId, byte[] secret, long maxMessageBytes,
                              int lowWaterMarkBytes, int highWaterMarkBytes, long sendTimeoutMs, long connectTimeoutMs,
                              long handshakeTimeoutMs, int ioThreads, int socketBufferBytes, TlsConfig tls,
                              java.util.Map<Integer, String> peerHosts) {
    public static final int MIN_SECRET_BYTES = 16;
    public static final int DEFAULT_HIGH_WATER_MARK = 16 << 20;
    public static final int DEFAULT_LOW_WATER_MARK = 8 << 20;

    public TransportConfig {
        Objects.requireNonNull(bindHost, "bindHost");
        Objects.requireNonNull(secret, "secret");
        if (nodeId < 0) {
            throw new IllegalArgumentException("nodeId must be >= 0, got " + nodeId);
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
        }
        if (secret.length < MIN_SECRET_BYTES) {
            throw new IllegalArgumentException("secret must have at least " + MIN_SECRET_BYTES + " bytes, got " + secret.length);
        }
        if (maxMessageBytes < Frames.HEADER_BYTES || maxMessageBytes > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("maxMessageBytes must be in [" + Frames.HEADER_BYTES + ", "
                    + (Integer.MAX_VALUE - 64) + "], got " + maxMessageBytes);
        }
        if (lowWaterMarkBytes < 0 || highWaterMarkBytes < lowWaterMarkBytes) {
            throw new IllegalArgumentException("water marks must satisfy 0 <= low <= high, got low " + lowWaterMarkBytes
                    + ", high " + highWaterMarkBytes);
        }
        if (sendTimeoutMs <= 0 || connectTimeoutMs < 0 || handshakeTimeoutMs <= 0) {
            throw new IllegalArgumentException("timeouts must be positive, got send " + sendTimeoutMs + " ms, connect "
                    + connectTimeoutMs + " ms, handshake " + handshakeTimeoutMs + " ms");
        }
        if (ioThreads < 1) {
            throw new IllegalArgumentException("ioThreads must be >= 1, got " + ioThreads);
        }
        if (socketBufferBytes < 0) {
            throw new IllegalArgumentException("socketBufferBytes must be >= 0, got " + socketBufferBytes);
        }
        secret = secret.clone();
        peerHosts = peerHosts == null ? java.util.Map.of() : java.util.Map.copyOf(peerHosts);
    }

    /** A config with default water marks (8/16 MiB), timeouts (send 30 s, connect 10 s, handshake 5 s) and 2 I/O threads. */
    public static TransportConfig of(int nodeId, String bindHost, int port, long runId, byte[] secret, long maxMessageBytes) {
        return new TransportConfig(nodeId, bindHost, port, runId, secret, maxMessageBytes, DEFAULT_LOW_WATER_MARK,
                DEFAULT_HIGH_WATER_MARK, 30_000, 10_000, 5_000, 2, 0, null, java.util.Map.of());
    }

    /**
     * The frame size that carries a tensor of up to {@code maxTensorElements} floats (of rank up to
     * {@link Message#MAX_RANK}) plus up to {@code maxSmallPayloadBytes} of byte payload. For a
     * pipeline stage: the largest activation or gradient it exchanges, i.e. microbatch size times
     * the widest layer width at a stage boundary.
     */
    public static long maxMessageBytesFor(long maxTensorElements, int maxSmallPayloadBytes) {
        if (maxTensorElements < 0 || maxSmallPayloadBytes < 0) {
            throw new IllegalArgumentException("sizes must be >= 0, got " + maxTensorElements + " elements, "
                    + maxSmallPayloadBytes + " bytes");
        }
        return Frames.HEADER_BYTES + 4L * Message.MAX_RANK + 4L * maxTensorElements + maxSmallPayloadBytes;
    }

    /** The secret (a copy). */
    @Override
    public byte[] secret() {
        return secret.clone();
    }

    public TransportConfig withPort(int newPort) {
        return new TransportConfig(nodeId, bindHost, newPort, runId, secret, maxMessageBytes, lowWaterMarkBytes,
                highWaterMarkBytes, sendTimeoutMs, connectTimeoutMs, handshakeTimeoutMs, ioThreads, socketBufferBytes, tls, peerHosts);
    }

    public TransportConfig withWaterMarks(int low, int high) {
        return new TransportConfig(nodeId, bindHost, port, runId, secret, maxMessageBytes, low, high, sendTimeoutMs,
                connectTimeoutMs, handshakeTimeoutMs, ioThreads, socketBufferBytes, tls, peerHosts);
    }

    public TransportConfig withTimeouts(long sendMs, long connectMs, long handshakeMs) {
        return new TransportConfig(nodeId, bindHost, port, runId, secret, maxMessageBytes, lowWaterMarkBytes,
                highWaterMarkBytes, sendMs, connectMs, handshakeMs, ioThreads, socketBufferBytes, tls, peerHosts);
    }

    public TransportConfig withSocketBufferBytes(int bytes) {
        return new TransportConfig(nodeId, bindHost, port, runId, secret, maxMessageBytes, lowWaterMarkBytes,
                highWaterMarkBytes, sendTimeoutMs, connectTimeoutMs, handshakeTimeoutMs, ioThreads, bytes, tls, peerHosts);
    }

    public TransportConfig withIoThreads(int n) {
        return new TransportConfig(nodeId, bindHost, port, runId, secret, maxMessageBytes, lowWaterMarkBytes,
                highWaterMarkBytes, sendTimeoutMs, connectTimeoutMs, handshakeTimeoutMs, n, socketBufferBytes, tls, peerHosts);
    }

    /** The same settings with mutual TLS ({@code null}: plaintext links). */
    public TransportConfig withTls(TlsConfig newTls) {
        return new TransportConfig(nodeId, bindHost, port, runId, secret, maxMessageBytes, lowWaterMarkBytes,
                highWaterMarkBytes, sendTimeoutMs, connectTimeoutMs, handshakeTimeoutMs, ioThreads, socketBufferBytes, newTls, peerHosts);
    }

    /** The same settings, taking connections only from the nodes of {@code hosts} (id to spec host), each from its host. */
    public TransportConfig withPeerHosts(java.util.Map<Integer, String> hosts) {
        return new TransportConfig(nodeId, bindHost, port, runId, secret, maxMessageBytes, lowWaterMarkBytes,
                highWaterMarkBytes, sendTimeoutMs, connectTimeoutMs, handshakeTimeoutMs, ioThreads, socketBufferBytes, tls, hosts);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TransportConfig c && nodeId == c.nodeId && bindHost.equals(c.bindHost) && port == c.port
                && runId == c.runId && Arrays.equals(secret, c.secret) && maxMessageBytes == c.maxMessageBytes
                && lowWaterMarkBytes == c.lowWaterMarkBytes && highWaterMarkBytes == c.highWaterMarkBytes
                && sendTimeoutMs == c.sendTimeoutMs && connectTimeoutMs == c.connectTimeoutMs
                && handshakeTimeoutMs == c.handshakeTimeoutMs && ioThreads == c.ioThreads
                && socketBufferBytes == c.socketBufferBytes && Objects.equals(tls, c.tls) && peerHosts.equals(c.peerHosts);
    }

    @Override
    public int hashCode() {
        return Objects.hash(nodeId, bindHost, port, runId, Arrays.hashCode(secret), maxMessageBytes);
    }

    /** Never prints the secret. */
    @Override
    public String toString() {
        return "TransportConfig[node " + nodeId + " " + bindHost + ":" + port + " run " + runId + " maxMessageBytes "
                + maxMessageBytes + " water " + lowWaterMarkBytes + "/" + highWaterMarkBytes + (tls == null ? " plaintext" : " tls " + tls.provider()) + "]";
    }
}
