package io.ringtmp.node;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FailureDetectorTest {
    /** Advances {@code ms} in heartbeat ticks of 100 ms, checking on each, as the node's timer does; returns those newly failed. */
    private static List<Integer> tick(FailureDetector d, FakeTime time, long ms) {
        List<Integer> newly = new ArrayList<>();
        for (long t = 0; t < ms; t += 100) {
            time.advanceMs(Math.min(100, ms - t));
            newly.addAll(d.check());
        }
        return newly;
    }

    @Test
    void silentPeer_isDeclaredFailedOnce_afterTheTimeout() {
        FakeTime time = new FakeTime();
        List<Integer> failed = new ArrayList<>();
        FailureDetector d = new FailureDetector(time, 1000, List.of(1, 2), failed::add);
        assertEquals(List.of(), tick(d, time, 600));
        d.heard(2);
        assertEquals(List.of(1), tick(d, time, 500));
        assertTrue(d.isFailed(1));
        assertFalse(d.isFailed(2));
        tick(d, time, 2000);
        assertEquals(List.of(1, 2), failed);
        tick(d, time, 200);
        assertEquals(2, failed.size(), "each failure is reported once");
    }

    @Test
    void unknownPeers_areIgnored() {
        FakeTime time = new FakeTime();
        FailureDetector d = new FailureDetector(time, 1000, List.of(1), p -> { });
        d.heard(5);
        assertEquals(List.of(1), tick(d, time, 1100));
        assertEquals(-1, d.silentMs(5));
    }

    @Test
    void isWatching_isFalseForAFailedPeerAndOneThatLeft() {
        FakeTime time = new FakeTime();
        FailureDetector d = new FailureDetector(time, 1000, List.of(1, 2, 3), p -> { });
        d.forget(2);
        tick(d, time, 600);
        d.heard(3);
        tick(d, time, 500);
        assertFalse(d.isWatching(1), "failed");
        assertFalse(d.isWatching(2), "left");
        assertTrue(d.isWatching(3));
    }

    @Test
    void checkLateByMoreThanHalfTheTimeout_isThisNodesOwnPause_notItsPeersFailure() {
        FakeTime time = new FakeTime();
        FailureDetector d = new FailureDetector(time, 1000, List.of(1, 2), p -> { });
        tick(d, time, 300);
        time.advanceMs(5000); // this process was stopped: no check ran, nothing was heard
        assertEquals(List.of(), d.check(), "a node resumed from a pause does not declare everyone dead");
        assertEquals(0, d.silentMs(1));
        assertEquals(List.of(1, 2), tick(d, time, 1100), "silence after the pause counts as usual");
    }

    @Test
    void watch_addsANewNeighbour_heardNow() {
        FakeTime time = new FakeTime();
        FailureDetector d = new FailureDetector(time, 1000, List.of(1), p -> { });
        tick(d, time, 500);
        d.watch(4);
        assertTrue(d.isWatching(4));
        assertEquals(List.of(1), tick(d, time, 600));
        assertEquals(List.of(4), tick(d, time, 500));
    }
}
