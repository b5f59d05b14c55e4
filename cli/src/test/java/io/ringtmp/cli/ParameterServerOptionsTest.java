package io.ringtmp.cli;

import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.NodeSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad parameter-server options end {@code launch} and {@code node} with one line naming the problem. */
class ParameterServerOptionsTest {
    private record Run(int code, String err) {
    }

    private static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        return new Run(cl.execute(args), err.toString());
    }

    /** Refused with one line naming the problem: exit 2 for launch's options (a usage error), 1 for a node's spec. */
    private static void refused(String expected, String... args) {
        Run r = run(args);
        assertEquals(args[0].equals("launch") ? 2 : 1, r.code(), r.err());
        assertTrue(r.err().startsWith("ringtmp: ") && r.err().contains(expected), r.err());
    }

    @Test
    void launch_badConsistencyStalenessServerCountOrCheckpointOptions_isRefusedBeforeAnyNodeStarts(@TempDir Path dir) {
        String runs = dir.toString();
        refused("unknown consistency 'eventual' (expected bsp, asp or ssp)", "launch", "--mode", "ps", "--consistency", "eventual", "--runs-dir", runs);
        refused("staleness must be >= 0, got -1", "launch", "--mode", "ps", "--consistency", "ssp", "--staleness", "-1", "--runs-dir", runs);
        refused("staleness applies to consistency ssp only", "launch", "--mode", "ps", "--consistency", "asp", "--staleness", "2", "--runs-dir", runs);
        refused("at least one worker", "launch", "--mode", "ps", "--nodes", "2", "--servers", "2", "--runs-dir", runs);
        refused("need --mode ps", "launch", "--mode", "linktest", "--servers", "2", "--runs-dir", runs);
        refused("option checkpointEvery (10) needs option checkpointDir", "launch", "--mode", "ps", "--checkpoint-every", "10",
                "--runs-dir", runs);
        refused("--resume needs --checkpoint-dir DIR", "launch", "--mode", "ps", "--resume", "--runs-dir", runs);
        // The ring refuses it alike (TrainingOptions checks it for every training mode).
        refused("option checkpointEvery (10) needs option checkpointDir", "launch", "--mode", "ring", "--checkpoint-every", "10",
                "--runs-dir", runs);
    }

    @Test
    void launch_anOptionOfAnotherMode_isRefusedNamingIt(@TempDir Path dir) {
        String runs = dir.toString();
        refused("mode ps does not take the option schedule (it takes ", "launch", "--mode", "ps", "--schedule", "gpipe", "--runs-dir", runs);
        refused("mode ps does not take the options microbatches, trace (it takes ", "launch", "--mode", "ps", "--microbatches", "2",
                "--trace", "--runs-dir", runs);
        refused("mode linktest does not take the option epochs", "launch", "--mode", "linktest", "--epochs", "2", "--runs-dir", runs);
    }

    @Test
    void node_aSpecWithAnOptionItsModeDoesNotTake_exitsNamingIt(@TempDir Path dir) throws Exception {
        List<NodeSpec> nodes = List.of(NodeSpec.of(0, "127.0.0.1", 7801), NodeSpec.of(1, "127.0.0.1", 7802));
        ClusterSpec s = new ClusterSpec(5, "a-secret-of-sixteen-chars", ClusterSpec.Mode.RING, Map.of("epochz", "2"), "mlp:8-4-3",
                "synthetic:teacher?n=64&inputs=8&classes=3", 0, 0, dir.resolve("run").toString(), nodes);
        Path f = dir.resolve("cluster.json");
        s.write(f);
        refused("mode ring does not take the option epochz (it takes batch, checkpointDir, ", "node", "--spec", f.toString(), "--id", "0");
    }

    @Test
    void node_withAsManyServersAsNodes_exitsNamingTheOption(@TempDir Path dir) throws Exception {
        List<NodeSpec> nodes = List.of(NodeSpec.of(0, "127.0.0.1", 7801), NodeSpec.of(1, "127.0.0.1", 7802));
        ClusterSpec s = new ClusterSpec(5, "a-secret-of-sixteen-chars", ClusterSpec.Mode.PS, Map.of("servers", "2"), "mlp:8-4-3",
                "synthetic:teacher?n=64&inputs=8&classes=3", 0, 0, dir.resolve("run").toString(), nodes);
        Path f = dir.resolve("cluster.json");
        s.write(f);
        refused("option servers (2) must be below the number of nodes (2)", "node", "--spec", f.toString(), "--id", "0");
    }
}
