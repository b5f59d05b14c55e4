package io.ringtmp.ring;

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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ring failover on the in-process transport: a node is killed mid-run, its buddy takes its
 * layers over from its replica, the survivors roll back to a step they all hold and replay
 * node 0's data order from there, and with a synchronous schedule the run ends with the
 * single-node trainer's weights. The first node (the feeder), a middle one and the last (whose
 * buddy is its predecessor) are each killed once.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class InProcessFailoverTest {
    private static final String DATA = "synthetic:blobs?n=1536&test=256&inputs=20&classes=4&seed=3";
    private static final int FAILURE_TIMEOUT_MS = 4_000; // a loaded CI machine starves threads for a second or two

    /**
     * The wider model re-balances after the takeover; it trains for fewer steps because over 240 its
     * ring and single-node runs drift apart by themselves (0.31, with or without a failure: float
     * sums of microbatches in another order, amplified), while 40 steps agree to 5e-7.
     */
    @ParameterizedTest(name = "{0}: node {1} of 4 killed, {2}, {3} steps")
    @CsvSource({"gpipe, 2, mlp:20-24-16-12-4, 240", "1f1b, 0, mlp:20-24-16-12-4, 240", "1f1b, 3, mlp:20-24-16-12-4, 240",
            "1f1b, 1, mlp:20-48-48-48-48-48-4, 40"})
    void killedNode_buddyTakesOver_andTheRunEndsWithTheSingleNodeWeights(String schedule, int victim, String model, int steps,
                                                                         @TempDir Path dir) throws Exception {
        Path ckpt = dir.resolve("ckpt");
        ClusterSpec spec = spec(dir, model, schedule, 5, steps, ckpt);
        try (InProcessCluster ring = InProcessCluster.start(spec, RingProgram.FACTORY)) {
            awaitSteps(ring, victim, 12);
            ring.kill(victim);
            List<Integer> codes = ring.awaitExitCodes(120, TimeUnit.SECONDS);
            List<Integer> survivors = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                if (i != victim) {
                    survivors.add(i);
                    assertEquals(0, codes.get(i), "node " + i + " completes the run:\n" + ring.logs());
                }
            }
            int feeder = victim == 0 ? 1 : 0;
            List<JsonNode> takeovers = ring.events(feeder, "takeover");
            assertEquals(1, takeovers.size(), ring.logs());
            JsonNode t = takeovers.get(0);
            assertEquals(List.of(victim), List.of(t.get("failed").get(0).asInt()));
            assertEquals(3, t.get("members").size());
            assertEquals(0, t.get("rollbackStep").asLong() % 5, "rolls back to a replica point: " + t);
            assertTrue(t.get("rollbackStep").asLong() >= 0 && t.get("replayedSteps").asLong() <= 2 * 5 + 1, t.toString());
            assertFalse(ring.events(feeder, "epoch").isEmpty(), "the feeder evaluates: " + ring.logs());
            if (model.contains("48-48")) {
                // Eleven layers of which five equal dense ones: node 2, running node 1's layers too, hands some on.
                List<Integer> merged = new ArrayList<>();
                JsonNode before = ring.events(0, "partition").get(0).get("cuts");
                for (int k = 0; k < before.size(); k++) {
                    if (k != victim + 1) {
                        merged.add(before.get(k).asInt());
                    }
                }
                List<Integer> after = new ArrayList<>();
                t.get("cuts").forEach(c -> after.add(c.asInt()));
                assertFalse(after.equals(merged), "re-balanced: " + merged + " -> " + after + "\n" + ring.logs());
            }

            Trainer reference = new Trainer(TrainingOptions.config(spec), DataSources.open(DATA, dir, s -> { }));
            reference.run();
            assertEquals(steps, reference.step());
            float worst = maxDiff(reference.model().parameters(), stageWeights(ckpt, survivors, steps));
            assertTrue(worst <= 1e-5f, schedule + ", node " + victim + " killed: max abs weight difference " + worst + "\n" + ring.logs());
        }
    }

    /**
     * Node 2 is killed, the ring goes on without it, node 2 is started afresh with its id and asks
     * to rejoin: the feeder takes it at its next replica point, node 2 gets layers back from its
     * neighbours, the ring is four nodes again, and the run still ends with the single-node weights.
     */
    @ParameterizedTest(name = "{0}: node {1} killed and restarted")
    @CsvSource({"gpipe, 2", "1f1b, 0"})
    void killedNode_restartedWithItsId_rejoins_andTheRunEndsWithTheSingleNodeWeights(String schedule, int victim, @TempDir Path dir)
            throws Exception {
        String model = "mlp:20-24-16-12-4";
        int steps = 600;
        Path ckpt = dir.resolve("ckpt");
        ClusterSpec spec = spec(dir, model, schedule, 20, steps, ckpt);
        try (InProcessCluster ring = InProcessCluster.start(spec, RingProgram.FACTORY)) {
            int feeder = victim == 0 ? 1 : 0;
            long deadline = awaitSteps(ring, victim, 12);
            ring.kill(victim);
            while (ring.events(feeder, "takeover").isEmpty()) {
                assertTrue(System.nanoTime() < deadline + TimeUnit.SECONDS.toNanos(30), "no takeover:\n" + ring.logs());
                Thread.sleep(10);
            }
            ring.restart(victim);
            List<Integer> codes = ring.awaitExitCodes(120, TimeUnit.SECONDS);
            assertEquals(List.of(0, 0, 0, 0), codes, ring.logs());
            List<JsonNode> rejoins = ring.events(victim, "rejoin");
            rejoins.addAll(ring.events(feeder, "rejoin"));
            assertEquals(1, rejoins.size(), "one rejoin event, from the feeder after it:\n" + ring.logs());
            JsonNode r = rejoins.get(0);
            assertEquals(List.of(victim), List.of(r.get("joined").get(0).asInt()));
            assertEquals(4, r.get("members").size(), r.toString());
            assertTrue(r.get("rollbackStep").asLong() < steps, "rejoined before the end: " + r + "\n" + ring.logs());

            Trainer reference = new Trainer(TrainingOptions.config(spec), DataSources.open(DATA, dir, s -> { }));
            reference.run();
            float worst = maxDiff(reference.model().parameters(), stageWeights(ckpt, List.of(0, 1, 2, 3), steps));
            assertTrue(worst <= 1e-5f, schedule + ", node " + victim + " killed and back: max abs weight difference " + worst + "\n" + ring.logs());
        }
    }

    /**
     * Two adjacent nodes die together: the second held the first's replica, so the replicas cannot
     * repair the ring, and the two survivors fall back to the newest checkpoint that holds every
     * layer (the dead nodes' files too: one checkpoint directory), replay from it, and with a
     * synchronous schedule still end with the single-node weights. Without checkpoints every
     * survivor stops with the reason.
     */
    @ParameterizedTest(name = "{0}: nodes {1} and {2} killed together, checkpoints {3}")
    @CsvSource({"gpipe, 1, 2, true", "1f1b, 2, 3, true", "1f1b, 1, 2, false"})
    void adjacentNodesKilled_fallBackToTheNewestCheckpoint_orStopWithTheReason(String schedule, int a, int b, boolean checkpoints,
                                                                             @TempDir Path dir) throws Exception {
        String model = "mlp:20-24-16-12-4";
        int steps = 240;
        Path ckpt = dir.resolve("ckpt");
        ClusterSpec spec = spec(dir, model, schedule, 5, steps, ckpt, checkpoints ? 20 : 0);
        try (InProcessCluster ring = InProcessCluster.start(spec, RingProgram.FACTORY)) {
            awaitSteps(ring, a, 45);
            ring.kill(a);
            ring.kill(b);
            List<Integer> codes = ring.awaitExitCodes(120, TimeUnit.SECONDS);
            List<Integer> survivors = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                if (i != a && i != b) {
                    survivors.add(i);
                }
            }
            if (!checkpoints) {
                for (int i : survivors) {
                    assertEquals(3, codes.get(i), "node " + i + " stops:\n" + ring.logs());
                }
                assertTrue(ring.logs().contains("nodes 1 and 2 failed together: node 2 held node 1's replica, and there are no periodic checkpoints"),
                        ring.logs());
                return;
            }
            for (int i : survivors) {
                assertEquals(0, codes.get(i), "node " + i + " completes the run:\n" + ring.logs());
            }
            List<JsonNode> takeovers = ring.events(0, "takeover");
            assertEquals(1, takeovers.size(), ring.logs());
            JsonNode t = takeovers.get(0);
            assertTrue(t.get("fromCheckpoint").asBoolean(), t.toString());
            assertEquals(2, t.get("members").size(), t.toString());
            assertEquals(0, t.get("rollbackStep").asLong() % 20, "rolls back to a checkpoint: " + t);
            assertTrue(t.get("rollbackStep").asLong() >= 20, t.toString());
            assertTrue(ring.logs().contains("falling back to the newest checkpoint every layer has"), ring.logs());

            Trainer reference = new Trainer(TrainingOptions.config(spec), DataSources.open(DATA, dir, s -> { }));
            reference.run();
            float worst = maxDiff(reference.model().parameters(), stageWeights(ckpt, survivors, steps));
            assertTrue(worst <= 1e-5f, schedule + ", nodes " + a + " and " + b + " killed: max abs weight difference " + worst + "\n" + ring.logs());
        }
    }

    /**
     * A neighbour that breaks the protocol (node 1 sends node 2 an activation one feature too
     * wide at step 12) is cut off like a dead one: node 2 refuses it with a line naming node 1
     * and what it sent, the ring fails node 1 over and ends with the single-node weights, and
     * node 1 is told it is out. No healthy node goes down with it.
     */
    @org.junit.jupiter.api.Test
    void neighbourSendingATensorOfTheWrongShape_isCutOffAndFailedOver(@TempDir Path dir) throws Exception {
        String model = "mlp:20-24-16-12-4";
        int steps = 120;
        Path ckpt = dir.resolve("ckpt");
        ClusterSpec spec = spec(dir, model, "gpipe", 5, steps, ckpt);
        NodeProgram.Factory faulty = FaultyNode.altering(RingProgram.FACTORY, 1, m -> m.kind() == MessageKind.ACTIVATION && m.step() == 12,
                m -> new Message(m.kind(), m.sender(), m.runId(), m.step(), m.microbatch(), Tensor.zeros(m.tensor().rows(), m.tensor().cols() + 1),
                        m.bytes()).withEpoch(m.epoch())); // one feature too wide
        try (InProcessCluster ring = InProcessCluster.start(spec, faulty)) {
            List<Integer> codes = ring.awaitExitCodes(120, TimeUnit.SECONDS);
            for (int i : List.of(0, 2, 3)) {
                assertEquals(0, codes.get(i), "node " + i + " completes the run:\n" + ring.logs());
            }
            assertEquals(4, codes.get(1), "node 1 is out of the run: " + codes + "\n" + ring.logs());
            String logs = ring.logs();
            assertTrue(logs.contains("node 1 broke the protocol: sent an activation of shape [8, "), logs);
            assertTrue(logs.contains("for microbatch 48, where stage 2 (layers ["), logs);
            assertTrue(logs.contains("cutting off node 1"), logs);
            JsonNode t = ring.events(0, "takeover").get(0);
            assertEquals(1, t.get("failed").get(0).asInt(), t.toString());

            Trainer reference = new Trainer(TrainingOptions.config(spec), DataSources.open(DATA, dir, x -> { }));
            reference.run();
            float worst = maxDiff(reference.model().parameters(), stageWeights(ckpt, List.of(0, 2, 3), steps));
            assertTrue(worst <= 1e-5f, "max abs weight difference " + worst + "\n" + logs);
        }
    }

    /** Waits (at most 60 s) until {@code node} has trained {@code steps} steps; returns that 60 s deadline. */
    private static long awaitSteps(InProcessCluster ring, int node, int steps) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (ring.events(node, "step").size() < steps) {
            assertTrue(System.nanoTime() < deadline, "node " + node + " never reached step " + steps + ":\n" + ring.logs());
            Thread.sleep(2);
        }
        return deadline;
    }

    private static ClusterSpec spec(Path dir, String model, String schedule, int epochs, int steps, Path ckpt) {
        return spec(dir, model, schedule, epochs, steps, ckpt, 0);
    }

    /** Four nodes, replicas every 5 steps, a checkpoint of every stage in {@code ckpt} every {@code checkpointEvery} steps (0: at the end). */
    private static ClusterSpec spec(Path dir, String model, String schedule, int epochs, int steps, Path ckpt, int checkpointEvery) {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("schedule", schedule);
        o.put("batch", "32");
        o.put("microbatches", "4");
        o.put("epochs", Integer.toString(epochs));
        o.put("maxSteps", Integer.toString(steps));
        o.put("seed", "5");
        o.put("profile", "estimate");
        o.put("checkpointDir", ckpt.toString());
        o.put("replicaEvery", "5");
        if (checkpointEvery > 0) {
            o.put("checkpointEvery", Integer.toString(checkpointEvery));
        }
        return InProcessCluster.spec(ClusterSpec.Mode.RING, 4, dir, model, DATA, o, FAILURE_TIMEOUT_MS);
    }

    /** The survivors' checkpoints of {@code step}, merged: parameter name → values (a taker's holds its merged layers). */
    private static Map<String, float[]> stageWeights(Path ckpt, List<Integer> nodes, long step) {
        Map<String, float[]> w = new HashMap<>();
        for (int k : nodes) {
            Checkpoint cp = Checkpoint.read(ckpt.resolve("stage-" + k).resolve(String.format("step-%09d.rtck", step)));
            cp.tensors().forEach((name, t) -> {
                if (!name.startsWith("optimizer.")) {
                    w.put(name, t.toArray());
                }
            });
        }
        return w;
    }

    private static float maxDiff(List<Parameter> reference, Map<String, float[]> mine) {
        assertEquals(reference.size(), mine.size(), "parameters: " + mine.keySet());
        float worst = 0;
        for (Parameter p : reference) {
            float[] a = p.value().toArray(), b = mine.get(p.name());
            for (int i = 0; i < a.length; i++) {
                worst = Math.max(worst, Math.abs(a[i] - b[i]));
            }
        }
        return worst;
    }
}
