package io.ringtmp.launch;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What each injected fault did to the run, from the nodes' metrics events: when it was detected
 * (the first {@code peer-failed} naming the faulted node, or either end of a cut link), the time
 * to the first training step after it on any other node, the steps replayed (from
 * {@code takeover} events, when failover ran), and the throughput in steps per second of a
 * reference node (the lowest id not faulted) before the fault, during it (until that first step
 * after it) and after; during and after are null when the run did not go on after the fault.
 * Times are milliseconds from the fault's start; null where it did not happen.
 */
final class FaultReport {
    private FaultReport() {
    }

    /**
     * @param injected the faults as done
     * @param events   every node's events (steps included), in any order
     * @param nodes    the number of nodes
     */
    static List<Map<String, Object>> analyse(List<FaultInjector.Injected> injected, List<JsonNode> events, int nodes) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (FaultInjector.Injected i : injected) {
            Fault f = i.fault();
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("fault", f.toString());
            r.put("kind", f.kind().id());
            r.put("node", f.node());
            if (f.kind() == Fault.Kind.CUT) {
                r.put("peer", f.peer());
            }
            r.put("startMs", i.startMs());
            r.put("endMs", i.endMs() < 0 ? null : i.endMs());
            if (i.error() != null) {
                r.put("error", i.error());
                out.add(r);
                continue;
            }
            Long detected = null;
            for (JsonNode e : events) {
                if (e.path("event").asText().equals("peer-failed") && e.path("timeMs").asLong() >= i.startMs() && names(f, e)) {
                    long t = e.path("timeMs").asLong() - i.startMs();
                    detected = detected == null ? t : Math.min(detected, t);
                }
            }
            long from = detected != null ? i.startMs() + detected : Math.max(i.startMs(), i.endMs());
            Long nextStep = null;
            int ref = reference(f, nodes);
            long firstStep = Long.MAX_VALUE, lastStep = Long.MIN_VALUE;
            for (JsonNode e : events) {
                if (!e.path("event").asText().equals("step")) {
                    continue;
                }
                long t = e.path("timeMs").asLong();
                int node = e.path("node").asInt();
                if (t > from && node != f.node() && (nextStep == null || t - i.startMs() < nextStep)) {
                    nextStep = t - i.startMs();
                }
                if (node == ref) {
                    firstStep = Math.min(firstStep, t);
                    lastStep = Math.max(lastStep, t);
                }
            }
            long replayed = 0;
            boolean tookOver = false;
            for (JsonNode e : events) {
                if (e.path("event").asText().equals("takeover") && e.path("timeMs").asLong() >= i.startMs()) {
                    tookOver = true;
                    replayed += e.path("replayedSteps").asLong();
                }
            }
            r.put("detectedAfterMs", detected);
            r.put("nextStepAfterMs", nextStep);
            r.put("stepsReplayed", tookOver ? replayed : null);
            r.put("referenceNode", ref);
            r.put("stepsPerSecBefore", rate(events, ref, firstStep, i.startMs()));
            if (nextStep == null) { // the run did not go on after it
                r.put("stepsPerSecDuring", null);
                r.put("stepsPerSecAfter", null);
            } else {
                long recovered = i.startMs() + nextStep;
                r.put("stepsPerSecDuring", rate(events, ref, i.startMs(), recovered));
                r.put("stepsPerSecAfter", rate(events, ref, recovered, lastStep));
            }
            out.add(r);
        }
        return out;
    }

    private static boolean names(Fault f, JsonNode e) {
        int peer = e.path("peer").asInt(-1), node = e.path("node").asInt(-1);
        if (f.kind() == Fault.Kind.CUT) {
            return node == f.node() && peer == f.peer() || node == f.peer() && peer == f.node();
        }
        return peer == f.node();
    }

    private static int reference(Fault f, int nodes) {
        for (int n = 0; n < nodes; n++) {
            if (n != f.node() && n != f.peer()) {
                return n;
            }
        }
        return -1;
    }

    /** Steps per second the node recorded in (fromMs, toMs]; null when the window is empty. */
    private static Double rate(List<JsonNode> events, int node, long fromMs, long toMs) {
        if (toMs <= fromMs || fromMs == Long.MAX_VALUE || toMs == Long.MIN_VALUE) {
            return null;
        }
        int steps = 0;
        for (JsonNode e : events) {
            long t = e.path("timeMs").asLong();
            if (e.path("event").asText().equals("step") && e.path("node").asInt() == node && t > fromMs && t <= toMs) {
                steps++;
            }
        }
        return Math.round(steps * 1e4 / (toMs - fromMs)) / 10.0;
    }

    /** One line per fault for the closing table. */
    static void print(List<Map<String, Object>> report, PrintStream out) {
        if (report.isEmpty()) {
            return;
        }
        out.println("faults (ms from each fault's start; steps/s of the reference node before, during, after):");
        for (Map<String, Object> r : report) {
            if (r.get("error") != null) {
                out.println("  " + r.get("fault") + ": not injected: " + r.get("error"));
                continue;
            }
            out.printf(Locale.ROOT, "  %-22s detected %s, next step %s, steps replayed %s, steps/s %s / %s / %s (node %s)%n",
                    r.get("fault"), ms(r.get("detectedAfterMs")), ms(r.get("nextStepAfterMs")), dash(r.get("stepsReplayed")),
                    dash(r.get("stepsPerSecBefore")), dash(r.get("stepsPerSecDuring")), dash(r.get("stepsPerSecAfter")), r.get("referenceNode"));
        }
    }

    private static String ms(Object v) {
        return v == null ? "never" : "after " + v + " ms";
    }

    private static String dash(Object v) {
        return v == null ? "-" : v.toString();
    }
}
