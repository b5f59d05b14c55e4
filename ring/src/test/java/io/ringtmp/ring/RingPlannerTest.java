package io.ringtmp.ring;

import io.ringtmp.nn.ModelSpec;
import io.ringtmp.train.TrainConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RingPlannerTest {
    private static final TrainConfig CONFIG = TrainConfig.w1(ModelSpec.parse("mlp:20-24-16-12-4"), 2);
    private static final List<Partitioner.LayerProfile> PROFILE = List.of(
            new Partitioner.LayerProfile("fc1", 1e-3, 2016, 3072, 3072), new Partitioner.LayerProfile("relu1", 1e-4, 0, 3072, 3072),
            new Partitioner.LayerProfile("fc2", 1e-3, 1600, 2048, 2048), new Partitioner.LayerProfile("relu2", 1e-4, 0, 2048, 2048),
            new Partitioner.LayerProfile("fc3", 1e-3, 816, 1536, 1536), new Partitioner.LayerProfile("relu3", 1e-4, 0, 1536, 1536),
            new Partitioner.LayerProfile("fc4", 1e-3, 208, 512, 512));

    private static RingOptions opts(Schedule s, String partition, String profile) {
        return new RingOptions(s, 4, RingOptions.defaultInflight(s, 4, 2), partition, profile, 500, false, 10, true);
    }

    private static RingControl.JoinEntry entry(int id, double secondsPerLayer, RingControl.SavedStage... saved) {
        return new RingControl.JoinEntry(id, PROFILE.stream().map(l -> secondsPerLayer * l.seconds() / 1e-3).toList(), Long.MAX_VALUE / 4,
                List.of(saved));
    }

    @Test
    void freshRun_cutsTheModelAndCoversTheEpochs() {
        RingPlan p = RingPlanner.plan(List.of(entry(0, 1e-3), entry(1, 1e-3)), PROFILE, CONFIG, opts(Schedule.ONE_F_ONE_B, "auto", "measure"),
                n -> null, 10, false, null);
        assertNull(p.error());
        assertEquals(3, p.cuts().size());
        assertEquals(0, p.cuts().get(0));
        assertEquals(PROFILE.size(), p.cuts().get(2));
        assertEquals(0, p.resumeStep());
        assertEquals(10, p.stepsPerEpoch());
        assertEquals(20, p.scheduleSteps());
        assertEquals(20, p.totalSteps());
        assertEquals(2, p.stageLines().size());
        assertTrue(p.stageLines().get(0).startsWith("stage 0: layers fc1.."), p.describe());
    }

    @Test
    void maxSteps_shortensTheRunButNotTheSchedule() {
        RingPlan p = RingPlanner.plan(List.of(entry(0, 1e-3)), PROFILE, CONFIG.withMaxSteps(7), opts(Schedule.GPIPE, "auto", "measure"),
                n -> null, 10, false, null);
        assertEquals(7, p.totalSteps());
        assertEquals(20, p.scheduleSteps());
    }

    @Test
    void aSlowerNode_measured_getsTheLighterStage() {
        RingPlan even = RingPlanner.plan(List.of(entry(0, 1e-3), entry(1, 1e-3)), PROFILE, CONFIG, opts(Schedule.ASYNC, "auto", "measure"),
                n -> null, 10, false, null);
        RingPlan slow1 = RingPlanner.plan(List.of(entry(0, 1e-3), entry(1, 4e-3)), PROFILE, CONFIG, opts(Schedule.ASYNC, "auto", "measure"),
                n -> null, 10, false, null);
        assertTrue(slow1.cuts().get(1) > even.cuts().get(1), even.cuts() + " then " + slow1.cuts());
    }

    @Test
    void estimatedProfiles_takeTheSpecsSpeedHints() {
        RingPlan p = RingPlanner.plan(List.of(entry(0, 1e-3), entry(1, 1e-3)), PROFILE, CONFIG, opts(Schedule.ASYNC, "auto", "estimate"),
                n -> n == 1 ? 0.25 : 1.0, 10, false, null);
        RingPlan even = RingPlanner.plan(List.of(entry(0, 1e-3), entry(1, 1e-3)), PROFILE, CONFIG, opts(Schedule.ASYNC, "auto", "estimate"),
                n -> null, 10, false, null);
        assertTrue(p.cuts().get(1) > even.cuts().get(1), even.cuts() + " then " + p.cuts());
    }

    @Test
    void resume_takesTheNewestStepEveryStageSaved_withTheSavedCuts() {
        RingControl.JoinEntry a = entry(0, 1e-3, new RingControl.SavedStage(8, 0, 3), new RingControl.SavedStage(12, 0, 3),
                new RingControl.SavedStage(16, 0, 3));
        RingControl.JoinEntry b = entry(1, 1e-3, new RingControl.SavedStage(8, 3, 7), new RingControl.SavedStage(12, 3, 7));
        RingPlan p = RingPlanner.plan(List.of(a, b), PROFILE, CONFIG, opts(Schedule.ONE_F_ONE_B, "auto", "measure"), n -> null, 10, true,
                Path.of("ckpt"));
        assertNull(p.error());
        assertEquals(12, p.resumeStep());
        assertEquals(List.of(0, 3, 7), p.cuts());
    }

    @Test
    void resume_withoutACommonStep_isAPlanWithItsError() {
        RingControl.JoinEntry a = entry(0, 1e-3, new RingControl.SavedStage(8, 0, 3));
        RingControl.JoinEntry b = entry(1, 1e-3);
        RingPlan p = RingPlanner.plan(List.of(a, b), PROFILE, CONFIG, opts(Schedule.ONE_F_ONE_B, "auto", "measure"), n -> null, 10, true,
                Path.of("ckpt"));
        assertEquals("resume: no step at which every stage saved a checkpoint in ckpt (saved steps per node: node 0: [8] node 1: [])",
                p.error());
        assertTrue(p.cuts().isEmpty());
    }

    @Test
    void aBadManualPartition_isAPlanWithItsError() {
        RingPlan p = RingPlanner.plan(List.of(entry(0, 1e-3), entry(1, 1e-3)), PROFILE, CONFIG, opts(Schedule.GPIPE, "manual:3,3", "measure"),
                n -> null, 10, false, null);
        assertEquals("manual partition covers 6 layers, the model has 7", p.error());
    }

    @Test
    void thePlanTravelsThroughTheControlCodecUnchanged() {
        RingPlan p = RingPlanner.plan(List.of(entry(0, 1e-3), entry(1, 2e-3)), PROFILE, CONFIG, opts(Schedule.ASYNC, "auto", "measure"),
                n -> null, 10, false, null);
        RingControl back = RingControl.CODEC.decode(RingControl.CODEC.message(0, 7, new RingControl.Plan(p)));
        assertEquals(new RingControl.Plan(p), back);
    }
}
