package io.ringtmp.ring;

import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.NodeSpec;
import io.ringtmp.node.SpecException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RingOptionsTest {
    private static ClusterSpec spec(int nodes, Map<String, String> options) {
        List<NodeSpec> ns = new ArrayList<>();
        for (int i = 0; i < nodes; i++) {
            ns.add(NodeSpec.of(i, "127.0.0.1", 9000 + i));
        }
        return new ClusterSpec(1, "ring-options-test-secret", ClusterSpec.Mode.RING, options, "mlp:20-16-4",
                "synthetic:blobs?n=512&inputs=20&classes=4", 0, 0, "runs/x", ns);
    }

    @Test
    void defaults_oneFOneB_fourMicrobatches_inflightIsTheNodeCount() {
        RingOptions o = RingOptions.from(spec(3, Map.of()));
        assertEquals(Schedule.ONE_F_ONE_B, o.schedule());
        assertEquals(4, o.microbatches());
        assertEquals(3, o.inflight());
        assertEquals(32, o.microbatchRows(io.ringtmp.node.TrainingOptions.config(spec(3, Map.of()))));
    }

    @Test
    void defaultInflight_gpipeM_oneFOneBK_asyncTwiceK() {
        assertEquals(8, RingOptions.from(spec(3, Map.of("schedule", "gpipe", "microbatches", "8"))).inflight());
        assertEquals(3, RingOptions.from(spec(3, Map.of("schedule", "1f1b"))).inflight());
        RingOptions async = RingOptions.from(spec(3, Map.of("schedule", "async")));
        assertEquals(6, async.inflight());
        assertEquals(List.of(6, 5, 4), List.of(async.slots(0, 3), async.slots(1, 3), async.slots(2, 3)));
        assertEquals(4, RingOptions.from(spec(3, Map.of("schedule", "async", "inflight", "4"))).inflight(), "an explicit value wins");
    }

    @Test
    void trace_isOffByDefault_andTakesTrueOrFalseOnly() {
        assertEquals(false, RingOptions.from(spec(2, Map.of())).trace());
        assertEquals(true, RingOptions.from(spec(2, Map.of("trace", "true"))).trace());
        assertTrue(assertThrows(SpecException.class, () -> RingOptions.from(spec(2, Map.of("trace", "yes"))))
                .getMessage().contains("option trace must be true or false, got 'yes'"));
    }

    @Test
    void slots_followTheScheduleAndStage() {
        RingOptions gpipe = RingOptions.from(spec(4, Map.of("schedule", "gpipe", "microbatches", "8")));
        assertEquals(8, gpipe.slots(0, 4));
        assertEquals(8, gpipe.slots(3, 4));
        RingOptions f = RingOptions.from(spec(4, Map.of("schedule", "1f1b", "microbatches", "8")));
        assertEquals(List.of(4, 3, 2, 1), List.of(f.slots(0, 4), f.slots(1, 4), f.slots(2, 4), f.slots(3, 4)));
        RingOptions small = RingOptions.from(spec(4, Map.of("schedule", "1f1b", "microbatches", "2")));
        assertEquals(2, small.slots(0, 4), "never more slots than microbatches in a flushed mini-batch");
    }

    @Test
    void badOptions_areRefusedNamingTheOption() {
        assertTrue(assertThrows(SpecException.class, () -> RingOptions.from(spec(2, Map.of("schedule", "zigzag"))))
                .getMessage().contains("unknown schedule 'zigzag'"));
        assertTrue(assertThrows(SpecException.class, () -> RingOptions.from(spec(2, Map.of("microbatches", "5"))))
                .getMessage().contains("divide the batch (128)"));
        assertTrue(assertThrows(SpecException.class, () -> RingOptions.from(spec(2, Map.of("schedule", "gpipe", "inflight", "2"))))
                .getMessage().contains("inflight must be >= 4"));
        assertTrue(assertThrows(SpecException.class, () -> RingOptions.from(spec(2, Map.of("partition", "half"))))
                .getMessage().contains("partition must be auto or manual"));
        assertTrue(assertThrows(SpecException.class, () -> RingOptions.from(spec(2, Map.of("batch", "lots"))))
                .getMessage().contains("option batch must be an integer, got 'lots'"));
    }

    @Test
    void widest_isTheLargestActivation() {
        assertEquals(512, RingProgram.widest(io.ringtmp.nn.ModelSpec.parse("mlp:20-512-16-4")));
        assertEquals(784, RingProgram.widest(io.ringtmp.nn.ModelSpec.parse("mlp:784-512-10")));
    }

    @Test
    void profiler_measuresEveryLayerAndCountsParametersWithoutBuilding() {
        var model = io.ringtmp.nn.ModelSpec.parse("mlp:20-16-4");
        var p = Profiler.measure(model, 8, 1, 1_000_000L, java.util.OptionalDouble.empty());
        assertEquals(List.of("fc1", "relu1", "fc2"), p.stream().map(Partitioner.LayerProfile::name).toList());
        assertTrue(p.stream().allMatch(l -> l.seconds() > 0));
        // Under a quota: timed in CPU time, scaled to the quota's rate.
        var q = Profiler.measure(model, 8, 1, 1_000_000L, java.util.OptionalDouble.of(0.5));
        assertEquals(List.of("fc1", "relu1", "fc2"), q.stream().map(Partitioner.LayerProfile::name).toList());
        assertTrue(q.stream().allMatch(l -> l.seconds() > 0));
        assertEquals(model.build(1).parameterCount(), Profiler.parameterCount(model));
    }
}
