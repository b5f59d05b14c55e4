package io.ringtmp.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StepCheckpointsTest {
    @Test
    void listsStepsByName_oldestFirst_andKeepsTheNewest(@TempDir Path dir) throws Exception {
        assertEquals(List.of(), StepCheckpoints.steps(dir.resolve("absent")));
        for (long s : new long[]{20, 5, 100, 12}) {
            Files.writeString(StepCheckpoints.file(dir, s), "not read: names only");
        }
        Files.writeString(dir.resolve("step-7.rtck.tmp"), "a write cut short");
        Files.writeString(dir.resolve("model.rtck"), "another kind of file");
        assertEquals(dir.resolve("step-000000005.rtck"), StepCheckpoints.file(dir, 5));
        assertEquals(List.of(5L, 12L, 20L, 100L), StepCheckpoints.steps(dir));
        StepCheckpoints.keepNewest(dir, 2);
        assertEquals(List.of(20L, 100L), StepCheckpoints.steps(dir));
        assertTrue(Files.exists(dir.resolve("model.rtck")), "other files stay");
        assertTrue(Files.exists(dir.resolve("step-7.rtck.tmp")));
    }
}
