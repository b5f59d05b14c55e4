package io.ringtmp.experiments;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The resilience section and claim 4 on {@code src/test/resources/report-resilience}: two kills
 * that the async ring completes within 0.2 points of its fault-free accuracy and the bsp
 * parameter server does not complete; one 10 s stop that both complete, the ring 0.6 points
 * below its fault-free run.
 */
class ResilienceReportTest {
    private static Report load() throws Exception {
        return Report.load(Path.of(ResilienceReportTest.class.getResource("/report-resilience/resilience.jsonl").toURI()).getParent());
    }

    @Test
    void verdict_perFault_fromCompletionAndAccuracy() throws Exception {
        Report.Verdict v = load().verdicts().get(3);
        assertEquals(Report.CLAIMS.get(4), v.claim());
        assertEquals("holds for kill (ring 100%, ps 0% of runs completed); did not hold for stop (ring 100%, ps 100% of runs completed), "
                + "accuracy off by more than 0.5 points", v.outcome());
        assertEquals(ResilienceReport.RULE + ".", v.rule());
    }

    @Test
    void table_completionDetectionAndAccuracyAgainstTheFaultFreeRuns() throws Exception {
        String md = load().markdown();
        assertTrue(md.contains("| ring async | kill | 2 | 2 of 2 | 3,055 ms | 3,500 ms | 6 | 40.0 / 10.0 / 30.0 | 0.9748 | -0.12 |"), md);
        assertTrue(md.contains("| ps bsp | kill | 2 | 0 of 2 | 3,035 ms | - | - | 40.0 / 10.0 / - | - | - |"), md);
        assertTrue(md.contains("| ring async | stop | 1 | 1 of 1 |"), md);
        assertTrue(md.contains("| ring async | none | 1 | 1 of 1 | - | - | - | - / - / - | 0.9760 | - |"), md);
        assertEquals(0, load().plotCount());
    }

    @Test
    void runs_quickOneKillEach_fullEveryModeAndFaultWithFaultFreeRuns() {
        List<RunSpec> quick = new ResilienceExperiment().runs(Profile.QUICK);
        assertEquals(List.of("ring async kill:1@1500ms", "ps bsp kill:1@1500ms"),
                quick.stream().map(r -> r.string("system") + " " + r.string("mode") + " " + r.string("fault")).toList());
        List<RunSpec> full = new ResilienceExperiment().runs(Profile.FULL);
        assertEquals(5 * 4 * 3, full.size());
        assertEquals(full.size(), new java.util.HashSet<>(full.stream().map(RunSpec::key).toList()).size());
        assertEquals(15, full.stream().filter(r -> r.string("fault").equals("none")).count());
    }
}
