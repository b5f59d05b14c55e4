package io.ringtmp.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.NodeSpec;
import io.ringtmp.tensor.Tensor;
import io.ringtmp.transport.Link;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.MessageHandler;
import io.ringtmp.transport.MessageKind;
import io.ringtmp.transport.NettyTransport;
import io.ringtmp.transport.Transport;
import io.ringtmp.transport.TransportConfig;
import io.ringtmp.transport.TransportException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real node processes on loopback: the link test, a stranger with a wrong secret, a killed neighbour. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClusterIT {
    private static final String SECRET = "cluster-it-secret-0123456789";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ClusterSpec spec(int n, Path dir, Map<String, String> options, int heartbeatMs, int timeoutMs) throws IOException {
        List<Integer> ports = io.ringtmp.launch.Launcher.freePorts(n);
        List<NodeSpec> nodes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            nodes.add(NodeSpec.of(i, "127.0.0.1", ports.get(i)));
        }
        return new ClusterSpec(4242, SECRET, ClusterSpec.Mode.LINKTEST, options, null, null, heartbeatMs, timeoutMs,
                dir.toString(), nodes);
    }

    private static Process startNode(Path specFile, int id, Path log) throws IOException {
        return NodeProcesses.start(specFile, id, log);
    }

    private static List<JsonNode> events(Path dir, int node, String event) throws IOException {
        return NodeProcesses.events(dir, node, event);
    }

    @Test
    void linktest_threeNodes_everyLinkCarriesEverySizeIntact(@TempDir Path dir) throws Exception {
        ClusterSpec s = spec(3, dir, Map.of("sizes", "4KiB,64KiB,1MiB", "seconds", "0.4", "pings", "20"), 200, 5000);
        Path f = dir.resolve("cluster.json");
        s.write(f);
        List<Process> ps = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ps.add(startNode(f, i, dir.resolve("out-" + i + ".log")));
        }
        for (int i = 0; i < 3; i++) {
            assertTrue(ps.get(i).waitFor(90, TimeUnit.SECONDS), "node " + i + " finished");
            assertEquals(0, ps.get(i).exitValue(), "node " + i + ": " + Files.readString(dir.resolve("out-" + i + ".log")));
        }
        for (int i = 0; i < 3; i++) {
            List<JsonNode> tp = events(dir, i, "linktest-throughput");
            assertEquals(3, tp.size(), "node " + i + " reports the three sizes it received");
            for (JsonNode j : tp) {
                assertEquals((i + 2) % 3, j.get("from").asInt());
                assertTrue(j.get("messages").asLong() > 0 && j.get("MBps").asDouble() > 0, j.toString());
            }
            assertEquals(1, events(dir, i, "linktest-rtt").size());
            assertTrue(events(dir, i, "end").get(0).get("completed").asBoolean());
            assertFalse(Files.readString(dir.resolve("out-" + i + ".log")).contains("FAILED"));
        }
    }

    @Test
    void stranger_withAWrongSecret_cannotJoinOrInject(@TempDir Path dir) throws Exception {
        ClusterSpec s = spec(1, dir, Map.of("sizes", "4KiB", "seconds", "6", "pings", "5"), 200, 5000);
        Path f = dir.resolve("cluster.json");
        s.write(f);
        Process node = startNode(f, 0, dir.resolve("out-0.log"));
        try {
            NodeSpec target = s.node(0);
            TransportConfig wrong = TransportConfig.of(7, "127.0.0.1", 0, s.runId(),
                    "not-the-cluster-secret-at-all".getBytes(StandardCharsets.UTF_8), 1 << 20);
            try (Transport stranger = NettyTransport.start(wrong, new MessageHandler() {
                @Override
                public void onMessage(Message m) {
                }
            })) {
                TransportException e = assertThrows(TransportException.class, () -> {
                    Link l = stranger.connect(0, target.host(), target.port());
                    l.send(Message.tensor(MessageKind.DATA, 7, s.runId(), 0, 0, Tensor.zeros(16))).get(5, TimeUnit.SECONDS);
                });
                assertFalse(e.transientFailure(), "bad credentials are permanent: " + e.getMessage());
            }
            assertTrue(node.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, node.exitValue(), Files.readString(dir.resolve("out-0.log")));
            List<JsonNode> rejected = events(dir, 0, "message-rejected");
            assertFalse(rejected.isEmpty(), "the node logged the refusal");
            List<JsonNode> tp = events(dir, 0, "linktest-throughput");
            assertEquals(0, tp.get(0).get("from").asInt(), "only the node's own tensors were counted");
        } finally {
            node.destroyForcibly();
        }
    }

    @Test
    void neighbourStartedLater_isWaitedFor_andTheRunCompletes(@TempDir Path dir) throws Exception {
        ClusterSpec base = spec(2, dir, Map.of("sizes", "4KiB", "seconds", "0.2", "pings", "5"), 200, 5000);
        // A join window of 20 s: node 0 says it is waiting every 5 s, and node 1 has 15 s more to start.
        ClusterSpec s = new ClusterSpec(base.runId(), base.secret(), base.mode(), base.options(), null, null, base.heartbeatMs(),
                base.failureTimeoutMs(), base.metricsDir(), base.nodes(), 20_000);
        Path f = dir.resolve("cluster.json");
        s.write(f);
        Process first = startNode(f, 0, dir.resolve("out-0.log"));
        Process second = null;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.readString(dir.resolve("out-0.log")).contains("waiting for neighbour 1")) {
                assertTrue(System.nanoTime() < deadline && first.isAlive(), "node 0 did not say it waits: "
                        + Files.readString(dir.resolve("out-0.log")));
                Thread.sleep(50);
            }
            assertTrue(Files.readString(dir.resolve("out-0.log")).contains("gives up after 20 s"));
            second = startNode(f, 1, dir.resolve("out-1.log"));
            for (Process p : List.of(first, second)) {
                assertTrue(p.waitFor(60, TimeUnit.SECONDS));
                assertEquals(0, p.exitValue(), Files.readString(dir.resolve("out-0.log")) + Files.readString(dir.resolve("out-1.log")));
            }
        } finally {
            first.destroyForcibly();
            if (second != null) {
                second.destroyForcibly();
            }
        }
    }

    @Test
    void killedNeighbour_isDetectedWithinTheTimeout(@TempDir Path dir) throws Exception {
        int timeoutMs = 1500, heartbeatMs = 200;
        ClusterSpec s = spec(3, dir, Map.of("sizes", "4KiB", "seconds", "60", "pings", "5"), heartbeatMs, timeoutMs);
        Path f = dir.resolve("cluster.json");
        s.write(f);
        List<Process> ps = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ps.add(startNode(f, i, dir.resolve("out-" + i + ".log")));
        }
        try {
            // Wait until node 1 receives from node 0: the ring is up.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.readString(dir.resolve("out-2.log")).contains("links up")
                    || !Files.readString(dir.resolve("out-0.log")).contains("links up")) {
                assertTrue(System.nanoTime() < deadline, "nodes did not start");
                Thread.sleep(50);
            }
            Thread.sleep(3 * heartbeatMs + 1000L);
            long killedAt = System.currentTimeMillis();
            ps.get(1).destroyForcibly();
            int detectedBy = 0;
            for (int i : new int[]{0, 2}) {
                assertTrue(ps.get(i).waitFor(timeoutMs + 20_000L, TimeUnit.MILLISECONDS), "node " + i + " stopped");
                assertEquals(3, ps.get(i).exitValue(), "node " + i + " exits 3 when a neighbour fails: "
                        + Files.readString(dir.resolve("out-" + i + ".log")));
                List<JsonNode> failed = events(dir, i, "peer-failed");
                if (failed.isEmpty()) {
                    // Its other neighbour (the survivor) detected it first and told it: "failed 1".
                    List<JsonNode> told = events(dir, i, "node-failed");
                    assertEquals(1, told.size(), "node " + i + " learnt of node 1's death: " + Files.readString(dir.resolve("out-" + i + ".log")));
                    assertEquals(1, told.get(0).get("failedNode").asInt());
                    continue;
                }
                detectedBy++;
                assertEquals(1, failed.size(), "node " + i);
                assertEquals(1, failed.get(0).get("peer").asInt());
                // Measured from the kill, detection comes in time; measured from the last thing heard
                // (the detector's own clock), not early. The two differ by how long before the kill
                // node 1 last got a heartbeat out, which on 2 busy cores can be most of a second.
                long detectedAfter = failed.get(0).get("timeMs").asLong() - killedAt;
                long silentMs = failed.get(0).get("silentMs").asLong();
                assertTrue(detectedAfter > 0 && detectedAfter <= timeoutMs + 3L * heartbeatMs + 1000,
                        "node " + i + " detected the failure " + detectedAfter + " ms after the kill (timeout " + timeoutMs + ")");
                assertTrue(silentMs >= timeoutMs && silentMs <= timeoutMs + 3L * heartbeatMs + 1000,
                        "node " + i + " declared node 1 failed after " + silentMs + " ms of silence (timeout " + timeoutMs + ")");
            }
            assertTrue(detectedBy >= 1, "at least one neighbour's own detector declared node 1 failed");
        } finally {
            ps.forEach(Process::destroyForcibly);
        }
    }

    @Test
    void sigterm_endsTheNodeCleanly_andItsNeighbourStopsToo(@TempDir Path dir) throws Exception {
        ClusterSpec s = spec(2, dir, Map.of("sizes", "4KiB", "seconds", "60", "pings", "5"), 200, 3000);
        Path f = dir.resolve("cluster.json");
        s.write(f);
        List<Process> ps = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            ps.add(startNode(f, i, dir.resolve("out-" + i + ".log")));
        }
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (events(dir, 1, "end").isEmpty() && (!Files.readString(dir.resolve("out-0.log")).contains("listening")
                    || !Files.readString(dir.resolve("out-1.log")).contains("listening"))) {
                assertTrue(System.nanoTime() < deadline, "nodes did not start");
                Thread.sleep(50);
            }
            Thread.sleep(1500);
            ps.get(0).destroy(); // SIGTERM
            for (int i = 0; i < 2; i++) {
                assertTrue(ps.get(i).waitFor(30, TimeUnit.SECONDS), "node " + i + " stopped");
                assertEquals(0, ps.get(i).exitValue(), "node " + i + ": " + Files.readString(dir.resolve("out-" + i + ".log")));
            }
            assertEquals("SIGTERM", events(dir, 0, "end").get(0).get("reason").asText());
            assertTrue(events(dir, 1, "end").get(0).get("reason").asText().contains("stopped early"));
            assertTrue(events(dir, 1, "peer-failed").isEmpty(), "a neighbour that leaves is not a failed one");
        } finally {
            ps.forEach(Process::destroyForcibly);
        }
    }

    @Test
    void launch_twoNodes_writesSpecMetricsAndMergedSummary(@TempDir Path dir) throws Exception {
        int code = Main.commandLine().execute("launch", "--mode", "linktest", "--nodes", "2", "--sizes", "4KiB,256KiB", "--seconds", "0.3",
                "--pings", "10", "--runs-dir", dir.toString());
        assertEquals(0, code);
        List<Path> runs;
        try (var l = Files.list(dir)) {
            runs = l.toList();
        }
        assertEquals(1, runs.size());
        Path run = runs.get(0);
        assertTrue(Files.exists(run.resolve("cluster.json")));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(run.resolve("cluster.json"))), "the spec holds the secret");
        JsonNode summary = JSON.readTree(run.resolve("summary.json").toFile());
        assertEquals("[0,0]", summary.get("exitCodes").toString());
        int throughput = 0;
        for (JsonNode e : summary.get("events")) {
            throughput += e.get("event").asText().equals("linktest-throughput") ? 1 : 0;
        }
        assertEquals(4, throughput, "two links, two sizes");
    }
}
