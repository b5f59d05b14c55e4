package io.ringtmp.node;

import io.ringtmp.transport.Message;
import io.ringtmp.transport.MessageKind;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InboxTest {
    private static Message msg(MessageKind kind, long step) {
        return Message.control(kind, 1, 1, step, new byte[0]);
    }

    @Test
    void await_setsOthersAside_andTheyComeBackFirstInTheirOrder() throws Exception {
        Inbox in = new Inbox(new StopSignal());
        in.add(msg(MessageKind.ACTIVATION, 1));
        in.add(msg(MessageKind.GRADIENT, 2));
        in.add(msg(MessageKind.CONTROL, 3));
        in.add(msg(MessageKind.ACTIVATION, 4));
        assertEquals(3, in.await(m -> m.kind() == MessageKind.CONTROL).step());
        assertEquals(2, in.await(m -> m.kind() == MessageKind.GRADIENT).step(), "an await looks at what was set aside too");
        List<Long> rest = new ArrayList<>();
        Message m;
        while ((m = in.poll()) != null) {
            rest.add(m.step());
        }
        assertEquals(List.of(1L, 4L), rest);
        assertNull(in.poll());
    }

    @Test
    void aBlockedTake_endsWhenTheRunStops() throws Exception {
        StopSignal stop = new StopSignal();
        Inbox in = new Inbox(stop);
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(150);
            } catch (InterruptedException ignored) {
                // ends the test thread's wait either way
            }
            stop.stop("neighbour 2 failed", true);
        });
        t.start();
        StoppedException e = assertThrows(StoppedException.class, in::take);
        assertEquals("neighbour 2 failed", e.getMessage());
        assertThrows(StoppedException.class, () -> in.await(x -> true));
        t.join();
    }

    @Test
    void aMessageAlreadyThere_isTakenEvenAfterAStop() throws Exception {
        StopSignal stop = new StopSignal();
        Inbox in = new Inbox(stop);
        in.add(msg(MessageKind.CREDIT, 5));
        stop.stop("SIGTERM", false);
        assertEquals(5, in.take().step());
        assertTrue(stop.stopped());
    }
}
