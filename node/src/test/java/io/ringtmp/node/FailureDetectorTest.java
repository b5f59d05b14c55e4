package io.ringtmp.node;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FailureDetectorTest {
    @Test
    void silentPeer_isDeclaredFailedOnce_afterTheTimeout() {
        FakeTime time = new FakeTime();
        List<Integer> failed = new ArrayList<>();
        FailureDetector d = new FailureDetector(time, 1000, List.of(1, 2), failed::add);
        time.advanceMs(600);
        d.heard(2);
        assertEquals(List.of(), d.check());
        time.advanceMs(500);
        assertEquals(List.of(1), d.check());
        assertTrue(d.isFailed(1));
        assertFalse(d.isFailed(2));
        time.advanceMs(2000);
        d.check();
        assertEquals(List.of(1, 2), failed);
        d.check();
        assertEquals(2, failed.size(), "each failure is reported once");
    }

    @Test
    void unknownPeers_areIgnored() {
        FakeTime time = new FakeTime();
        FailureDetector d = new FailureDetector(time, 1000, List.of(1), p -> { });
        d.heard(5);
        time.advanceMs(1001);
        assertEquals(List.of(1), d.check());
        assertEquals(-1, d.silentMs(5));
    }

    @Test
    void isWatching_isFalseForAFailedPeerAndOneThatLeft() {
        FakeTime time = new FakeTime();
        FailureDetector d = new FailureDetector(time, 1000, List.of(1, 2, 3), p -> { });
        d.forget(2);
        time.advanceMs(600);
        d.heard(3);
        time.advanceMs(500);
        d.check();
        assertFalse(d.isWatching(1), "failed");
        assertFalse(d.isWatching(2), "left");
        assertTrue(d.isWatching(3));
    }
}
