package io.ringtmp.experiments;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The capacity section and claim 5 on {@code src/test/resources/report-capacity}: at depth 2 the
 * ring on 2 and 4 nodes trains 2 M and 4 M parameters against the ps worker's 1 M; at depth 4 the
 * ring on 2 nodes only 0.8 M (less than the ps worker), on 4 nodes 3 M; one unemulated ps run (9 M,
 * no cap) that must not count.
 */
class CapacityReportTest {
    private static Report load() throws Exception {
        return Report.load(Path.of(CapacityReportTest.class.getResource("/report-capacity/capacity.jsonl").toURI()).getParent());
    }

    @Test
    void verdict_perK_dependsOnTheDepth_uncappedRunsLeftOut() throws Exception {
        Report.Verdict v = load().verdicts().get(4);
        assertEquals(Report.CLAIMS.get(5), v.claim());
        assertEquals("holds at K = 4; depends on the depth at K = 2 (holds at depth 2, not at depth 4)", v.outcome());
        assertEquals(Report.CAPACITY_RULE + " (64 MiB heap per node).", v.rule());
    }

    @Test
    void table_ratioToThePsWorkerAndPerK() throws Exception {
        String md = load().markdown();
        assertTrue(md.contains("| 2 | ring 1f1b 4 | 1 | 2048 (grid top: at least) | 4,000,000 | 4,000,000 .. 4,000,000 | 1,000,000 | 4.00 | 1.00 |"), md);
        assertTrue(md.contains("| 4 | ring 1f1b 2 | 1 | 512 | 800,000 | 800,000 .. 800,000 | 500,000 | 0.80 | 0.40 |"), md);
        assertTrue(md.contains("| 4 | ps bsp (1 server, 1 worker) | 1 | 512 | 1,000,000 |"), md);
        assertTrue(md.contains("7 ok runs (0 failed), 1 repetition(s) per setting; 6 on emulated devices"), md);
        assertEquals(1, load().plotCount());
    }

    @Test
    void runs_quickTwoSeries_fullRingAtEightOnlyWhereDeep() {
        List<RunSpec> quick = new CapacityExperiment().runs(Profile.QUICK);
        assertEquals(List.of("ring 2", "ps 2"), quick.stream().map(r -> r.string("system") + " " + r.string("nodes")).toList());
        assertEquals("256 512 1024 2048", quick.get(0).string("widths"));
        List<RunSpec> full = new CapacityExperiment().runs(Profile.FULL);
        assertEquals(33, full.size());
        assertTrue(full.stream().noneMatch(r -> r.integer("nodes") == 8 && r.integer("depth") == 2));
        assertEquals("mlp:784-512-512-10", CapacityExperiment.model(2, 512));
        assertEquals(784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10, CapacityExperiment.parameters(2, 512));
    }
}
