package io.ringtmp.cli.bench;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PeerCheckTest {
    @Test
    void belowEightyPercent_flaggedWithoutARatio() {
        PeerCheck c = PeerCheck.of("w1_throughput.py --threads 2", 16000, 29000, "results.md");
        assertEquals(PeerCheck.Status.BELOW, c.status());
        assertFalse(c.ratioAllowed());
        assertEquals("peer pytorch W1 2 threads: 16,000 samples/s, 55% of its results.md figure 29,000: below 80%, no ratio reported "
                + "(is the machine busy? python3-torch just installed?)", c.line("W1 2 threads"));
    }

    @Test
    void atOrAboveEightyPercent_ratioAllowed() {
        PeerCheck at = PeerCheck.of("w", 8000, 10000, "results.md");
        assertEquals(PeerCheck.Status.OK, at.status());
        assertTrue(at.ratioAllowed());
        assertEquals("peer pytorch W2 1 thread: 8,000 samples/s, 80% of its results.md figure 10,000", at.line("W2 1 thread"));
        assertEquals(PeerCheck.Status.BELOW, PeerCheck.of("w", 7999, 10000, "results.md").status());
        assertEquals(PeerCheck.Status.OK, PeerCheck.of("w", 15000, 10000, "results.md").status(), "faster than published is fine");
    }

    @Test
    void noReference_unchecked_noRatioAndTheReason() {
        PeerCheck c = PeerCheck.of("ddp_allreduce.py --procs 4", 5000, Double.NaN, "results.md has no row for ddp_allreduce.py --procs 4");
        assertEquals(PeerCheck.Status.UNCHECKED, c.status());
        assertFalse(c.ratioAllowed(), "an unchecked peer may be running at half its speed");
        assertTrue(c.line("DDP 4").contains("5,000 samples/s, unchecked: results.md has no row for ddp_allreduce.py --procs 4; "
                + "no ratio reported"), c.line("DDP 4"));
        assertTrue(c.line("DDP 4").contains("--peer-results FILE"), "says how to give it a figure: " + c.line("DDP 4"));
        assertEquals("the peer's figure could not be checked against a published one: results.md has no row for ddp_allreduce.py --procs 4",
                c.noRatioReason());
        assertEquals("", PeerCheck.of("w", 9000, 10000, "results.md").noRatioReason());
        assertNull(c.toMap().get("fractionOfReference"));
    }

    @Test
    void failedPeer_noRatio() {
        PeerCheck c = PeerCheck.of("w", Double.NaN, 10000, "results.md");
        assertEquals(PeerCheck.Status.FAILED, c.status());
        assertFalse(c.ratioAllowed());
        assertNull(c.toMap().get("samplesPerSec"));
    }

    @Test
    void toMap_recordsTheFiguresForResultsJson() {
        Map<String, Object> m = PeerCheck.of("w1_throughput.py --threads 1", 15000, 20000, "results.md, row 'W1'").toMap();
        assertEquals("below", m.get("status"));
        assertEquals(15000.0, m.get("samplesPerSec"));
        assertEquals(20000.0, m.get("referenceSamplesPerSec"));
        assertEquals(0.75, (Double) m.get("fractionOfReference"), 1e-12);
        assertEquals(0.8, m.get("threshold"));
        assertEquals("w1_throughput.py --threads 1", m.get("command"));
        assertEquals("results.md, row 'W1'", m.get("reference"));
    }
}
