package io.ringtmp.ps;

import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.NodeSpec;
import io.ringtmp.node.SpecException;
import io.ringtmp.nn.optim.OptimizerConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PsOptionsTest {
    private static ClusterSpec spec(int nodes, Map<String, String> options) {
        List<NodeSpec> ns = new ArrayList<>();
        for (int i = 0; i < nodes; i++) {
            ns.add(NodeSpec.of(i, "127.0.0.1", 7000 + i));
        }
        return new ClusterSpec(1, "a-secret-of-sixteen-chars", ClusterSpec.Mode.PS, options, "mlp:8-4-3",
                "synthetic:teacher?n=64&inputs=8&classes=3", 0, 0, "runs/x", ns);
    }

    private static String error(int nodes, Map<String, String> options) {
        return assertThrows(SpecException.class, () -> PsOptions.of(spec(nodes, options))).getMessage();
    }

    @Test
    void defaults_oneServerBspAndTheRestWorkers() {
        PsOptions o = PsOptions.of(spec(4, Map.of("batch", "12")));
        assertEquals(new PsOptions(1, 3, Consistency.BSP, 0, PsOptions.DEFAULT_CHUNK_FLOATS), o);
        assertTrue(o.isServer(0));
        assertEquals(2, o.workerIndex(3));
        assertEquals(3, o.workerNode(2));
        PsOptions ssp = PsOptions.of(spec(4, Map.of("batch", "12", "servers", "2", "consistency", "SSP")));
        assertEquals(PsOptions.DEFAULT_STALENESS, ssp.staleness());
        assertEquals(2, ssp.workers());
    }

    @Test
    void batchOfAnySize_isSplitIntoRunsOfRowsAsEvenAsCanBe() {
        PsOptions o = PsOptions.of(spec(4, Map.of("batch", "128"))); // the default batch on 3 workers
        assertEquals(List.of(43, 43, 42), List.of(o.rows(0, 128), o.rows(1, 128), o.rows(2, 128)));
        assertEquals(List.of(0, 43, 86), List.of(o.firstRow(0, 128), o.firstRow(1, 128), o.firstRow(2, 128)));
        assertEquals(List.of(4, 4, 4), List.of(o.rows(0, 12), o.rows(1, 12), o.rows(2, 12)));
    }

    @Test
    void asynchronousModes_defaultToNesterov_bspAndANamedOptimiserAsGiven() {
        assertTrue(PsOptions.trainConfig(spec(3, Map.of("consistency", "asp"))).optimizer().nesterov());
        assertTrue(PsOptions.trainConfig(spec(3, Map.of("consistency", "ssp"))).optimizer().nesterov());
        assertFalse(PsOptions.trainConfig(spec(3, Map.of())).optimizer().nesterov(), "bsp stays the trainer's");
        assertFalse(PsOptions.trainConfig(spec(3, Map.of("consistency", "asp", "optimizer", "sgd"))).optimizer().nesterov());
        assertEquals(OptimizerConfig.Kind.ADAM, PsOptions.trainConfig(spec(3, Map.of("consistency", "asp", "optimizer", "adam"))).optimizer().kind());
        assertFalse(PsOptions.trainConfig(spec(3, Map.of("consistency", "asp", "momentum", "0"))).optimizer().nesterov());
    }

    @Test
    void badOptions_areSpecExceptionsNamingTheOptionAndTheValue() {
        assertTrue(error(3, Map.of("consistency", "eventual")).contains("unknown consistency 'eventual'"));
        assertTrue(error(3, Map.of("consistency", "ssp", "staleness", "-1")).contains("staleness must be >= 0, got -1"));
        assertTrue(error(3, Map.of("servers", "3")).contains("at least one worker"));
        assertTrue(error(3, Map.of("servers", "0")).contains("servers must be at least 1"));
        assertTrue(error(3, Map.of("consistency", "asp", "staleness", "2")).contains("ssp only"));
        assertTrue(error(5, Map.of("batch", "3")).contains("batch 3 is smaller than the 4 workers"));
        assertTrue(error(3, Map.of("servers", "two")).contains("servers must be an integer"));
    }

    @Test
    void checkpointEveryAndResume_needACheckpointDir() {
        assertEquals("option checkpointEvery (10) needs option checkpointDir (where the nodes save their checkpoints)",
                error(3, Map.of("checkpointEvery", "10")));
        assertTrue(error(3, Map.of("resume", "true")).startsWith("option resume needs option checkpointDir"));
        PsOptions o = PsOptions.of(spec(3, Map.of("checkpointDir", "ckpt", "checkpointEvery", "10", "resume", "true")));
        assertEquals(2, o.workers());
    }
}
