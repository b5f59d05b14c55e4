package io.ringtmp.ring;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SchedulePolicyTest {
    @Test
    void flushedSchedules_forwardOnlyTheMiniBatchOfTheirNextUpdate() {
        for (Schedule s : new Schedule[]{Schedule.GPIPE, Schedule.ONE_F_ONE_B}) {
            SchedulePolicy p = SchedulePolicy.of(s);
            assertTrue(p.mayForward(3, 3), s.id());
            assertFalse(p.mayForward(4, 3), s.id() + ": mini-batch 4 waits for the update of 3");
            assertFalse(p.keepsWeightVersions(), s.id());
            assertFalse(p.updatesEveryMicrobatch(), s.id());
        }
        assertTrue(SchedulePolicy.of(Schedule.GPIPE).lossAfterAllForwards());
        assertFalse(SchedulePolicy.of(Schedule.ONE_F_ONE_B).lossAfterAllForwards());
    }

    @Test
    void async_neverFlushes_andStashesWeights() {
        SchedulePolicy p = SchedulePolicy.of(Schedule.ASYNC);
        assertTrue(p.mayForward(9, 3));
        assertTrue(p.keepsWeightVersions());
        assertTrue(p.updatesEveryMicrobatch());
        assertFalse(p.lossAfterAllForwards());
    }
}
