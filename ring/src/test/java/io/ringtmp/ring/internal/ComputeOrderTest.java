package io.ringtmp.ring.internal;

import io.ringtmp.ring.internal.ComputeOrder.Next;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ComputeOrderTest {
    @Test
    void next_onlyOneReady_runsThatOne() {
        ComputeOrder o = new ComputeOrder();
        assertEquals(Next.NOTHING, o.next(false, false));
        assertEquals(Next.FORWARD, o.next(false, true));
        assertEquals(Next.BACKWARD, o.next(true, false));
        assertEquals(Next.BACKWARD, o.next(true, false), "backwards run back to back when no forward is ready");
        assertEquals(Next.NOTHING, o.next(false, false));
    }

    @Test
    void next_bothReady_backwardFirstThenAlternates() {
        ComputeOrder o = new ComputeOrder();
        assertEquals(Next.BACKWARD, o.next(true, true), "a backward first: it frees a slot and unblocks the stage before");
        assertEquals(Next.FORWARD, o.next(true, true), "then a ready forward, so the next stage gets its input");
        assertEquals(Next.BACKWARD, o.next(true, true));
        assertEquals(Next.FORWARD, o.next(true, true));
    }

    @Test
    void next_backlogOfGradients_interleavesEveryReadyForward() {
        // A stage holding 3 gradients and 2 activations: B F B F B, never B B while a forward waits.
        ComputeOrder o = new ComputeOrder();
        int backwards = 3;
        int forwards = 2;
        StringBuilder order = new StringBuilder();
        while (true) {
            Next n = o.next(backwards > 0, forwards > 0);
            if (n == Next.NOTHING) {
                break;
            }
            order.append(n == Next.BACKWARD ? 'B' : 'F');
            if (n == Next.BACKWARD) {
                backwards--;
            } else {
                forwards--;
            }
        }
        assertEquals("BFBFB", order.toString());
    }
}
