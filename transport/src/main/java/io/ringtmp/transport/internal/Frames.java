package io.ringtmp.transport.internal;

import io.ringtmp.tensor.Tensor;
import io.ringtmp.transport.Message;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The data-plane frame layout (docs/transport.md), all little-endian:
 * <pre>
 * frame  := length:int32 body                   length = bytes of body, at most maxMessageBytes
 * body   := header dims floats bytes
 * header := magic:int32 "RTMP"  version:u8  kind:u8  rank:u8  epoch:u8
 *           sender:int32  runId:int64  step:int64  microbatch:int32  bytesLength:int32  crc32c:int32
 * dims   := rank x int32                         rank 0 = no tensor
 * floats := prod(dims) x float32                 raw IEEE-754, little-endian
 * bytes  := bytesLength bytes                    bytesLength -1 = no byte payload
 * </pre>
 * The CRC32C covers the whole body except the crc field itself (header fields, dims and payload),
 * so a flipped bit anywhere after the length field is caught.
 */
public final class Frames {
    /** "RTMP" read as a little-endian int. */
    public static final int MAGIC = 0x504D5452;
    public static final int VERSION = 1;
    public static final int LENGTH_BYTES = 4;
    public static final int HEADER_BYTES = 40;
    public static final int CRC_OFFSET = 36;

    private Frames() {
    }

    /** Body bytes of {@code m}: header, dims, floats and bytes. */
    public static long bodyBytes(Message m) {
        Tensor t = m.tensor();
        long n = HEADER_BYTES;
        if (t != null) {
            n += 4L * t.rank() + 4L * t.size();
        }
        if (m.bytes() != null) {
            n += m.bytes().length;
        }
        return n;
    }

    /**
     * Writes the frame of {@code m} (length field included) at {@code dst}'s position, stamping
     * {@code sender}; advances the position by {@code 4 + bodyBytes(m)}. {@code dst} must have room.
     */
    public static void encode(Message m, int sender, ByteBuffer dst) {
        ByteBuffer b = dst.order(ByteOrder.LITTLE_ENDIAN);
        Tensor t = m.tensor();
        byte[] bytes = m.bytes();
        int body = Math.toIntExact(bodyBytes(m));
        int start = b.position();
        b.putInt(body);
        int bodyStart = b.position();
        b.putInt(MAGIC).put((byte) VERSION).put((byte) m.kind().ordinal()).put((byte) (t == null ? 0 : t.rank())).put((byte) m.epoch());
        b.putInt(sender).putLong(m.runId()).putLong(m.step()).putInt(m.microbatch());
        b.putInt(bytes == null ? -1 : bytes.length).putInt(0);
        if (t != null) {
            for (int i = 0; i < t.rank(); i++) {
                b.putInt(t.dim(i));
            }
            int floatsAt = b.position();
            b.asFloatBuffer().put(t.data(), t.offset(), t.size());
            b.position(floatsAt + 4 * t.size());
        }
        if (bytes != null) {
            b.put(bytes);
        }
        int end = b.position();
        CRC32C crc = new CRC32C();
        crc.update(b.duplicate().position(bodyStart).limit(bodyStart + CRC_OFFSET));
        crc.update(b.duplicate().position(bodyStart + CRC_OFFSET + 4).limit(end));
        b.putInt(bodyStart + CRC_OFFSET, (int) crc.getValue());
        assert end - start == LENGTH_BYTES + body;
    }

    /** The frame of {@code m} in a new heap array. */
    public static byte[] encodeToArray(Message m, int sender) {
        byte[] a = new byte[Math.toIntExact(LENGTH_BYTES + bodyBytes(m))];
        encode(m, sender, ByteBuffer.wrap(a));
        return a;
    }
}
