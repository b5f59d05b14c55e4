package io.ringtmp.transport.internal;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;

/**
 * The mutual HMAC-SHA256 challenge-response every connection runs before any message is
 * accepted (docs/transport.md). Each side proves it knows the shared secret by a MAC over both
 * node ids, the run id and both fresh nonces; the two roles use different labels so a MAC cannot
 * be reflected back. Handshake frames have a fixed size and their own magic:
 * <pre>
 * length:int32 (=84)  magic:int32 "RTMH"  version:u8  type:u8  reserved:u16
 * node:int32  runId:int64  nonce:32 bytes  mac:32 bytes
 * </pre>
 */
public final class Handshake {
    public static final int MAGIC = 0x484D5452;
    public static final int FRAME_BYTES = 88;
    public static final int NONCE_BYTES = 32;
    public static final byte HELLO = 1;
    public static final byte CHALLENGE = 2;
    public static final byte PROOF = 3;
    public static final byte ACCEPT = 4;
    public static final byte REFUSE = 5;
    /** Sent in plaintext by a TLS node to a client that did not start TLS, before it hangs up. */
    public static final byte REFUSE_NEEDS_TLS = 6;

    private static final byte[] SERVER_LABEL = "ringtmp-v1 server".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CLIENT_LABEL = "ringtmp-v1 client".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ZEROS = new byte[32];

    /** A parsed handshake frame. */
    public record Frame(byte type, int node, long runId, byte[] nonce, byte[] mac) {
    }

    private Handshake() {
    }

    public static byte[] encode(byte type, int node, long runId, byte[] nonce, byte[] mac) {
        ByteBuffer b = ByteBuffer.allocate(FRAME_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(FRAME_BYTES - 4).putInt(MAGIC).put((byte) Frames.VERSION).put(type).putShort((short) 0);
        b.putInt(node).putLong(runId).put(nonce == null ? ZEROS : nonce).put(mac == null ? ZEROS : mac);
        return b.array();
    }

    /** Parses a full 88-byte frame; null when the length field or magic is wrong (not a handshake). */
    public static Frame decode(byte[] f) {
        ByteBuffer b = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt() != FRAME_BYTES - 4 || b.getInt() != MAGIC || b.get() != Frames.VERSION) {
            return null;
        }
        byte type = b.get();
        b.getShort();
        int node = b.getInt();
        long run = b.getLong();
        byte[] nonce = new byte[NONCE_BYTES];
        byte[] mac = new byte[32];
        b.get(nonce).get(mac);
        return new Frame(type, node, run, nonce, mac);
    }

    /** The accepting side's proof: MAC(secret, server label, server, client, run, clientNonce, serverNonce). */
    public static byte[] serverMac(byte[] secret, int server, int client, long runId, byte[] clientNonce, byte[] serverNonce) {
        return mac(secret, SERVER_LABEL, server, client, runId, clientNonce, serverNonce);
    }

    /** The connecting side's proof: MAC(secret, client label, client, server, run, serverNonce, clientNonce). */
    public static byte[] clientMac(byte[] secret, int server, int client, long runId, byte[] clientNonce, byte[] serverNonce) {
        return mac(secret, CLIENT_LABEL, client, server, runId, serverNonce, clientNonce);
    }

    /** Constant-time comparison. */
    public static boolean macEquals(byte[] a, byte[] b) {
        return MessageDigest.isEqual(a, b);
    }

    private static byte[] mac(byte[] secret, byte[] label, int a, int b, long runId, byte[] n1, byte[] n2) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(new SecretKeySpec(secret, "HmacSHA256"));
            m.update(label);
            m.update(ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(a).putInt(b).putLong(runId).flip());
            m.update(n1);
            m.update(n2);
            return m.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JDK", e);
        }
    }
}
