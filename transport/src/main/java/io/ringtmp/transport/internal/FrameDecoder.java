package io.ringtmp.transport.internal;

import io.ringtmp.tensor.Tensor;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.MessageKind;
import io.ringtmp.transport.TensorBuffers;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Decodes a byte stream of {@link Frames} as it arrives, chunk by chunk, without gathering a
 * frame first: floats go straight from the network buffer into the tensor's float[] (one copy;
 * the array comes from {@link TensorBuffers}, new or given back), the CRC32C is updated as they pass. Checks happen before allocation: a frame longer
 * than {@code maxBodyBytes} or with an inconsistent header is fatal (the stream cannot be trusted
 * to resync, so the caller closes the connection); a frame with a bad CRC or another run id is
 * read to its end, dropped and reported, and the stream continues.
 *
 * <p>Not thread-safe: owned by the one I/O thread that reads its connection.
 */
public final class FrameDecoder {
    /** Where decoded frames go. */
    public interface Sink {
        void onMessage(Message m, int frameBytes);

        /** A frame was dropped; the stream stays in sync. */
        void onDropped(String reason);
    }

    private enum State { LENGTH, HEADER, DIMS, FLOATS, BYTES }

    private final long maxBodyBytes;
    private final long runId;
    private final TensorBuffers buffers;
    private final Sink sink;
    private final byte[] scratch = new byte[Frames.HEADER_BYTES];
    private final ByteBuffer scratchBuf = ByteBuffer.wrap(scratch).order(ByteOrder.LITTLE_ENDIAN);
    private final byte[] pending = new byte[4];
    private final CRC32C crc = new CRC32C();

    private State state = State.LENGTH;
    private int fill;
    private int bodyLength;
    private MessageKind kind;
    private int rank;
    private int sender;
    private long frameRunId;
    private long step;
    private int microbatch;
    private int epoch;
    private int bytesLength;
    private int expectedCrc;
    private String dropReason;
    private int[] shape;
    private float[] floats;
    private long floatsLeft;
    private int floatPos;
    private int pendingFill;
    private byte[] bytes;
    private int bytesPos;

    /** Decodes tensors into new arrays. */
    public FrameDecoder(long maxBodyBytes, long runId, Sink sink) {
        this(maxBodyBytes, runId, TensorBuffers.unpooled(), sink);
    }

    /** Decodes tensors into arrays taken from {@code buffers}. */
    public FrameDecoder(long maxBodyBytes, long runId, TensorBuffers buffers, Sink sink) {
        this.maxBodyBytes = maxBodyBytes;
        this.runId = runId;
        this.buffers = buffers;
        this.sink = sink;
    }

    /**
     * Consumes all of {@code in}. Returns null when the stream is still good, or the reason it is
     * not (then the connection must be closed and nothing more fed).
     */
    public String feed(ByteBuffer in) {
        while (in.hasRemaining()) {
            switch (state) {
                case LENGTH -> {
                    if (!gather(in, 4)) {
                        return null;
                    }
                    int len = scratchBuf.getInt(0);
                    if (len < Frames.HEADER_BYTES) {
                        return "frame length " + len + " is below the header size " + Frames.HEADER_BYTES;
                    }
                    if (len > maxBodyBytes) {
                        return Refusals.oversizedFrame(len, maxBodyBytes);
                    }
                    bodyLength = len;
                    crc.reset();
                    state = State.HEADER;
                }
                case HEADER -> {
                    if (!gather(in, Frames.HEADER_BYTES)) {
                        return null;
                    }
                    String bad = parseHeader();
                    if (bad != null) {
                        return bad;
                    }
                    crc.update(scratch, 0, Frames.CRC_OFFSET);
                    state = State.DIMS;
                    if (rank == 0) {
                        String b = startPayload();
                        if (b != null) {
                            return b;
                        }
                    }
                }
                case DIMS -> {
                    if (!gather(in, 4 * rank)) {
                        return null;
                    }
                    crc.update(scratch, 0, 4 * rank);
                    shape = new int[rank];
                    for (int i = 0; i < rank; i++) {
                        shape[i] = scratchBuf.getInt(4 * i);
                        if (shape[i] < 0) {
                            return "frame from node " + sender + ": negative dimension in shape " + Arrays.toString(shape);
                        }
                    }
                    String b = startPayload();
                    if (b != null) {
                        return b;
                    }
                }
                case FLOATS -> readFloats(in);
                case BYTES -> readBytes(in);
            }
            if ((state == State.FLOATS && floatsLeft == 0) || (state == State.BYTES && bytesPos == Math.max(bytesLength, 0))) {
                if (state == State.FLOATS && bytesLength > 0) {
                    state = State.BYTES;
                    continue;
                }
                finishFrame();
            }
        }
        return null;
    }

