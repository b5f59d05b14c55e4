package io.ringtmp.ps;

import io.ringtmp.node.FakeTime;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConsistencyGateTest {
    private final FakeTime time = new FakeTime();

    @Test
    void bsp_pullOfTheNextStep_waitsForEveryWorkersPush_andReportsTheWait() {
        ConsistencyGate g = new ConsistencyGate(Consistency.BSP, 0, 3, 100, time);
        g.request(0, 0);
        g.request(1, 0);
        assertEquals(2, g.releasable().size(), "step 0 needs no push");
        g.pushed(0, 0);
        g.request(0, 1);
        g.pushed(1, 0);
        g.request(1, 1);
        assertTrue(g.releasable().isEmpty(), "worker 2 has not pushed step 0");
        time.advanceMs(7);
        g.pushed(2, 0);
        List<ConsistencyGate.Release> rs = g.releasable();
        assertEquals(List.of(new ConsistencyGate.Release(0, 1, 7_000_000), new ConsistencyGate.Release(1, 1, 7_000_000)), rs);
        assertEquals(0, g.parkedCount());
    }

    @Test
    void ssp_staleness2_aWorkerRunsAtMostTwoStepsAheadOfTheSlowest() {
        ConsistencyGate g = new ConsistencyGate(Consistency.SSP, 2, 2, 100, time);
        for (int t = 0; t < 5; t++) {
            g.pushed(0, t); // worker 0 races ahead; worker 1 has pushed nothing
        }
        assertTrue(g.ready(2), "step 2 may start while the slowest has done 0 steps");
        assertFalse(g.ready(3));
        g.request(0, 3);
        assertTrue(g.releasable().isEmpty());
        g.pushed(1, 0);
        assertEquals(List.of(new ConsistencyGate.Release(0, 3, 0)), g.releasable());
        assertFalse(g.ready(4));
    }

    @Test
    void ssp_staleness0_behavesLikeBspForPulls() {
        ConsistencyGate g = new ConsistencyGate(Consistency.SSP, 0, 2, 100, time);
        g.pushed(0, 0);
        assertFalse(g.ready(1));
        g.pushed(1, 0);
        assertTrue(g.ready(1));
    }

    @Test
    void asp_answersEveryPullAtOnce_butTheFinalOneWaitsForEveryPush() {
        ConsistencyGate g = new ConsistencyGate(Consistency.ASP, 0, 2, 3, time);
        for (int t = 0; t < 3; t++) {
            g.pushed(0, t);
        }
        assertTrue(g.ready(2));
        g.request(0, 3);
        assertTrue(g.releasable().isEmpty(), "the final weights need worker 1's pushes too");
        for (int t = 0; t < 3; t++) {
            g.pushed(1, t);
        }
        assertTrue(g.allDone());
        assertEquals(1, g.releasable().size());
    }

    @Test
    void pushes_outOfOrderOrPastTheEnd_areRefused() {
        ConsistencyGate g = new ConsistencyGate(Consistency.BSP, 0, 2, 1, time);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> g.pushed(0, 1));
        assertTrue(e.getMessage().contains("expected step 0"), e.getMessage());
        g.pushed(0, 0);
        assertThrows(IllegalStateException.class, () -> g.pushed(0, 1));
        assertThrows(IllegalArgumentException.class, () -> g.pushed(2, 0));
    }

    @Test
    void resumedAtStep8_clocksStartThere_firstPushIsOfStep8_andBspWaitsForItsPushes() {
        ConsistencyGate g = new ConsistencyGate(Consistency.BSP, 0, 2, 8, 10, time);
        assertEquals(8, g.startStep());
        assertEquals(8, g.minClock());
        g.request(0, 8);
        g.request(1, 8);
        assertEquals(2, g.releasable().size(), "the pulls of the start step need no push");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> g.pushed(0, 0));
        assertTrue(e.getMessage().contains("expected step 8"), e.getMessage());
        g.pushed(0, 8);
        g.request(0, 9);
        assertTrue(g.releasable().isEmpty(), "worker 1 has not pushed step 8");
        g.pushed(1, 8);
        assertEquals(1, g.releasable().size());
        assertFalse(g.allDone());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> new ConsistencyGate(Consistency.ASP, 0, 2, 11, 10, time));
        assertTrue(bad.getMessage().contains("startStep must be in 0..10 (the run's steps), got 11"), bad.getMessage());
        assertTrue(new ConsistencyGate(Consistency.ASP, 0, 2, 10, 10, time).allDone(), "resumed at the last step: nothing left");
    }
}
