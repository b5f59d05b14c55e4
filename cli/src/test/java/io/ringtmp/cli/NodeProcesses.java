package io.ringtmp.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringtmp.launch.Launcher;
import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.NodeSpec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Real node processes for the multi-process tests: a loopback spec on free ports, every node
 * started with {@code ringtmp node} (output in {@code dir/out-<i>.log}), and readers for their
 * logs and metrics files.
 */
final class NodeProcesses {
    static final String SECRET = "node-processes-it-secret-0123";
    private static final ObjectMapper JSON = new ObjectMapper();

    private NodeProcesses() {
    }

    /** A spec of {@code nodes} nodes on 127.0.0.1 (free ports), metrics in {@code metricsDir}. */
    static ClusterSpec spec(ClusterSpec.Mode mode, int nodes, Path metricsDir, String model, String data, Map<String, String> options,
                            int heartbeatMs, int timeoutMs) throws IOException {
        List<Integer> ports = Launcher.freePorts(nodes);
        List<NodeSpec> ns = new ArrayList<>();
        for (int i = 0; i < nodes; i++) {
            ns.add(NodeSpec.of(i, "127.0.0.1", ports.get(i)));
        }
        return new ClusterSpec(4343, SECRET, mode, options, model, data, heartbeatMs, timeoutMs, metricsDir.toString(), ns);
    }

    /** Starts every node of {@code s} (written to dir/cluster.json), output in dir/out-i.log. */
    static List<Process> startAll(ClusterSpec s, Path dir) throws IOException {
        Path f = dir.resolve("cluster.json");
        s.write(f);
        List<Process> ps = new ArrayList<>();
        for (int i = 0; i < s.size(); i++) {
            ps.add(start(f, i, dir.resolve("out-" + i + ".log")));
        }
        return ps;
    }

    /** Starts node {@code id} of the spec in {@code specFile}, its output to {@code log}. */
    static Process start(Path specFile, int id, Path log) throws IOException {
        List<String> cmd = new ArrayList<>(LaunchCommand.nodeCommand());
        cmd.addAll(List.of("--spec", specFile.toString(), "--id", Integer.toString(id)));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("OPENBLAS_NUM_THREADS", "1");
        return pb.start();
    }

    static String log(Path dir, int node) throws IOException {
        Path f = dir.resolve("out-" + node + ".log");
        return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "";
    }

    /** Every node's output, each line prefixed with its node. */
    static String logs(Path dir, int nodes) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < nodes; i++) {
            for (String line : log(dir, i).split("\n")) {
                sb.append("[node ").append(i).append("] ").append(line).append('\n');
            }
        }
        return sb.toString();
    }

    /** The {@code event} lines of node {@code node}'s metrics file in {@code runDir} (none when it is absent). */
    static List<JsonNode> events(Path runDir, int node, String event) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        Path f = runDir.resolve("node-" + node + ".jsonl");
        if (!Files.exists(f)) {
            return out;
        }
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
            JsonNode j;
            try {
                j = JSON.readTree(line);
            } catch (IOException e) {
                continue; // a line being written
            }
            if (j.path("event").asText().equals(event)) {
                out.add(j);
            }
        }
        return out;
    }
}
