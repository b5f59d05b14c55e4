package io.ringtmp.ring;

import io.ringtmp.nn.Sequential;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PartitionerTest {
    private static final Partitioner.MemoryModel MOMENTUM = new Partitioner.MemoryModel(3, 4);

    private static List<Partitioner.LayerProfile> equalLayers(int n) {
        List<Partitioner.LayerProfile> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(new Partitioner.LayerProfile("l" + i, 1.0, 1000, 100));
        }
        return l;
    }

    private static List<Partitioner.NodeProfile> nodes(double... speeds) {
        List<Partitioner.NodeProfile> n = new ArrayList<>();
        for (int i = 0; i < speeds.length; i++) {
            n.add(new Partitioner.NodeProfile(i, speeds[i], Long.MAX_VALUE));
        }
        return n;
    }

    @Test
    void equalLayers_equalNodes_splitEvenly() {
        Partitioner.Plan p = Partitioner.auto(equalLayers(8), nodes(1, 1, 1, 1), MOMENTUM);
        assertEquals(List.of(0, 2, 4, 6, 8), p.cuts());
        assertEquals(2.0, p.periodSeconds(), 1e-12);
    }

    @Test
    void slowerNode_getsALighterStage() {
        Partitioner.Plan p = Partitioner.auto(equalLayers(6), nodes(1, 0.5), MOMENTUM);
        assertEquals(List.of(0, 4, 6), p.cuts());
        assertEquals(4.0, p.periodSeconds(), 1e-12);
    }

    @Test
    void unevenLayers_minimiseTheSlowestStage() {
        List<Partitioner.LayerProfile> l = List.of(new Partitioner.LayerProfile("a", 5, 1, 1), new Partitioner.LayerProfile("b", 1, 1, 1),
                new Partitioner.LayerProfile("c", 1, 1, 1), new Partitioner.LayerProfile("d", 1, 1, 1), new Partitioner.LayerProfile("e", 4, 1, 1));
        Partitioner.Plan p = Partitioner.auto(l, nodes(1, 1, 1), MOMENTUM);
        assertEquals(5.0, p.periodSeconds(), 1e-12, "the heaviest layer alone sets the period");
        assertEquals(1, p.cuts().get(1), "layer a gets a stage of its own");
    }

    @Test
    void memoryBudget_movesLayersOffASmallNode() {
        List<Partitioner.NodeProfile> n = List.of(new Partitioner.NodeProfile(0, 1, 2 * (3 * 1000 + 4 * 100)),
                new Partitioner.NodeProfile(1, 1, Long.MAX_VALUE));
        Partitioner.Plan p = Partitioner.auto(equalLayers(8), n, MOMENTUM);
        assertEquals(List.of(0, 2, 8), p.cuts(), "node 0 holds at most two layers");
        assertTrue(p.stageBytes().get(0) <= n.get(0).memoryBytes());
    }

    @Test
    void modelThatFitsNowhere_isRefusedWithSizes() {
        List<Partitioner.NodeProfile> n = List.of(new Partitioner.NodeProfile(0, 1, 100), new Partitioner.NodeProfile(1, 1, 100));
        PartitionException e = assertThrows(PartitionException.class, () -> Partitioner.auto(equalLayers(4), n, MOMENTUM));
        assertTrue(e.getMessage().contains("MiB") && e.getMessage().contains("2 stages"), e.getMessage());
    }

    @Test
    void manual_isCheckedAndPriced() {
        Partitioner.Plan p = Partitioner.plan("manual:3,2,2", equalLayers(7), nodes(1, 1, 1), MOMENTUM);
        assertEquals(List.of(0, 3, 5, 7), p.cuts());
        assertEquals(3.0, p.periodSeconds(), 1e-12);
        assertTrue(assertThrows(PartitionException.class, () -> Partitioner.plan("manual:3,2", equalLayers(7), nodes(1, 1, 1), MOMENTUM))
                .getMessage().contains("2 stages for 3 nodes"));
        assertTrue(assertThrows(PartitionException.class, () -> Partitioner.plan("manual:3,2,3", equalLayers(7), nodes(1, 1, 1), MOMENTUM))
                .getMessage().contains("covers 8 layers, the model has 7"));
        assertTrue(assertThrows(PartitionException.class, () -> Partitioner.plan("manual:3,x,3", equalLayers(7), nodes(1, 1, 1), MOMENTUM))
                .getMessage().contains("'x'"));
        assertTrue(assertThrows(PartitionException.class, () -> Partitioner.plan("greedy", equalLayers(7), nodes(1, 1, 1), MOMENTUM))
                .getMessage().contains("expected auto or manual"));
    }

    @Test
    void realModel_estimatedFromFlops_everyStageNonEmpty_andDescribed() {
        Sequential m = io.ringtmp.train.Workload.W2.spec().build(1);
        List<Partitioner.LayerProfile> l = Partitioner.estimate(m, 64, 1e11);
        Partitioner.Plan p = Partitioner.auto(l, nodes(1, 1, 1, 1), MOMENTUM);
        assertEquals(5, p.cuts().size());
        for (int k = 0; k < 4; k++) {
            assertTrue(p.cuts().get(k + 1) > p.cuts().get(k));
        }
        // The three 4096x4096 layers dominate: each gets a stage of its own.
        assertTrue(p.periodSeconds() < 1.2 * l.get(2).seconds() + l.get(3).seconds(), p.describe(l));
        assertTrue(p.describe(l).contains("stage 3: layers"), p.describe(l));
    }
}
