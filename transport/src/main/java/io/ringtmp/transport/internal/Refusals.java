package io.ringtmp.transport.internal;

import io.ringtmp.transport.MessageKind;

/**
 * What a transport says when it refuses a connection or a frame, in one place so that the Netty
 * and the in-process transports word it alike and a test of one reads true of the other.
 * {@code who} describes the connection ({@code "connection from /10.0.0.2:41234"}), an
 * {@code address} the peer's listening address.
 */
public final class Refusals {
    private Refusals() {
    }

    /** The accepting side, to its handler: the connecting node belongs to another run. */
    public static String otherRunConnecting(String who, int node, long runId, long expected) {
        return who + " (node " + node + "): run id " + runId + ", expected " + expected;
    }

    /** The accepting side, to its handler: the connecting node hung up without proving the secret. */
    public static String closedWithoutProof(String who, int claimed) {
        return who + " claiming node " + claimed + " closed the handshake without proving the shared secret";
    }

    /** The connecting side: the peer refused us (another run id or secret, or in TLS mode our certificate's id). */
    public static String refusedByPeer(int peer, Object address) {
        return "peer " + peer + " at " + address + " refused the handshake: it has another run id or secret, our certificate "
                + "is not of the node we claim to be, or its spec does not give our id this address (see its log)";
    }

    /** The accepting side of a TLS node: the client did not start TLS. */
    public static String plaintextConnecting(String who) {
        return who + " refused: it does not speak TLS (a node whose spec has no tls block?) and this node requires TLS";
    }

    /** The connecting side: a TLS node told us it requires TLS. */
    public static String peerRequiresTls(int peer, Object address) {
        return "peer " + peer + " at " + address + " requires TLS: its spec has a tls block, this node's has none";
    }

    /** The connecting side of a TLS node: the peer answered our ClientHello with something else than TLS. */
    public static String peerWithoutTls(int peer, Object address) {
        return "peer " + peer + " at " + address + " does not speak TLS (its spec has no tls block?) and this node requires TLS";
    }

    /** The accepting side: the TLS handshake failed, most often because the client's certificate was refused. */
    public static String tlsRefusedConnecting(String who, String why) {
        return who + " refused in the TLS handshake: " + why;
    }

    /** The connecting side: the TLS handshake with the peer failed. */
    public static String tlsFailedConnecting(int peer, Object address, String why) {
        return "peer " + peer + " at " + address + ": TLS handshake failed: " + why;
    }

    /** The accepting side: a peer claims a node id its certificate does not carry. */
    public static String claimNotCertified(String who, int claimed, String certificate) {
        return who + " claims to be node " + claimed + " but presents the certificate of " + certificate;
    }

    /** The connecting side: the node listening where the spec puts node {@code expected} has another's certificate. */
    public static String otherNodesCertificate(int expected, Object address, String certificate) {
        return "expected node " + expected + " at " + address + ", found the certificate of " + certificate;
    }

    /** The connecting side: another node, or a node of another run, listens at the address. */
    public static String otherNodeListening(int expected, long runId, Object address, int node, long nodeRunId) {
        return "expected node " + expected + " of run " + runId + " at " + address + ", found node " + node + " of run " + nodeRunId;
    }

    /** The connecting side: the peer's proof did not verify under our secret. */
    public static String peerFailedProof(int peer, Object address) {
        return "peer " + peer + " at " + address + " failed to prove the shared secret";
    }

    /** A frame of another run, dropped; the connection stays. */
    public static String otherRunFrame(MessageKind kind, int sender, long step, long runId, long expected) {
        return "frame " + kind + " from node " + sender + " step " + step + ": run id " + runId + ", expected " + expected;
    }

    /** A frame body above the receiver's limit. */
    public static String oversizedFrame(long bodyBytes, long maxMessageBytes) {
        return "frame of " + bodyBytes + " bytes exceeds maxMessageBytes " + maxMessageBytes;
    }

    /** An authenticated connection closed by the receiver because of {@code fatal}. */
    public static String connectionClosed(int peerId, String fatal) {
        return "connection from node " + peerId + " closed: " + fatal;
    }
}
