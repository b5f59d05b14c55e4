package io.ringtmp.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code launch --fault}: real node processes killed and paused by the launcher, and what the summary records. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class FaultIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL = "mlp:20-24-16-12-4";
    private static final String DATA = "synthetic:blobs?n=1536&test=256&inputs=20&classes=4&seed=3";

    private static JsonNode summary(Path runsDir) throws Exception {
        try (var l = Files.list(runsDir)) {
            List<Path> runs = l.toList();
            assertEquals(1, runs.size());
            return JSON.readTree(runs.get(0).resolve("summary.json").toFile());
        }
    }

    private static List<String> launch(Path dir, int nodes, int epochs, int timeoutMs, String fault) {
        return new ArrayList<>(List.of("launch", "--mode", "ring", "--nodes", Integer.toString(nodes), "--model", MODEL, "--data", DATA,
                "--epochs", Integer.toString(epochs), "--batch", "32", "--schedule", "async", "--profile", "estimate",
                "--heartbeat-ms", "200", "--failure-timeout-ms", Integer.toString(timeoutMs), "--fault", fault,
                "--runs-dir", dir.toString()));
    }

    @Test
    void kill_oneNodeOfFour_itsBuddyTakesOver_andTheRunCompletes_andTheSummaryTimesIt(@TempDir Path dir) throws Exception {
        int timeoutMs = 3000;
        List<String> args = launch(dir, 4, 60, timeoutMs, "kill:2@4s");
        args.addAll(List.of("--replica-every", "5"));
        int code = Main.commandLine().execute(args.toArray(String[]::new));
        JsonNode s = summary(dir);
        assertEquals(0, code, "the survivors complete the run: " + s);
        assertEquals("[0,0,137,0]", s.get("exitCodes").toString(), "every survivor completes the run");
        JsonNode f = s.get("faults").get(0);
        assertEquals("kill:2@4s", f.get("fault").asText());
        assertTrue(f.get("stepsPerSecBefore").asDouble() > 0, "the ring trained before the kill: " + f);
        long detected = f.get("detectedAfterMs").asLong();
        assertTrue(detected >= timeoutMs - 200 && detected <= timeoutMs + 3 * 200 + 1000, "detected " + detected + " ms after the kill: " + f);
        assertTrue(f.get("nextStepAfterMs").asLong() <= detected + 10_000, "the ring went on within 10 s of the detection: " + f);
        assertTrue(f.get("stepsReplayed").asLong() >= 0 && f.get("stepsReplayed").asLong() <= 2 * 5 + 1, "replayed at most about R steps: " + f);
        assertTrue(f.get("stepsPerSecAfter").asDouble() > 0, "and trained after: " + f);
        java.util.Set<Integer> told = new java.util.TreeSet<>();
        for (JsonNode e : s.get("events")) {
            String ev = e.get("event").asText();
            if (ev.equals("peer-failed") && e.get("peer").asInt() == 2 || ev.equals("node-failed") && e.get("failedNode").asInt() == 2) {
                told.add(e.get("node").asInt());
            }
        }
        assertEquals(java.util.Set.of(0, 1, 3), told, "every survivor learnt of node 2's death: " + s.get("events"));
    }

    /**
     * The parameter server, 1 server and 3 workers: a SIGKILLed worker is failed over (the others
     * share its rows, the run completes), and a worker paused past the failure timeout is failed
     * over the same way and, resumed, leaves with exit 4 without pushing into the run again.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "ps {0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"kill:2@3s", "stop:3@3s+6s"})
    void psWorker_killedOrPausedPastTheTimeout_isFailedOver_andTheRunCompletes(String fault, @TempDir Path dir) throws Exception {
        int timeoutMs = 3000;
        List<String> args = new ArrayList<>(List.of("launch", "--mode", "ps", "--nodes", "4", "--servers", "1", "--model", MODEL,
                "--data", DATA, "--epochs", "60", "--batch", "32", "--heartbeat-ms", "200", "--failure-timeout-ms",
                Integer.toString(timeoutMs), "--fault", fault, "--runs-dir", dir.toString()));
        int code = Main.commandLine().execute(args.toArray(String[]::new));
        JsonNode s = summary(dir);
        assertEquals(0, code, "the others complete the run: " + s);
        assertEquals(fault.startsWith("kill") ? "[0,0,137,0]" : "[0,0,0,4]", s.get("exitCodes").toString(), s.toString());
        JsonNode f = s.get("faults").get(0);
        long detected = f.get("detectedAfterMs").asLong();
        assertTrue(detected >= timeoutMs - 200 && detected <= timeoutMs + 3 * 200 + 1000, "detected " + detected + " ms after the fault: " + f);
        assertTrue(f.get("nextStepAfterMs").asLong() <= detected + 10_000, "the others went on within 10 s of the detection: " + f);
        assertTrue(f.get("stepsPerSecAfter").asDouble() > 0, "and trained after: " + f);
    }

    @Test
    void kill_andStartAgain_theNodeRejoins_andTheRingIsFourNodesAgain(@TempDir Path dir) throws Exception {
        List<String> args = launch(dir, 4, 200, 3000, "kill:2@4s+5s"); // long enough for a JVM restarted on a loaded machine to rejoin
        args.addAll(List.of("--replica-every", "5"));
        int code = Main.commandLine().execute(args.toArray(String[]::new));
        JsonNode s = summary(dir);
        assertEquals(0, code, "every node completes the run: " + s);
        assertEquals("[0,0,0,0]", s.get("exitCodes").toString(), "node 2, started again, rejoins and completes the run");
        JsonNode rejoin = null;
        boolean takeover = false;
        for (JsonNode e : s.get("events")) {
            String ev = e.get("event").asText();
            takeover |= ev.equals("takeover");
            if (ev.equals("rejoin")) {
                rejoin = e;
            }
        }
        assertTrue(takeover, "the ring went on without node 2 first: " + s.get("events"));
        assertTrue(rejoin != null, "node 2 rejoined: " + s.get("events"));
        assertEquals("[2]", rejoin.get("joined").toString(), rejoin.toString());
        assertEquals("[0,1,2,3]", rejoin.get("members").toString(), "four nodes again: " + rejoin);
    }

    @Test
    void kill_twoAdjacentNodes_theSurvivorsFallBackToTheNewestCheckpoint_andTheRunCompletes(@TempDir Path dir) throws Exception {
        Path runs = dir.resolve("runs");
        List<String> args = launch(runs, 4, 60, 3000, "kill:1@4s");
        args.addAll(List.of("--fault", "kill:2@4s", "--replica-every", "5", "--checkpoint-dir", dir.resolve("ckpt").toString(),
                "--checkpoint-every", "20"));
        int code = Main.commandLine().execute(args.toArray(String[]::new));
        JsonNode s = summary(runs);
        assertEquals(0, code, "the survivors complete the run: " + s);
        assertEquals("[0,137,137,0]", s.get("exitCodes").toString(), "nodes 0 and 3 complete the run");
        JsonNode takeover = null;
        for (JsonNode e : s.get("events")) {
            if (e.get("event").asText().equals("takeover")) {
                takeover = e;
            }
        }
        assertTrue(takeover != null, "the ring went on: " + s.get("events"));
        assertTrue(takeover.get("fromCheckpoint").asBoolean(), "from a checkpoint: " + takeover);
        assertEquals("[0,3]", takeover.get("members").toString(), takeover.toString());
        assertEquals(0, takeover.get("rollbackStep").asLong() % 20, "a checkpoint's step: " + takeover);
    }

    @Test
    void stop_longerThanTheFailureTimeout_isFailedOver_andTheResumedNodeLeavesWithExit4(@TempDir Path dir) throws Exception {
        int timeoutMs = 3000;
        List<String> args = launch(dir, 4, 60, timeoutMs, "stop:1@3s+6s");
        args.addAll(List.of("--replica-every", "5"));
        int code = Main.commandLine().execute(args.toArray(String[]::new));
        JsonNode s = summary(dir);
        assertEquals(0, code, "the survivors complete the run: " + s);
        assertEquals("[0,4,0,0]", s.get("exitCodes").toString(), "node 1, resumed, finds it is no longer a member and leaves");
        JsonNode f = s.get("faults").get(0);
        long detected = f.get("detectedAfterMs").asLong();
        assertTrue(detected >= timeoutMs - 200 && detected <= timeoutMs + 3 * 200 + 1000, "detected " + detected + " ms after the stop: " + f);
        assertTrue(f.get("nextStepAfterMs").asLong() <= detected + 10_000, "the ring went on within 10 s of the detection: " + f);
        boolean left = false;
        for (JsonNode e : s.get("events")) {
            if (e.get("event").asText().equals("end") && e.get("node").asInt() == 1) {
                left = e.get("reason").asText().contains("no longer a member");
            }
        }
        assertTrue(left, "node 1 says why it left: " + s.get("events"));
    }

    @Test
    void cut_longerThanTheFailureTimeout_failsOverTheNodeDownstreamOfTheCut_only(@TempDir Path dir) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "emulated links need root");
        int timeoutMs = 3000;
        List<String> args = launch(dir, 4, 60, timeoutMs, "cut:1-2@3s+8s");
        args.addAll(List.of("--replica-every", "5", "--emulate"));
        int code = Main.commandLine().execute(args.toArray(String[]::new));
        JsonNode s = summary(dir);
        assertEquals(0, code, "the run completes: " + s);
        assertEquals("[0,0,4,0]", s.get("exitCodes").toString(),
                "node 1 reports node 2; node 2, told it was failed over, leaves; nobody else is: " + s.get("events"));
        JsonNode f = s.get("faults").get(0);
        assertTrue(f.get("nextStepAfterMs").asLong() <= f.get("detectedAfterMs").asLong() + 10_000, "the ring went on: " + f);
    }

    @Test
    void stop_shorterThanTheFailureTimeout_isOnlyIdleTime_andTheRunCompletes(@TempDir Path dir) throws Exception {
        int code = Main.commandLine().execute(launch(dir, 3, 100, 5000, "stop:1@3s+1500ms").toArray(String[]::new));
        JsonNode s = summary(dir);
        assertEquals(0, code, s.toString());
        assertEquals("[0,0,0]", s.get("exitCodes").toString());
        JsonNode f = s.get("faults").get(0);
        assertTrue(f.get("detectedAfterMs").isNull(), "nobody declared the paused node failed: " + f);
        assertTrue(f.get("endMs").asLong() - f.get("startMs").asLong() >= 1500, f.toString());
        assertTrue(f.get("nextStepAfterMs").asLong() >= 1500, "the ring waited for the paused node: " + f);
        assertTrue(f.get("stepsPerSecDuring").asDouble() < f.get("stepsPerSecBefore").asDouble() / 2, "the ring stalled while it was paused: " + f);
        assertTrue(f.get("stepsPerSecAfter").asDouble() > f.get("stepsPerSecBefore").asDouble() / 2, "and went on at its speed after: " + f);
        for (JsonNode e : s.get("events")) {
            assertTrue(!e.get("event").asText().equals("peer-failed"), "no failure: " + e);
        }
    }
}
