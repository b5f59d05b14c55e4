package io.ringtmp.launch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A node's {@code step} metrics lines added up, the first {@code warmup} left out (pipeline fill,
 * and the JIT compiling the hot loops: a W1 step takes twice as long in the first 200 steps as
 * after them). The launcher's summary leaves out one step; benchmarks leave out more.
 *
 * <pre>{@code
 * StepTotals t = StepTotals.read(runDir.resolve("node-1.jsonl"), 300);
 * double idle = t.fraction(t.idleMs);
 * }</pre>
 */
public final class StepTotals {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final long warmup;
    private long seen;
    /** Steps counted (after the warm-up). */
    public long steps;
    public double wallMs;
    public double computeMs;
    public double idleMs;
    public double sendMs;
    public double transferMs;
    public long microbatches;
    public final Map<Integer, Long> sentBytes = new TreeMap<>();

    /** @param warmup how many step lines to leave out before counting */
    public StepTotals(long warmup) {
        this.warmup = warmup;
    }

    /** The step lines of one node's metrics file ({@code node-<i>.jsonl}); lines cut short by a killed node are skipped. */
    public static StepTotals read(Path nodeMetrics, long warmup) throws IOException {
        return read(nodeMetrics, warmup, 0);
    }

    /**
     * As {@link #read(Path, long)}, also leaving out the last {@code cooldown} steps (a pipeline
     * draining at the end of a run: its idle is not the steady state's).
     */
    public static StepTotals read(Path nodeMetrics, long warmup, long cooldown) throws IOException {
        java.util.List<JsonNode> steps = new java.util.ArrayList<>();
        for (String line : Files.readAllLines(nodeMetrics, StandardCharsets.UTF_8)) {
            JsonNode j;
            try {
                j = JSON.readTree(line);
            } catch (IOException e) {
                continue;
            }
            if (j.path("event").asText().equals("step")) {
                steps.add(j);
            }
        }
        StepTotals t = new StepTotals(warmup);
        for (JsonNode j : steps.subList(0, (int) Math.max(0, steps.size() - cooldown))) {
            t.add(j);
        }
        return t;
    }

    /** Adds one {@code step} line. */
    public void add(JsonNode j) {
        if (seen++ < warmup) {
            return;
        }
        steps++;
        wallMs += j.path("wallMs").asDouble();
        computeMs += j.path("computeMs").asDouble();
        idleMs += j.path("idleMs").asDouble();
        sendMs += j.path("sendMs").asDouble();
        transferMs += j.path("transferMs").asDouble();
        microbatches += j.path("microbatches").asLong();
        j.path("bytesSent").fields().forEachRemaining(e -> sentBytes.merge(Integer.parseInt(e.getKey()), e.getValue().asLong(), Long::sum));
    }

    /** {@code ms} as a fraction of the counted steps' wall time. */
    public double fraction(double ms) {
        return wallMs > 0 ? ms / wallMs : 0;
    }

    public double perMicrobatch(double ms) {
        return microbatches > 0 ? ms / microbatches : 0;
    }

    /** Megabytes sent to each peer, e.g. {@code 12.5->1, 3.0->2}. */
    public String sentMb() {
        StringBuilder sb = new StringBuilder();
        sentBytes.forEach((peer, b) -> sb.append(sb.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.1f->%d", b / 1e6, peer)));
        return sb.toString();
    }

    /** The summary's {@code perNode} entry; {@code steps} is the number of steps counted. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("steps", steps);
        m.put("wallMs", wallMs);
        m.put("microbatches", microbatches);
        m.put("idleFraction", fraction(idleMs));
        m.put("computeFraction", fraction(computeMs));
        m.put("sendFraction", fraction(sendMs));
        m.put("computeMsPerMicrobatch", perMicrobatch(computeMs));
        m.put("transferMsPerMicrobatch", perMicrobatch(transferMs));
        m.put("bytesSent", sentBytes);
        return m;
    }
}
