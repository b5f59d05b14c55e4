package io.ringtmp.experiments;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExperimentsTest {
    private static Set<Object> values(List<RunSpec> runs, String setting) {
        Set<Object> v = new TreeSet<>();
        runs.forEach(r -> v.add(r.string(setting)));
        return v;
    }

    @Test
    void idle_quick_twoNodeCountsSixModesOneRepetition_onePsModeWhereOneWorker() {
        List<RunSpec> runs = new IdleExperiment().runs(Profile.QUICK);
        assertEquals(10, runs.size());
        assertEquals(Set.of("bsp"), values(runs.stream().filter(r -> r.string("system").equals("ps") && r.integer("nodes") == 2).toList(), "mode"));
        assertEquals(Set.of("estimate"), values(runs.stream().filter(r -> r.string("system").equals("ring")).toList(), "stageProfile"));
        assertEquals(Set.of("2", "3"), values(runs, "nodes"));
        assertEquals(Set.of("gpipe", "1f1b", "async", "bsp", "asp", "ssp"), values(runs, "mode"));
        assertEquals(Set.of(0), new HashSet<>(runs.stream().map(RunSpec::repetition).toList()));
    }

    @Test
    void idle_full_twoFourEightNodesThreeRepetitionsDistinctKeys() {
        List<RunSpec> runs = new IdleExperiment().runs(Profile.FULL);
        assertEquals(3 * 6 * 3, runs.size());
        assertEquals(Set.of("2", "4", "8"), values(runs, "nodes"));
        assertEquals(runs.size(), new HashSet<>(runs.stream().map(RunSpec::key).toList()).size());
        assertEquals(Set.of(1L, 2L, 3L), new HashSet<>(runs.stream().map(RunSpec::seed).toList()));
        assertEquals(Set.of("0.25"), values(runs, "nodeCpu"));
        assertEquals(Set.of("100"), values(runs, "linkMbit"));
        assertTrue(runs.stream().noneMatch(r -> r.settings().containsKey("stageProfile")), "full: the ring profiles its layers");
    }

    @Test
    void progress_quick_sixModes_full_threeRepetitions() {
        assertEquals(6, new ProgressExperiment().runs(Profile.QUICK).size());
        List<RunSpec> full = new ProgressExperiment().runs(Profile.FULL);
        assertEquals(18, full.size());
        assertEquals(full.size(), new HashSet<>(full.stream().map(RunSpec::key).toList()).size());
    }

    @Test
    void scaling_quick_baselineAndTwoNodes_full_w1HasNoRingAtEight() {
        List<RunSpec> quick = new ScalingExperiment().runs(Profile.QUICK);
        assertEquals(List.of("ring gpipe 1 0", "ring async 2 100", "ring 1f1b 2 100", "ps bsp 2 100"),
                quick.stream().map(r -> r.string("system") + " " + r.string("mode") + " " + r.string("nodes") + " " + r.string("linkMbit")).toList());
        List<RunSpec> full = new ScalingExperiment().runs(Profile.FULL);
        assertEquals(3 * (31 + 37), full.size());
        assertEquals(full.size(), new HashSet<>(full.stream().map(RunSpec::key).toList()).size());
        assertEquals(Set.of("1", "2", "4", "8"), values(full, "nodes"));
        assertEquals(Set.of("0", "100", "1000"), values(full, "linkMbit"));
        assertTrue(full.stream().noneMatch(r -> r.string("workload").equals("W1") && r.string("system").equals("ring") && r.integer("nodes") == 8));
        assertEquals(5, ScalingExperiment.layers("mlp:784-512-512-10"));
    }

    @Test
    void psServers_fewestLeavingAWorkerCountThatDividesTheBatch() {
        assertEquals(List.of(1, 1, 2, 4), List.of(2, 3, 4, 8).stream()
                .map(k -> TrainingRun.servers(new RunSpec(java.util.Map.of("nodes", k, "batch", 128), 1, 0))).toList());
        assertEquals(1, TrainingRun.servers(new RunSpec(java.util.Map.of("nodes", 8, "batch", 168), 1, 0)));
    }

    @Test
    void named_unknown_refusesNamingTheChoices() {
        assertEquals(5, Experiments.named("all").size());
        assertEquals("idle", Experiments.named("idle").get(0).name());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Experiments.named("speed"));
        assertEquals("experiment must be idle, progress, scaling, resilience, capacity or all, got speed", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Profile.parse("medium"));
    }
}
