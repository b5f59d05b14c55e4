package io.ringtmp.transport;

import io.ringtmp.tensor.Tensor;

import java.util.Objects;

/**
 * One message between two nodes: who sent it, for which run, step and microbatch, and a tensor
 * and/or a small byte payload (either may be null).
 *
 * <p>Ownership: a message handed to {@link Link#send} is copied into a transport buffer before
 * {@code send} returns, so the caller keeps its tensor and byte array and may reuse them at once.
 * A message delivered to {@link MessageHandler#onMessage} holds a float[]-backed tensor and a
 * new byte array that belong to the receiver; the tensor's array comes from the transport's
 * {@link TensorBuffers}, and the receiver may give it back there once done with it.
 *
 * @param kind       what the message is for
 * @param sender     node id of the sender; {@link Link#send} stamps the transport's own id on the
 *                   wire whatever this says, so a receiver can trust it after authentication
 * @param runId      the run the message belongs to; a receiver drops messages of another run
 * @param step       training step (or any sequence number)
 * @param microbatch microbatch within the step, -1 when not applicable
 * @param tensor     float32 payload, sent as raw little-endian floats with its shape, or null
 * @param bytes      small opaque payload (control, loss, credits), or null
 * @param epoch      the sender's membership epoch modulo {@value #EPOCHS} (one byte on the wire):
 *                   a program whose membership changes (ring failover) drops frames of another
 *                   epoch instead of computing on them; 0 for programs without one
 */
public record Message(MessageKind kind, int sender, long runId, long step, int microbatch, Tensor tensor, byte[] bytes, int epoch) {
    /** The largest rank a tensor on the wire may have. */
    public static final int MAX_RANK = 8;
    /** Epochs the wire tells apart: the epoch travels as {@code epoch mod EPOCHS}. */
    public static final int EPOCHS = 256;

    public Message {
        Objects.requireNonNull(kind, "kind");
        if (tensor != null && tensor.rank() > MAX_RANK) {
            throw new IllegalArgumentException("tensor: rank " + tensor.rank() + " exceeds the wire maximum " + MAX_RANK);
        }
        if (epoch < 0 || epoch >= EPOCHS) {
            throw new IllegalArgumentException("epoch must be in [0, " + EPOCHS + "), got " + epoch);
        }
    }

    /** A message of epoch 0. */
    public Message(MessageKind kind, int sender, long runId, long step, int microbatch, Tensor tensor, byte[] bytes) {
        this(kind, sender, runId, step, microbatch, tensor, bytes, 0);
    }

    /** This message stamped with membership epoch {@code epoch} (taken modulo {@value #EPOCHS}). */
    public Message withEpoch(long epoch) {
        return new Message(kind, sender, runId, step, microbatch, tensor, bytes, (int) Math.floorMod(epoch, (long) EPOCHS));
    }

    /** A message carrying a tensor and no byte payload. */
    public static Message tensor(MessageKind kind, int sender, long runId, long step, int microbatch, Tensor t) {
        return new Message(kind, sender, runId, step, microbatch, Objects.requireNonNull(t, "tensor"), null);
    }

    /** A message carrying a small byte payload and no tensor (microbatch -1). */
    public static Message control(MessageKind kind, int sender, long runId, long step, byte[] bytes) {
        return new Message(kind, sender, runId, step, -1, null, bytes);
    }

    /** Bytes of tensor data (4 per element), 0 without a tensor. */
    public long tensorBytes() {
        return tensor == null ? 0 : 4L * tensor.size();
    }

    /**
     * Bytes this message occupies on the data plane: its frame's length field, header, tensor
     * dimensions and payload (docs/transport.md), as {@link LinkStats} counts them.
     */
    public long frameBytes() {
        return io.ringtmp.transport.internal.Frames.LENGTH_BYTES + io.ringtmp.transport.internal.Frames.bodyBytes(this);
    }

    @Override
    public String toString() {
        return "Message[" + kind + " from " + sender + " run " + runId + " step " + step + " mb " + microbatch
                + (tensor != null ? " tensor " + tensor.shapeString() : "")
                + (bytes != null ? " bytes " + bytes.length : "") + (epoch != 0 ? " epoch " + epoch : "") + "]";
    }
}
