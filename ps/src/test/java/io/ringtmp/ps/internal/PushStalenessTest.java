package io.ringtmp.ps.internal;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class PushStalenessTest {
    @Test
    void countsTheUpdatesBetweenAnsweringAPullAndTakingItsPush() {
        PushStaleness s = new PushStaleness(2);
        // asp: worker 0 gets step 0 at 0 updates, pulls step 1 (answered at once, still 0 updates),
        // then pushes step 0 when 0 updates are made; worker 1 pushes step 0 after one update.
        s.answered(0, 0, 0);
        s.answered(1, 0, 0);
        s.answered(0, 1, 0);
        s.pushed(0, 0, 0);
        s.pushed(1, 0, 1);
        // Worker 0's push of step 1 after 3 updates: its parameters (answered at 0) lack 3.
        s.pushed(0, 1, 3);
        assertEquals(3, s.count());
        assertEquals(4 / 3.0, s.mean(), 1e-12);
        assertEquals(3, s.max());
        long[] h = new long[PushStaleness.BUCKETS];
        h[0] = 1;
        h[1] = 1;
        h[3] = 1;
        assertArrayEquals(h, s.histogram());
        assertEquals("3 pushes applied 1.33 updates late on average (max 3; 0: 33%, 1: 33%, 2: 0%, 3+: 33%)", s.describe());
    }

    @Test
    void keepsTwoAnsweredPullsPerWorkerApartAndPutsVeryLatePushesInTheLastBucket() {
        PushStaleness s = new PushStaleness(1);
        s.answered(0, 4, 10);
        s.answered(0, 5, 30);
        s.pushed(0, 4, 40); // 30 late, against step 4's answer, not step 5's
        s.pushed(0, 5, 31);
        assertEquals(30, s.max());
        assertEquals(1, s.histogram()[1]);
        assertEquals(1, s.histogram()[PushStaleness.BUCKETS - 1]);
        assertEquals(2L, s.fields().get("pushes"));
    }

    @Test
    void reportsNoPushes() {
        assertEquals("no pushes", new PushStaleness(3).describe());
        assertEquals(0, new PushStaleness(3).mean());
    }
}
