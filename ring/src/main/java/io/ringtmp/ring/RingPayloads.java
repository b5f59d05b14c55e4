package io.ringtmp.ring;

import io.ringtmp.node.ProtocolException;
import io.ringtmp.transport.Message;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The byte payloads of the ring's data messages (docs/ring.md): an activation's labels, a
 * credit's loss, an evaluation batch's result. A payload of the wrong size is the sender's
 * fault ({@link ProtocolException}).
 */
final class RingPayloads {
    /** A finished microbatch: the loss summed over its rows, and how many rows. */
    record Credit(double loss, int rows) {
    }

    /** A scored evaluation batch: the loss summed over its rows, and how many it got right. */
    record EvalResult(double loss, long correct) {
    }

    private static final int CREDIT_BYTES = 12;
    private static final int EVAL_RESULT_BYTES = 16;

    private RingPayloads() {
    }

    static byte[] credit(double loss, int rows) {
        return ByteBuffer.allocate(CREDIT_BYTES).putDouble(loss).putInt(rows).array();
    }

    static Credit credit(Message m) {
        ByteBuffer b = sized(m, CREDIT_BYTES, "credit");
        return new Credit(b.getDouble(), b.getInt());
    }

    static byte[] evalResult(double loss, long correct) {
        return ByteBuffer.allocate(EVAL_RESULT_BYTES).putDouble(loss).putLong(correct).array();
    }

    static EvalResult evalResult(Message m) {
        ByteBuffer b = sized(m, EVAL_RESULT_BYTES, "evaluation result");
        return new EvalResult(b.getDouble(), b.getLong());
    }

    /** The first {@code n} labels as little-endian int32s, the byte payload of an activation. */
    static byte[] labels(int[] y, int n) {
        ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.putInt(y[i]);
        }
        return b.array();
    }

    /** The labels of an activation (or evaluation batch) of {@code rows} rows. */
    static int[] labels(Message m, int rows) {
        ByteBuffer b = sized(m, 4 * rows, "labels of " + rows + " rows").order(ByteOrder.LITTLE_ENDIAN);
        int[] y = new int[rows];
        for (int i = 0; i < rows; i++) {
            y[i] = b.getInt();
        }
        return y;
    }

    private static ByteBuffer sized(Message m, int bytes, String what) {
        if (m.bytes() == null || m.bytes().length != bytes) {
            throw new ProtocolException(m.sender(), "its " + m.kind() + " message holds " + (m.bytes() == null ? "no" : m.bytes().length)
                    + " bytes of " + what + " (expected " + bytes + ")");
        }
        return ByteBuffer.wrap(m.bytes());
    }
}
