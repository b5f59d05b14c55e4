package io.ringtmp.experiments;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The report of {@code src/test/resources/report}: idle at K = 2 and 4 (three repetitions of ring
 * gpipe and async, ps bsp and asp; one failed ps ssp run) and progress (ring async against ps bsp).
 */
class ReportTest {
    @TempDir
    Path out;

    private static Path results() throws Exception {
        return Path.of(ReportTest.class.getResource("/report/idle.jsonl").toURI()).getParent();
    }

    private static Path copyOf(Path dir, String... files) throws Exception {
        for (String f : files) {
            Files.copy(results().resolve(f), dir.resolve(f));
        }
        return dir;
    }

    @Test
    void idleTable_mediansAndSpreadsOverRepetitions() throws Exception {
        String md = Report.load(results()).markdown();
        // gpipe at K=2: 10%, 50%, 20% -> median 20%, spread 10..50%; max-worker idle is 5 points more.
        assertTrue(md.contains("| 2 | ring gpipe | 3 | 20.0% | 10.0% .. 50.0% | 25.0% | 1280 |"), md);
        assertTrue(md.contains("| 4 | ps asp | 3 | 20.0% | 18.0% .. 22.0% |"), md);
        assertTrue(md.contains("Machine: 2 cores, Test CPU. Commit: 0123abc."), md);
        assertTrue(md.contains("24 ok runs (1 failed), 3 repetition(s) per setting"), md);
        assertTrue(md.contains("Failed: system=ps,mode=ssp,nodes=4"), md);
        assertTrue(md.contains("Settings varied: system = ps, ring; mode = asp, async, bsp, gpipe; nodes = 2, 4."), md);
    }

    @Test
    void idleVerdict_ringBestAgainstEveryPsMode_perNodeCount() throws Exception {
        Report r = Report.load(results());
        Report.Verdict v = r.verdicts().get(0);
        // K=2: ring async 6% < ps asp 11%; K=4: ring async 25% > ps asp 20%.
        assertEquals("holds at K = 2; does not hold at K = 4", v.outcome());
        assertEquals(Report.IDLE_RULE + ".", v.rule());
        String md = r.markdown();
        assertTrue(md.indexOf("## Verdicts") < md.indexOf("Claim 1") && md.indexOf("Claim 1") < md.indexOf("## Idle"), md);
        assertTrue(md.contains("- Claim 1 (the ring's workers idle less than the parameter server's): **holds at K = 2; does not hold at K = 4**. Rule: "
                + Report.IDLE_RULE), md);
    }

    @Test
    void verdictOutcome_tieDoesNotHold_missingSystemUndecided() {
        assertEquals("holds at K = 2, 8; does not hold at K = 4; undecided at K = 16 (a system has no ok run)",
                Report.outcome(List.of(2, 8), List.of(4), List.of(16)));
        assertEquals("undecided (no ok runs)", Report.outcome(List.of(), List.of(), List.of()));
    }

    @Test
    void progressVerdict_timeToTheHighestMedianFinalLoss() throws Exception {
        Report r = Report.load(results());
        // Target: ps bsp's final loss 1.5; ring async's 5-step mean reaches it at step 8 (4.0 s), ps bsp at step 10 (10.0 s).
        assertEquals("holds (ring 4.0 s, best ps 10.0 s to loss 1.5000)", r.verdicts().get(1).outcome());
        assertTrue(r.markdown().contains("| ring async | 1 | 1.1000 | 1.1000 .. 1.1000 | 5.0 s | 4.0 s | 4.0 s .. 4.0 s |"), r.markdown());
    }

    @Test
    void timeTo_neverReached_lastTime() {
        List<double[]> c = new ArrayList<>();
        for (int s = 1; s <= 4; s++) {
            c.add(new double[] {s, s * 2.0, 3.0});
        }
        assertEquals(8.0, Report.timeTo(c, 1.0), 0);
        assertEquals(2.0, Report.timeTo(c, 3.0), 0);
    }

    @Test
    void html_embedsOnePngPerPlot_selfContained() throws Exception {
        Report r = Report.load(results());
        assertEquals(3, r.plotCount()); // idle; loss against step; loss against time
        Path html = r.write(out);
        String page = Files.readString(html);
        Matcher m = Pattern.compile("<img alt=\"[^\"]*\" src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"").matcher(page);
        int images = 0;
        while (m.find()) {
            byte[] png = Base64.getDecoder().decode(m.group(1));
            assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(png, 4));
            images++;
        }
        assertEquals(r.plotCount(), images);
        assertEquals(images, page.split("<img", -1).length - 1);
        assertTrue(!page.contains("http://") && !page.contains("https://"), "no external resources");
        assertTrue(page.contains("<strong>holds at K = 2; does not hold at K = 4</strong>"));
        assertTrue(Files.exists(out.resolve("report.md")));
    }

    @Test
    void idleOnly_onePlot_oneVerdict() throws Exception {
        Report r = Report.load(copyOf(out, "idle.jsonl"));
        assertEquals(5, r.verdicts().size());
        assertEquals(List.of("not measured yet", "not measured yet", "not measured yet"),
                r.verdicts().subList(1, 4).stream().map(Report.Verdict::outcome).toList());
        assertEquals(1, r.plotCount());
        assertEquals(1, r.html().split("<img", -1).length - 1);
    }

    @Test
    void load_noResults_refusesNamingTheFiles() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Report.load(out));
        assertTrue(e.getMessage().contains("none of idle.jsonl, progress.jsonl, scaling.jsonl, resilience.jsonl, capacity.jsonl"), e.getMessage());
    }
}
