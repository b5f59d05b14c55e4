package io.ringtmp.experiments;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scaling section and claim 3's verdict on {@code src/test/resources/report-scaling}: one
 * workload W (target accuracy 0.9), a one-device baseline of 100 samples/s reaching the target in
 * 60 s; at K = 2 the ring wins at 100 Mbit/s and loses at 1000 (ps 195 against 190 samples/s); at
 * K = 4 it wins at both rates (ps never reaches the target at 100 Mbit/s); at K = 8 (100 Mbit/s
 * only) async runs 650 samples/s against the best ps mode's 300; one failed ps ssp run.
 */
class ScalingReportTest {
    private static Report load() throws Exception {
        return Report.load(Path.of(ScalingReportTest.class.getResource("/report-scaling/scaling.jsonl").toURI()).getParent());
    }

    @Test
    void table_speedUpEfficiencyAndTimeToTarget_againstTheOneDeviceBaseline() throws Exception {
        String md = load().markdown();
        assertTrue(md.contains("| - | 1 | one device (ring, 1 node) | 1 | 100 | 100 .. 100 | 1.00x | 100.0% | 60.0 s | 1 of 1 | 1.00x |"), md);
        // async at K = 2, 100 Mbit/s: 170, 180, 200 -> median 180: 1.8x, efficiency 1.8 / 2 = 90%; 60 s / 35 s = 1.71x.
        assertTrue(md.contains("| 100 Mbit/s | 2 | ring async | 3 | 180 | 170 .. 200 | 1.80x | 90.0% | 35.0 s | 3 of 3 | 1.71x |"), md);
        assertTrue(md.contains("| 100 Mbit/s | 4 | ps bsp | 1 | 200 | 200 .. 200 | 2.00x | 50.0% | never | 0 of 1 | - |"), md);
        assertTrue(md.contains("| 100 Mbit/s | 8 | ring async | 1 | 650 | 650 .. 650 | 6.50x | 81.3% | 10.0 s | 1 of 1 | 6.00x |"), md);
        assertTrue(md.contains("15 ok runs (1 failed)"), md);
    }

    @Test
    void verdict_perNodeCount_dependsOnTheLinkWhereTheRingWinsOnOneRateOnly() throws Exception {
        Report.Verdict v = load().verdicts().get(2);
        assertEquals(Report.CLAIMS.get(3), v.claim());
        assertEquals("holds at K = 4, 8; depends on the workload or link at K = 2 (holds for W at 100 Mbit/s; not for W at 1000 Mbit/s); "
                + "the best ring schedule's speed-up over one device: K = 2: 1.80x on W at 100 Mbit/s, 1.90x on W at 1000 Mbit/s; "
                + "K = 4: 3.00x on W at 100 Mbit/s, 3.20x on W at 1000 Mbit/s; K = 8: 6.50x on W at 100 Mbit/s", v.outcome());
        assertTrue(v.rule().startsWith(Report.SCALING_RULE + ". Aim, "), v.rule());
        assertTrue(v.rule().endsWith("W at 100 Mbit/s: met (async 6.50x one device, 2.17x the best ps)."), v.rule());
    }

    @Test
    void verdicts_fiveClaims_theOthersNotMeasuredYet() throws Exception {
        List<Report.Verdict> vs = load().verdicts();
        assertEquals(5, vs.size());
        assertEquals("not measured yet", vs.get(0).outcome());
        assertEquals("decided by the idle experiment, which has no results in this directory.", vs.get(0).rule());
        assertEquals("not measured yet", vs.get(3).outcome());
        assertEquals("decided by the resilience experiment, which has no results in this directory.", vs.get(3).rule());
    }

    @Test
    void plots_speedUpAndTimeToTarget() throws Exception {
        Report r = load();
        assertEquals(2, r.plotCount());
        assertEquals(2, r.html().split("<img", -1).length - 1);
    }
}
