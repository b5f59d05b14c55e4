package io.ringtmp.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PsBenchTest {
    /** Writes {@code count} step lines of {@code wallMs} and {@code idleMs} each as node {@code id}'s metrics. */
    private static void steps(Path run, int id, int count, double wallMs, double idleMs) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("{\"event\":\"start\",\"node\":" + id + "}");
        for (int i = 0; i < count; i++) {
            lines.add("{\"event\":\"step\",\"step\":" + i + ",\"wallMs\":" + wallMs + ",\"idleMs\":" + idleMs + "}");
        }
        Files.write(run.resolve("node-" + id + ".jsonl"), lines, StandardCharsets.UTF_8);
    }

    @Test
    void figures_workersWithUnequalSteps_poolEveryWorkersTimedSteps(@TempDir Path run) throws IOException {
        steps(run, 0, 9, 100, 80);  // the server
        steps(run, 1, 4, 100, 10);  // worker 1: 3 timed steps, 300 ms
        steps(run, 2, 3, 200, 100); // worker 2: 2 timed steps, 400 ms

        PsBench.Figures f = PsBench.figures(run, 1, 2, 128, 1);

        assertEquals(List.of(3L, 2L), f.timedSteps());
        assertEquals(5 * 128 / 0.7, f.samplesPerSec(), 1e-6, "global batch × Σ steps ÷ Σ wall");
        assertEquals((0.1 + 0.5) / 2, f.workerIdle(), 1e-9);
        assertEquals(0.8, f.serverIdle(), 1e-9);
        String line = f.line("W1 ps S=1 W=2 asp global", run);
        assertTrue(line.startsWith("W1 ps S=1 W=2 asp global: 914.3 samples/s, idle workers 0.30 servers 0.80"), line);
        assertTrue(line.contains("timed steps per worker [3, 2]"), line);
    }

    @Test
    void figures_equalSteps_globalBatchTimesStepsOverMeanWall(@TempDir Path run) throws IOException {
        steps(run, 0, 5, 100, 50);
        steps(run, 1, 5, 100, 0);
        steps(run, 2, 5, 300, 0);

        PsBench.Figures f = PsBench.figures(run, 1, 2, 64, 1);

        assertEquals(List.of(4L, 4L), f.timedSteps());
        assertEquals(4 * 64 / ((0.4 + 1.2) / 2), f.samplesPerSec(), 1e-6);
    }

    @Test
    void figures_noTimedSteps_zeroNotInfinite(@TempDir Path run) throws IOException {
        steps(run, 0, 1, 100, 50);
        steps(run, 1, 1, 100, 0);

        PsBench.Figures f = PsBench.figures(run, 1, 1, 64, 1);

        assertEquals(List.of(0L), f.timedSteps());
        assertEquals(0, f.samplesPerSec());
    }
}
