package io.ringtmp.ring.internal;

import io.ringtmp.nn.ModelSpec;
import io.ringtmp.nn.optim.OptimizerConfig;
import io.ringtmp.ring.RingOptions;
import io.ringtmp.ring.Schedule;
import io.ringtmp.ring.Stage;
import io.ringtmp.train.CheckpointException;
import io.ringtmp.train.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A stage's checkpoints on resume: a torn newest file leaves the older one, and a file of another run is refused naming what differs. */
class StageCheckpointsTest {
    private static final ModelSpec MODEL = ModelSpec.parse("mlp:6-5-3");

    private static TrainConfig config(long seed, int batch) {
        return new TrainConfig(MODEL, 2, batch, 0.05, OptimizerConfig.sgd(0.9, false, 0), "constant", seed, 1, 0);
    }

    private static RingOptions opts(Schedule s) {
        return new RingOptions(s, 4, 0, "auto", "estimate", 256, false, 10, true);
    }

    private static Stage stage(long seed) {
        return new Stage(MODEL.build(seed, 0, 3), OptimizerConfig.sgd(0.9, false, 0), 4, 2, true, true);
    }

    @Test
    void tornNewestFile_isSkippedWithALine_andKeptOnDisk_theOlderOneIsUsed(@TempDir Path dir) throws IOException {
        Stage s = stage(1);
        StageCheckpoints.save(dir, 0, 4, 10, s, config(1, 32), opts(Schedule.GPIPE), 0, 3);
        StageCheckpoints.save(dir, 0, 4, 20, s, config(1, 32), opts(Schedule.GPIPE), 0, 3);
        Path newest = StageCheckpoints.file(dir, 0, 20);
        long size = Files.size(newest);
        try (RandomAccessFile f = new RandomAccessFile(newest.toFile(), "rw")) {
            f.setLength(size / 2); // a crash mid-write
        }
        List<String> lines = new ArrayList<>();
        List<StageCheckpoints.Saved> saved = StageCheckpoints.list(dir, 0, lines::add);
        assertEquals(List.of(10L), saved.stream().map(StageCheckpoints.Saved::step).toList());
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("stage 0: skipping " + newest), lines.get(0));
        assertTrue(lines.get(0).endsWith("an older checkpoint is used"), lines.get(0));
        assertTrue(Files.exists(newest), "the torn file is left for the user to look at");

        Stage fresh = stage(2);
        StageCheckpoints.restore(dir, 0, 4, 10, fresh, config(1, 32), opts(Schedule.GPIPE), 0, 3);
        assertArrayEquals(s.layers().parameters().get(0).value().toArray(), fresh.layers().parameters().get(0).value().toArray());
    }

    @Test
    void checkpointOfAnotherRun_isRefusedNamingTheField(@TempDir Path dir) {
        StageCheckpoints.save(dir, 0, 4, 10, stage(1), config(1, 32), opts(Schedule.GPIPE), 0, 3);
        assertEquals("seed 1, this run has seed 7", refusal(dir, 4, config(7, 32), Schedule.GPIPE));
        assertEquals("batch 32, this run has batch 64", refusal(dir, 4, config(1, 64), Schedule.GPIPE));
        assertEquals("schedule gpipe, this run has schedule 1f1b", refusal(dir, 4, config(1, 32), Schedule.ONE_F_ONE_B));
        assertEquals("node count 4, this run has node count 3", refusal(dir, 3, config(1, 32), Schedule.GPIPE));
    }

    /** What the refusal says differs: the part between "with " and the advice. */
    private static String refusal(Path dir, int stages, TrainConfig config, Schedule schedule) {
        String m = assertThrows(CheckpointException.class,
                () -> StageCheckpoints.restore(dir, 0, stages, 10, stage(1), config, opts(schedule), 0, 3)).getMessage();
        assertTrue(m.contains("a resume needs the run's own checkpoints"), m);
        return m.substring(m.indexOf("saved by a run with ") + "saved by a run with ".length(), m.indexOf(": a resume"));
    }
}
