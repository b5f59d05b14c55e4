package io.ringtmp.transport.internal;

import io.grpc.Drainable;
import io.grpc.HasByteBuffer;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.ringtmp.transport.Message;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * Carries a {@link Message} as a gRPC message in the data-plane frame format, without protobuf:
 * sending encodes once into a byte array that gRPC drains into its own buffers ({@link Drainable},
 * {@link KnownLength}); receiving decodes straight from gRPC's network buffers when the stream
 * exposes them ({@link HasByteBuffer}), so floats are copied once into the tensor.
 */
public final class FrameMarshaller implements MethodDescriptor.Marshaller<Message> {
    private final long maxBodyBytes;
    private final long runId;

    public FrameMarshaller(long maxBodyBytes, long runId) {
        this.maxBodyBytes = maxBodyBytes;
        this.runId = runId;
    }

    @Override
    public InputStream stream(Message m) {
        return new FrameStream(Frames.encodeToArray(m, m.sender()));
    }

    @Override
    public Message parse(InputStream in) {
        Message[] out = new Message[1];
        String[] dropped = new String[1];
        FrameDecoder d = new FrameDecoder(maxBodyBytes, runId, new FrameDecoder.Sink() {
            @Override
            public void onMessage(Message m, int frameBytes) {
                out[0] = m;
            }

            @Override
            public void onDropped(String reason) {
                dropped[0] = reason;
            }
        });
        try {
            String fatal = null;
            if (in instanceof HasByteBuffer hb && hb.byteBufferSupported()) {
                while (fatal == null && in.available() > 0) {
                    ByteBuffer bb = hb.getByteBuffer();
                    int n = bb.remaining();
                    fatal = d.feed(bb);
                    in.skipNBytes(n);
                }
            } else {
                byte[] chunk = new byte[64 << 10];
                int n;
                while (fatal == null && (n = in.read(chunk)) > 0) {
                    fatal = d.feed(ByteBuffer.wrap(chunk, 0, n));
                }
            }
            String why = fatal != null ? fatal : dropped[0] != null ? dropped[0] : out[0] == null ? "truncated frame" : null;
            if (why != null) {
                throw Status.INVALID_ARGUMENT.withDescription(why).asRuntimeException();
            }
            return out[0];
        } catch (IOException e) {
            throw Status.INTERNAL.withDescription("reading a frame: " + e).withCause(e).asRuntimeException();
        } finally {
            try {
                in.close();
            } catch (IOException ignored) {
                // gRPC's buffer stream: closing releases its buffers and cannot fail in a way we could act on
            }
        }
    }

    /** An encoded frame that gRPC drains in one write. */
    private static final class FrameStream extends ByteArrayInputStream implements Drainable, KnownLength {
        FrameStream(byte[] frame) {
            super(frame);
        }

        @Override
        public int drainTo(OutputStream target) throws IOException {
            int n = count - pos;
            target.write(buf, pos, n);
            pos = count;
            return n;
        }
    }
}