    private String parseHeader() {
        ByteBuffer h = scratchBuf;
        int magic = h.getInt(0);
        if (magic != Frames.MAGIC) {
            return String.format("bad frame magic 0x%08x, expected 0x%08x", magic, Frames.MAGIC);
        }
        int version = h.get(4) & 0xff;
        if (version != Frames.VERSION) {
            return "frame version " + version + ", expected " + Frames.VERSION;
        }
        kind = MessageKind.fromCode(h.get(5) & 0xff);
        if (kind == null) {
            return "unknown message kind code " + (h.get(5) & 0xff);
        }
        rank = h.get(6) & 0xff;
        if (rank > Message.MAX_RANK) {
            return "tensor rank " + rank + " exceeds the maximum " + Message.MAX_RANK;
        }
        epoch = h.get(7) & 0xff;
        sender = h.getInt(8);
        frameRunId = h.getLong(12);
        step = h.getLong(20);
        microbatch = h.getInt(28);
        bytesLength = h.getInt(32);
        expectedCrc = h.getInt(Frames.CRC_OFFSET);
        if (bytesLength < -1) {
            return "negative byte payload length " + bytesLength;
        }
        dropReason = frameRunId == runId ? null : Refusals.otherRunFrame(kind, sender, step, frameRunId, runId);
        return null;
    }

    /** Checks the lengths against the frame length, then allocates the payload (bounded by it). */
    private String startPayload() {
        long elements = 0;
        if (rank > 0) {
            elements = 1;
            for (int d : shape) {
                elements *= d;
                if (elements > maxBodyBytes) {
                    break;
                }
            }
        }
        long expected = Frames.HEADER_BYTES + 4L * rank + 4L * elements + Math.max(bytesLength, 0);
        if (expected != bodyLength) {
            return "frame length " + bodyLength + " does not match its header: shape "
                    + (rank == 0 ? "none" : Arrays.toString(shape)) + " and " + Math.max(bytesLength, 0)
                    + " payload bytes need " + expected;
        }
        floatsLeft = elements;
        floatPos = 0;
        pendingFill = 0;
        bytesPos = 0;
        floats = rank > 0 && dropReason == null ? buffers.take((int) elements) : null;
        bytes = bytesLength >= 0 && dropReason == null ? new byte[bytesLength] : null;
        state = rank > 0 ? State.FLOATS : State.BYTES;
        if (rank == 0 && bytesLength <= 0) {
            finishFrame();
        }
        return null;
    }

    private void readFloats(ByteBuffer in) {
        while (floatsLeft > 0 && in.hasRemaining()) {
            if (pendingFill > 0 || in.remaining() < 4) {
                // A float split across two network buffers.
                byte x = in.get();
                crc.update(x);
                pending[pendingFill++] = x;
                if (pendingFill == 4) {
                    if (floats != null) {
                        int bits = (pending[0] & 0xff) | (pending[1] & 0xff) << 8 | (pending[2] & 0xff) << 16 | (pending[3] & 0xff) << 24;
                        floats[floatPos] = Float.intBitsToFloat(bits);
                    }
                    floatPos++;
                    floatsLeft--;
                    pendingFill = 0;
                }
            } else {
                int n = (int) Math.min(floatsLeft, in.remaining() / 4);
                int at = in.position();
                ByteBuffer slice = in.slice(at, 4 * n).order(ByteOrder.LITTLE_ENDIAN);
                crc.update(slice);
                if (floats != null) {
                    slice.position(0).asFloatBuffer().get(floats, floatPos, n);
                }
                in.position(at + 4 * n);
                floatPos += n;
                floatsLeft -= n;
            }
        }
    }

    private void readBytes(ByteBuffer in) {
        int n = Math.min(in.remaining(), bytesLength - bytesPos);
        if (bytes != null) {
            in.get(bytes, bytesPos, n);
            crc.update(bytes, bytesPos, n);
        } else {
            int at = in.position();
            crc.update(in.slice(at, n));
            in.position(at + n);
        }
        bytesPos += n;
    }

    private void finishFrame() {
        int actual = (int) crc.getValue();
        int frameBytes = Frames.LENGTH_BYTES + bodyLength;
        state = State.LENGTH;
        fill = 0;
        if (actual != expectedCrc) {
            buffers.give(floats);
            sink.onDropped(String.format("frame %s from node %d step %d: CRC32C 0x%08x does not match the header's 0x%08x",
                    kind, sender, step, actual, expectedCrc));
        } else if (dropReason != null) {
            sink.onDropped(dropReason);
        } else {
            Tensor t = rank > 0 ? Tensor.wrap(floats, shape) : null;
            sink.onMessage(new Message(kind, sender, frameRunId, step, microbatch, t, bytes, epoch), frameBytes);
        }
        floats = null;
        bytes = null;
        shape = null;
    }

    /** Copies into the scratch array until it holds {@code n} bytes; true when it does. */
    private boolean gather(ByteBuffer in, int n) {
        int take = Math.min(n - fill, in.remaining());
        in.get(scratch, fill, take);
        fill += take;
        if (fill < n) {
            return false;
        }
        fill = 0;
        return true;
    }
}
