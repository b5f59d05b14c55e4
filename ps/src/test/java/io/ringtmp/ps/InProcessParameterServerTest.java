package io.ringtmp.ps;

import com.fasterxml.jackson.databind.JsonNode;
import io.ringtmp.data.DataSources;
import io.ringtmp.nn.Parameter;
import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.NodeProgram;
import io.ringtmp.node.TrainingOptions;
import io.ringtmp.tensor.Tensor;
import io.ringtmp.testing.FaultyNode;
import io.ringtmp.testing.InProcessCluster;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.MessageKind;
import io.ringtmp.train.Checkpoint;
import io.ringtmp.train.Trainer;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The parameter server's protocol with real nodes on threads of this JVM over the in-process
 * transport: bsp with two workers equals the single-node trainer after 20 steps, as cli's
 * ParameterServerIT asserts with node processes.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class InProcessParameterServerTest {
    private static final String DATA = "synthetic:teacher?n=1200&test=200&inputs=24&classes=5&seed=3";
    private static final String MODEL = "mlp:24-40-30-5";

    private static Map<String, String> options(int servers, String optimizer, String chunkFloats) {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("servers", Integer.toString(servers));
        o.put("consistency", "bsp");
        o.put("batch", "32");
        o.put("epochs", "2");
        o.put("maxSteps", "20");
        o.put("lr", optimizer.equals("adam") ? "0.01" : "0.05");
        o.put("optimizer", optimizer);
        o.put("momentum", "0.9");
        o.put("seed", "11");
        o.put("chunkFloats", chunkFloats);
        return o;
    }

    /** The largest |weight in modelFile - weight of the single-node trainer with the spec's options| after 20 steps. */
    private static float againstTrainer(ClusterSpec s, Path modelFile, Path dir) {
        Checkpoint ps = Checkpoint.read(modelFile);
        assertEquals(20, ((Number) ps.header().get("step")).intValue());
        Trainer t = new Trainer(TrainingOptions.config(s), DataSources.open(DATA, dir, msg -> { }));
        t.run();
        assertEquals(20, t.step());
        float max = 0;
        for (Parameter p : t.model().parameters()) {
            Tensor got = ps.tensors().get(p.name());
            assertTrue(got != null, "the PS model has " + p.name());
            max = Math.max(max, got.maxAbsDiff(p.value()));
        }
        return max;
    }

    // 2,385 parameters in chunks of at most 500: cuts inside tensors, several messages per shard.
    // 3 workers share the batch of 32 unevenly (11, 11, 10 rows).
    @ParameterizedTest(name = "{0} servers, {1} workers, {2}, chunks of {3}")
    @CsvSource({"1, 2, sgd, 500", "2, 2, sgd, 500", "2, 2, adam, 1048576", "2, 3, sgd, 500"})
    void bsp_equalsTheSingleNodeTrainerAfter20Steps(int servers, int workers, String optimizer, String chunkFloats,
                                                    @TempDir Path dir) throws Exception {
        int nodes = servers + workers;
        ClusterSpec spec = InProcessCluster.spec(ClusterSpec.Mode.PS, nodes, dir, MODEL, DATA, options(servers, optimizer, chunkFloats));
        try (InProcessCluster cluster = InProcessCluster.start(spec, ParameterServer.FACTORY)) {
            assertEquals(Collections.nCopies(nodes, 0), cluster.awaitExitCodes(60, TimeUnit.SECONDS), cluster.logs());
            float diff = againstTrainer(spec, dir.resolve(ParameterServer.MODEL_FILE), dir);
            assertTrue(diff <= 1e-5f, "max |w_ps - w_trainer| = " + diff);
            for (int worker = servers; worker < nodes; worker++) {
                assertEquals(20, cluster.events(worker, "step").size(), "worker node " + worker + " reports every step");
            }
            for (int server = 0; server < servers; server++) {
                assertEquals(20, cluster.events(server, "step").size(), "server " + server + ": one line per bsp step");
                List<JsonNode> late = cluster.events(server, "staleness");
                assertEquals(1, late.size(), "server " + server + " reports how late it applied pushes");
                assertEquals(20L * workers, late.get(0).get("pushes").asLong(), late.get(0).toString());
                assertEquals(0, late.get(0).get("maxUpdatesLate").asLong(), "bsp applies every push to the parameters it was computed on");
            }
        }
    }

    /**
     * A worker that pushes a gradient chunk of the wrong size is cut off as a failed node: the
     * server refuses the push with a line naming it and what it sent, goes on with the other
     * worker, and the run completes; the faulty worker, told so, leaves with exit 4.
     */
    @org.junit.jupiter.api.Test
    void workerPushingAChunkOfTheWrongSize_isCutOff_andTheRunGoesOnWithoutIt(@TempDir Path dir) throws Exception {
        ClusterSpec spec = InProcessCluster.spec(ClusterSpec.Mode.PS, 3, dir, MODEL, DATA, options(1, "sgd", "500"));
        NodeProgram.Factory faulty = FaultyNode.altering(ParameterServer.FACTORY, 2, m -> m.kind() == MessageKind.PUSH && m.step() == 5,
                m -> new Message(m.kind(), m.sender(), m.runId(), m.step(), m.microbatch(), Tensor.zeros(m.tensor().size() + 3), m.bytes())
                        .withEpoch(m.epoch()));
        try (InProcessCluster cluster = InProcessCluster.start(spec, faulty)) {
            List<Integer> codes = cluster.awaitExitCodes(60, TimeUnit.SECONDS);
            String logs = cluster.logs();
            assertEquals(List.of(0, 0, 4), codes, logs);
            assertTrue(logs.contains("node 2 broke the protocol: worker 1, step 5, chunk 0: gradient of "), logs);
            assertTrue(logs.contains("cutting off node 2"), logs);
            assertEquals("node 2 broke the protocol", cluster.events(0, "peer-failed").get(0).get("reason").asText().substring(0, 25));
            assertEquals(20, ((Number) Checkpoint.read(dir.resolve(ParameterServer.MODEL_FILE)).header().get("step")).intValue());
        }
    }

    /**
     * A worker dies mid-run (node 2, or node 1, the evaluator): the server goes on with the live
     * workers (the bsp barrier and the asp count shrink to them), the survivors share the batch
     * from their next step, the first live one evaluates and writes the final weights, and every
     * other node completes with exit 0.
     */
    @ParameterizedTest(name = "{0}: worker node {1} of 3 killed")
    @CsvSource({"bsp, 2", "asp, 3", "bsp, 1"})
    void workerKilled_theOthersTakeItsRowsOver_andTheRunCompletes(String consistency, int victim, @TempDir Path dir) throws Exception {
        Map<String, String> o = options(1, "sgd", "500");
        o.put("consistency", consistency);
        o.put("maxSteps", "600");
        o.put("epochs", "20");
        ClusterSpec spec = InProcessCluster.spec(ClusterSpec.Mode.PS, 4, dir, MODEL, DATA, o, 4_000);
        try (InProcessCluster cluster = InProcessCluster.start(spec, ParameterServer.FACTORY)) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (cluster.events(victim, "step").size() < 5) {
                assertTrue(System.nanoTime() < deadline, "no 10 steps:\n" + cluster.logs());
                Thread.sleep(2);
            }
            cluster.kill(victim);
            List<Integer> codes = cluster.awaitExitCodes(90, TimeUnit.SECONDS);
            String logs = cluster.logs();
            for (int n = 0; n < 4; n++) {
                if (n != victim) {
                    assertEquals(0, codes.get(n), "node " + n + " completes: " + codes + "\n" + logs);
                }
            }
            assertTrue(logs.contains("server 0: worker " + (victim - 1) + " (node " + victim + ") failed: going on with the 2 live workers"), logs);
            int evaluator = victim == 1 ? 2 : 1;
            if (consistency.equals("bsp")) { // under asp the survivors may be done before the death is detected
                assertTrue(logs.contains("worker " + (evaluator - 1) + ": 2 live workers from step "), logs);
            }
            Checkpoint model = Checkpoint.read(dir.resolve(ParameterServer.MODEL_FILE));
            assertEquals(600, ((Number) model.header().get("step")).intValue());
            for (int n = 1; n < 4; n++) {
                if (n != victim) {
                    assertEquals(600, cluster.events(n, "step").size(), "worker node " + n + " made every step:\n" + logs);
                }
            }
            List<JsonNode> epochs = cluster.events(evaluator, "epoch");
            assertTrue(!epochs.isEmpty() && epochs.get(epochs.size() - 1).get("testAccuracy").asDouble() > 0.3, epochs + "\n" + logs);
        }
    }
}
