package io.ringtmp.ring;

import io.ringtmp.node.ProtocolException;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.MessageKind;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RingPayloadsTest {
    private static Message carrying(MessageKind kind, byte[] b) {
        return new Message(kind, 2, 1, 0, 0, null, b);
    }

    @Test
    void payloads_roundTrip() {
        assertEquals(new RingPayloads.Credit(1.5, 32), RingPayloads.credit(carrying(MessageKind.CREDIT, RingPayloads.credit(1.5, 32))));
        assertEquals(new RingPayloads.EvalResult(2.25, 7), RingPayloads.evalResult(carrying(MessageKind.LOSS, RingPayloads.evalResult(2.25, 7))));
        int[] y = {3, 0, 9, 1};
        assertArrayEquals(new int[]{3, 0, 9}, RingPayloads.labels(carrying(MessageKind.ACTIVATION, RingPayloads.labels(y, 3)), 3));
    }

    @Test
    void aPayloadOfTheWrongSize_isTheSendersProtocolError() {
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> RingPayloads.labels(carrying(MessageKind.ACTIVATION, new byte[8]), 4));
        assertEquals("node 2 broke the protocol: its ACTIVATION message holds 8 bytes of labels of 4 rows (expected 16)", e.getMessage());
        assertEquals(2, e.peer());
        assertThrows(ProtocolException.class, () -> RingPayloads.credit(carrying(MessageKind.CREDIT, null)));
    }
}
