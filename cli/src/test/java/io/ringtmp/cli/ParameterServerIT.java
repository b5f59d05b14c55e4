package io.ringtmp.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.ringtmp.data.DataSources;
import io.ringtmp.data.TrainTest;
import io.ringtmp.nn.Parameter;
import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.TrainingOptions;
import io.ringtmp.ps.ParameterServer;
import io.ringtmp.tensor.Tensor;
import io.ringtmp.train.Checkpoint;
import io.ringtmp.train.TrainConfig;
import io.ringtmp.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The parameter server with real node processes on loopback: bsp equals the single-node trainer,
 * also across a checkpoint and resume; every node reports its steps and bytes per link; a killed
 * server stops every worker.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ParameterServerIT {
    static final String DATA = "synthetic:teacher?n=1200&test=200&inputs=24&classes=5&seed=3";
    static final String MODEL = "mlp:24-40-30-5";

    static ClusterSpec spec(int nodes, Path dir, String model, String data, Map<String, String> options,
                            int heartbeatMs, int timeoutMs) throws IOException {
        return NodeProcesses.spec(ClusterSpec.Mode.PS, nodes, dir.resolve("run"), model, data, options, heartbeatMs, timeoutMs);
    }

    static List<Process> startAll(ClusterSpec s, Path dir) throws IOException {
        return NodeProcesses.startAll(s, dir);
    }

    static void awaitSuccess(List<Process> ps, Path dir, long seconds) throws Exception {
        try {
            for (int i = 0; i < ps.size(); i++) {
                assertTrue(ps.get(i).waitFor(seconds, TimeUnit.SECONDS), "node " + i + " finished");
                assertEquals(0, ps.get(i).exitValue(), "node " + i + ": " + log(dir, i));
            }
        } finally {
            ps.forEach(Process::destroyForcibly);
        }
    }

    static String log(Path dir, int node) throws IOException {
        return NodeProcesses.log(dir, node);
    }

    static List<JsonNode> events(Path runDir, int node, String event) throws IOException {
        return NodeProcesses.events(runDir, node, event);
    }

    static Map<String, String> options(String servers, String optimizer, String chunkFloats) {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("servers", servers);
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

    /** Runs the cluster and returns the largest |PS weight - trainer weight| over all parameters. */
    private static float bspAgainstTrainer(Path dir, int nodes, Map<String, String> options) throws Exception {
        ClusterSpec s = spec(nodes, dir, MODEL, DATA, options, 200, 5000);
        awaitSuccess(startAll(s, dir), dir, 120);
        return againstTrainer(s, dir.resolve("run").resolve(ParameterServer.MODEL_FILE));
    }

    /** The largest |weight in modelFile - weight of the single-node trainer with the spec's options| after 20 steps. */
    static float againstTrainer(ClusterSpec s, Path modelFile) {
        Checkpoint ps = Checkpoint.read(modelFile);
        assertEquals(20, ((Number) ps.header().get("step")).intValue());
        TrainConfig config = TrainingOptions.config(s);
        TrainTest data = DataSources.open(DATA, Path.of("datasets"), msg -> { });
        Trainer t = new Trainer(config, data);
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

    @Test
    void bsp_twoServersTwoWorkers_equalsTheSingleNodeTrainerAfter20Steps(@TempDir Path dir) throws Exception {
        // 2,455 parameters in chunks of at most 500: cuts inside tensors, several messages per shard.
        float diff = bspAgainstTrainer(dir, 4, options("2", "sgd", "500"));
        assertTrue(diff <= 1e-5f, "max |w_ps - w_trainer| = " + diff);
        Path run = dir.resolve("run");
        for (int worker : new int[]{2, 3}) {
            List<JsonNode> steps = events(run, worker, "step");
            assertEquals(20, steps.size(), "worker node " + worker + " reports every step");
            long[] received = new long[2];
            for (JsonNode j : steps) {
                for (String server : new String[]{"0", "1"}) {
                    assertTrue(j.get("bytesSent").get(server).asLong() > 0, "push to server " + server + ": " + j);
                    received[Integer.parseInt(server)] += j.get("bytesReceived").get(server).asLong();
                }
                assertTrue(j.get("wallMs").asDouble() >= j.get("idleMs").asDouble(), j.toString());
                assertTrue(j.has("loss"), j.toString());
            }
            // Bytes count when they arrive: a streamed answer of step t+1 may land in step t's
            // line or the next, so a single line may show none from a server; the sum may not.
            for (int server = 0; server < 2; server++) {
                assertTrue(received[server] > 19L * 4 * 1200, "worker node " + worker + ": parameters of 20 steps from server "
                        + server + " (about 1,227 floats each), got " + received[server] + " bytes");
            }
        }
        for (int server : new int[]{0, 1}) {
            List<JsonNode> rounds = events(run, server, "step");
            assertEquals(20, rounds.size(), "server " + server + ": one line per bsp step");
            assertTrue(rounds.get(5).get("bytesReceived").get("2").asLong() > 4 * 1200, "a push carries half the model: " + rounds.get(5));
            List<JsonNode> late = events(run, server, "staleness");
            assertEquals(1, late.size(), "server " + server + " reports how late it applied pushes");
            assertEquals(40, late.get(0).get("pushes").asLong(), late.get(0).toString());
            assertEquals(0, late.get(0).get("maxUpdatesLate").asLong(), "bsp applies every push to the parameters it was computed on");
        }
        List<JsonNode> epochs = events(run, 2, "epoch");
        assertEquals(1, epochs.size(), "worker 0 evaluates after the (partial) epoch");
        assertTrue(epochs.get(0).get("testAccuracy").asDouble() > 0.2, epochs.get(0).toString());
        assertTrue(log(dir, 2).contains("epoch 1: test accuracy"), log(dir, 2));
    }

    @Test
    void bsp_oneServerOneWorkerWithAdam_equalsTheSingleNodeTrainer(@TempDir Path dir) throws Exception {
        float diff = bspAgainstTrainer(dir, 2, options("1", "adam", "1048576"));
        assertTrue(diff <= 1e-5f, "max |w_ps - w_trainer| = " + diff);
    }

    private static List<String> files(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /**
     * bsp, S=2, W=2: 12 steps with a checkpoint every 4, server 1's newest checkpoint lost, a
     * resume to step 20 from the newest step both servers hold (8) ends with the single-node
     * trainer's 20-step weights (the uninterrupted run; bsp equals it, see above), with a cosine
     * rate and momentum so that a lost rate position or optimiser state would show. Then, with
     * server 1's checkpoints all gone, a resume fails naming the directory and the servers' steps.
     */
    @Test
    void bsp_resumeFromTheNewestStepEveryServerSaved_endsWithTheUninterruptedWeights(@TempDir Path dir) throws Exception {
        Path ckpt = dir.resolve("ckpt");
        Map<String, String> o = options("2", "sgd", "500");
        o.put("lrSchedule", "cosine");
        o.put("checkpointDir", ckpt.toString());
        o.put("checkpointEvery", "4");
        o.put("maxSteps", "12");
        Path first = Files.createDirectories(dir.resolve("first"));
        awaitSuccess(startAll(spec(4, first, MODEL, DATA, o, 200, 5000), first), first, 120);
        for (int server : new int[]{0, 1}) {
            assertEquals(List.of("step-000000008.rtck", "step-000000012.rtck"), files(ckpt.resolve("server-" + server)),
                    "server " + server + " keeps its two newest (4, 8 and 12 saved)");
        }
        Files.delete(ckpt.resolve("server-1").resolve("step-000000012.rtck"));

        o.put("maxSteps", "20");
        o.put("resume", "true");
        Path second = Files.createDirectories(dir.resolve("second"));
        ClusterSpec resumed = spec(4, second, MODEL, DATA, o, 200, 5000);
        awaitSuccess(startAll(resumed, second), second, 120);
        for (int worker : new int[]{2, 3}) {
            String out = log(second, worker);
            assertTrue(out.contains("resuming at step 8, the newest step every server saved (server 0 [8, 12], server 1 [8])"), out);
            List<JsonNode> steps = events(second.resolve("run"), worker, "step");
            assertEquals(12, steps.size(), "worker node " + worker + " makes steps 8..19");
            assertEquals(9, steps.get(0).get("step").asLong(), steps.get(0).toString());
        }
        for (int server : new int[]{0, 1}) {
            assertTrue(log(second, server).contains("server " + server + ": resumed from step 8"), log(second, server));
            assertEquals(12, events(second.resolve("run"), server, "step").size(), "server " + server + ": rounds of steps 8..19");
            assertEquals(List.of("step-000000016.rtck", "step-000000020.rtck"), files(ckpt.resolve("server-" + server)));
        }
        float diff = againstTrainer(resumed, ckpt.resolve(ParameterServer.MODEL_FILE));
        assertTrue(diff <= 1e-5f, "max |w_resumed - w_uninterrupted| = " + diff);

        try (Stream<Path> gone = Files.list(ckpt.resolve("server-1"))) {
            for (Path f : gone.toList()) {
                Files.delete(f);
            }
        }
        Path third = Files.createDirectories(dir.resolve("third"));
        List<Process> ps = startAll(spec(4, third, MODEL, DATA, o, 200, 5000), third);
        try {
            for (int i = 0; i < ps.size(); i++) {
                assertTrue(ps.get(i).waitFor(60, TimeUnit.SECONDS), "node " + i + " ended: " + NodeProcesses.logs(third, 4));
                // The workers' error ends the run for every node: none exits as if it had completed.
                assertEquals(1, ps.get(i).exitValue(), "node " + i + " exits 1: " + NodeProcesses.logs(third, 4));
            }
        } finally {
            ps.forEach(Process::destroyForcibly);
        }
        String expected = "resume: no step at which every server saved its shard in " + ckpt
                + " (saved steps: server 0: [16, 20]; server 1: [])";
        assertTrue(log(third, 2).contains(expected) || log(third, 3).contains(expected), NodeProcesses.logs(third, 4));
        assertTrue(events(third.resolve("run"), 2, "step").isEmpty(), "no worker trains");
    }

    @Test
    void killedServer_stopsEveryWorkerWithExitCode3WithinTheFailureTimeout(@TempDir Path dir) throws Exception {
        int timeoutMs = 1500, heartbeatMs = 200;
        Map<String, String> o = options("2", "sgd", "1048576");
        o.put("consistency", "asp");
        o.put("epochs", "100000");
        o.put("maxSteps", "0");
        ClusterSpec s = spec(4, dir, MODEL, DATA, o, heartbeatMs, timeoutMs);
        List<Process> ps = startAll(s, dir);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (events(dir.resolve("run"), 3, "step").size() < 5 || events(dir.resolve("run"), 2, "step").size() < 5) {
                assertTrue(System.nanoTime() < deadline, "workers did not start training: " + log(dir, 2));
                Thread.sleep(50);
            }
            long killedAt = System.currentTimeMillis();
            ps.get(0).destroyForcibly();
            for (int worker : new int[]{2, 3}) {
                assertTrue(ps.get(worker).waitFor(timeoutMs + 20_000L, TimeUnit.MILLISECONDS), "worker node " + worker + " stopped");
                String out = log(dir, worker);
                assertEquals(3, ps.get(worker).exitValue(), "worker node " + worker + " exits 3: " + out);
                // Its own detector, or a neighbour that detected it first ("failed 0"), whichever came first.
                assertTrue(out.contains("neighbour 0 failed") || out.contains("node 0 failed (reported by neighbour"), out);
                List<JsonNode> failed = new java.util.ArrayList<>();
                events(dir.resolve("run"), worker, "peer-failed").stream().filter(e -> e.get("peer").asInt() == 0).forEach(failed::add);
                events(dir.resolve("run"), worker, "node-failed").stream().filter(e -> e.get("failedNode").asInt() == 0).forEach(failed::add);
                assertTrue(!failed.isEmpty(), "worker node " + worker + " learnt of server 0's death: " + out);
                long after = failed.stream().mapToLong(e -> e.get("timeMs").asLong()).min().orElseThrow() - killedAt;
                assertTrue(after <= timeoutMs + 3L * heartbeatMs + 1000, "detected after " + after + " ms (timeout " + timeoutMs + ")");
            }
        } finally {
            ps.forEach(Process::destroyForcibly);
        }
    }
}
