package io.ringtmp.launch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.NodeSpec;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** The closing table of a launch and its {@code summary.json}, from the nodes' metrics files. */
final class RunSummary {
    private static final ObjectMapper JSON = new ObjectMapper();

    private RunSummary() {
    }

    /**
     * Prints the run's results from the nodes' metrics files and writes the merged summary,
     * {@code summary.json}: run id, mode, each node's exit code, and every result and failure
     * event of every node.
     */
    static void write(ClusterSpec spec, Path runDir, List<Integer> exitCodes, boolean listEpochs, List<FaultInjector.Injected> injected,
                          PrintStream out) throws IOException {
        List<JsonNode> merged = new ArrayList<>();
        List<JsonNode> all = new ArrayList<>();
        Map<String, String> throughput = new TreeMap<>();
        Map<String, String> rtt = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        List<String> epochs = new ArrayList<>();
        Map<Integer, StepTotals> totals = new TreeMap<>();
        Map<Integer, String> stageNames = new TreeMap<>();
        for (NodeSpec n : spec.nodes()) {
            Path f = runDir.resolve("node-" + n.id() + ".jsonl");
            if (!Files.exists(f)) {
                failures.add("node " + n.id() + " wrote no metrics");
                continue;
            }
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                JsonNode j;
                try {
                    j = JSON.readTree(line);
                } catch (IOException e) {
                    continue; // A line cut short by a killed node.
                }
                String ev = j.path("event").asText();
                all.add(j);
                if (!ev.equals("step")) {
                    merged.add(j);
                }
                switch (ev) {
                    case "step" -> totals.computeIfAbsent(n.id(), k -> new StepTotals(1)).add(j);
                    case "stage" -> {
                        JsonNode layers = j.get("layers");
                        stageNames.put(n.id(), layers.get(0).asText() + ".." + layers.get(layers.size() - 1).asText()
                                + String.format(Locale.ROOT, " (%,d params)", j.get("parameters").asLong()));
                    }
                    case "epoch" -> epochs.add(String.format(Locale.ROOT, "  epoch %d: test accuracy %.4f (loss %.4f), %,.0f samples/s",
                            j.get("epoch").asInt(), j.get("testAccuracy").asDouble(), j.get("testLoss").asDouble(),
                            j.get("samplesPerSec").asDouble()));
                    case "linktest-throughput" -> throughput.put(String.format(Locale.ROOT, "%03d%03d%012d", j.get("from").asInt(),
                            j.get("to").asInt(), j.get("bytes").asLong()), String.format(Locale.ROOT, "  %d -> %d  %7s  %9.1f MB/s",
                            j.get("from").asInt(), j.get("to").asInt(), j.get("size").asText(), j.get("MBps").asDouble()));
                    case "linktest-rtt" -> rtt.put(String.format(Locale.ROOT, "%03d", j.get("from").asInt()), String.format(Locale.ROOT,
                            "  %d -> %d  rtt %.0f us p50, %.0f us p99", j.get("from").asInt(), j.get("to").asInt(),
                            j.get("p50Us").asDouble(), j.get("p99Us").asDouble()));
                    case "peer-failed" -> failures.add("node " + n.id() + " declared node " + j.get("peer").asInt()
                            + " failed after " + j.get("silentMs").asLong() + " ms of silence");
                    default -> { }
                }
            }
        }
        if (!throughput.isEmpty() || !rtt.isEmpty()) {
            out.println("link test results (receiver-side MB/s, sender-side round trips):");
            throughput.values().forEach(out::println);
            rtt.values().forEach(out::println);
        }
        if (listEpochs && !epochs.isEmpty()) {
            out.println("training results (node 0):");
            epochs.forEach(out::println);
        }
        Map<String, Object> perNode = new java.util.LinkedHashMap<>();
        if (!totals.isEmpty()) {
            out.println("per node, steps after the first (idle = waiting for neighbours with nothing to compute):");
            out.println("  node  part                                 idle   compute  send   c/microbatch  T/microbatch  sent MB/peer");
            for (var e : totals.entrySet()) {
                StepTotals t = e.getValue();
                out.printf(Locale.ROOT, "  %4d  %-35s %5.1f%%  %5.1f%%  %4.1f%%  %9.3f ms  %9.3f ms  %s%n", e.getKey(),
                        stageNames.getOrDefault(e.getKey(), ""), 100 * t.fraction(t.idleMs), 100 * t.fraction(t.computeMs),
                        100 * t.fraction(t.sendMs), t.perMicrobatch(t.computeMs), t.perMicrobatch(t.transferMs), t.sentMb());
                perNode.put(Integer.toString(e.getKey()), t.toMap());
            }
        }
        failures.forEach(out::println);
        List<Map<String, Object>> faults = FaultReport.analyse(injected, all, spec.size());
        FaultReport.print(faults, out);
        Map<String, Object> summary = new java.util.LinkedHashMap<>();
        summary.put("runId", Long.toHexString(spec.runId()));
        summary.put("mode", spec.mode().id());
        summary.put("nodes", spec.size());
        summary.put("exitCodes", exitCodes);
        if (!faults.isEmpty()) {
            summary.put("faults", faults);
        }
        if (!perNode.isEmpty()) {
            summary.put("perNode", perNode);
        }
        summary.put("events", merged);
        JSON.writerWithDefaultPrettyPrinter().writeValue(runDir.resolve("summary.json").toFile(), summary);
    }
}
