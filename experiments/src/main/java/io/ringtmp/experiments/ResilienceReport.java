package io.ringtmp.experiments;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** The report's section and verdict for the {@link ResilienceExperiment}: claim 4. */
final class ResilienceReport {
    /** The rule of claim 4, as printed. */
    static final String RULE = "claim 4 holds for a fault if the ring (its best schedule) completes at least the share of its runs that "
            + "the parameter server's best mode completes, and, where fault-free runs of the same schedule were measured, the ring's median "
            + "final test accuracy under the fault is within 0.5 points of theirs; it holds if it holds for every fault measured";

    /** What the section and the verdict say. */
    record Result(Report.Verdict verdict, Report.Section section) {
    }

    private ResilienceReport() {
    }

    /** Fault kind of a run: kill, stop, cut, or none. */
    static String kind(JsonNode j) {
        String f = j.path("settings").path("fault").asText("none");
        int colon = f.indexOf(':');
        return colon < 0 ? f : f.substring(0, colon);
    }

    static Result of(List<JsonNode> all, List<String> provenance) {
        List<JsonNode> rows = all.stream().filter(j -> j.path("status").asText().equals("ok")).toList();
        // "system mode" -> fault kind -> runs
        Map<String, Map<String, List<JsonNode>>> by = new TreeMap<>();
        for (JsonNode j : rows) {
            String label = j.path("settings").path("system").asText() + " " + j.path("settings").path("mode").asText();
            by.computeIfAbsent(label, x -> new TreeMap<>()).computeIfAbsent(kind(j), x -> new ArrayList<>()).add(j);
        }
        List<List<String>> cells = new ArrayList<>();
        for (var e : by.entrySet()) {
            Double freeAccuracy = median(e.getValue().getOrDefault("none", List.of()), "finalAccuracy", true);
            for (var k : e.getValue().entrySet()) {
                List<JsonNode> runs = k.getValue();
                long done = runs.stream().filter(j -> j.path("figures").path("completed").asBoolean()).count();
                Double acc = median(runs, "finalAccuracy", true);
                cells.add(List.of(e.getKey(), k.getKey(), Integer.toString(runs.size()), done + " of " + runs.size(),
                        ms(median(runs, "detectedAfterMs", false)), ms(median(runs, "nextStepAfterMs", false)),
                        num(median(runs, "stepsReplayed", false), "%.0f"),
                        num(median(runs, "stepsPerSecBefore", false), "%.1f") + " / " + num(median(runs, "stepsPerSecDuring", false), "%.1f")
                                + " / " + num(median(runs, "stepsPerSecAfter", false), "%.1f"),
                        num(acc, "%.4f"), acc == null || freeAccuracy == null || k.getKey().equals("none") ? "-"
                                : String.format(Locale.ROOT, "%+.2f", 100 * (acc - freeAccuracy))));
            }
        }
        List<String> paras = new ArrayList<>(provenance);
        paras.add("Each fault is one `launch --fault` (kill: SIGKILL; stop: SIGSTOP, then SIGCONT; cut: the node's link taken down, "
                + "emulated devices only). Detection: from the fault to the first node declaring the faulty one failed; next step: to the "
                + "first step any other node completes after it; replayed: steps rolled back by the takeover (the ring); steps/s of a "
                + "node the fault did not touch before, during and after. Completed: the run reached its last step (a node the others "
                + "went on without counts as done). Medians over the repetitions; accuracy Δ against the fault-free runs of the same mode, "
                + "in points.");
        Report.Section section = new Report.Section("Resilience: faults injected into real runs", paras,
                List.of(new Report.Table(List.of("system mode", "fault", "runs", "completed", "median detection", "median next step",
                        "median steps replayed", "median steps/s before / during / after", "median final accuracy", "Δ accuracy (points)"),
                        cells)), List.of());
        return new Result(new Report.Verdict(Report.CLAIMS.get(4), RULE + ".", verdict(by)), section);
    }

    private static String verdict(Map<String, Map<String, List<JsonNode>>> by) {
        Map<String, List<String>> kinds = new LinkedHashMap<>();
        kinds.put("holds", new ArrayList<>());
        kinds.put("fails", new ArrayList<>());
        kinds.put("undecided", new ArrayList<>());
        java.util.Set<String> faults = new java.util.TreeSet<>();
        by.values().forEach(m -> m.keySet().stream().filter(k -> !k.equals("none")).forEach(faults::add));
        for (String fault : faults) {
            double ring = -1, ps = -1;
            boolean accurate = false;
            for (var e : by.entrySet()) {
                List<JsonNode> runs = e.getValue().get(fault);
                if (runs == null) {
                    continue;
                }
                double share = runs.stream().filter(j -> j.path("figures").path("completed").asBoolean()).count() / (double) runs.size();
                if (e.getKey().startsWith("ring ")) {
                    Double acc = median(runs, "finalAccuracy", true), free = median(e.getValue().getOrDefault("none", List.of()), "finalAccuracy", true);
                    boolean ok = free == null || acc != null && Math.abs(acc - free) <= 0.005;
                    if (share > ring || share == ring && ok) {
                        ring = share;
                        accurate = ok;
                    }
                } else {
                    ps = Math.max(ps, share);
                }
            }
            String what = String.format(Locale.ROOT, "%s (ring %.0f%%, ps %.0f%% of runs completed)", fault, 100 * Math.max(ring, 0), 100 * Math.max(ps, 0));
            if (ring < 0 || ps < 0) {
                kinds.get("undecided").add(fault + " (" + (ring < 0 ? "no ring runs" : "no ps runs") + ")");
            } else if (ring >= ps && accurate) {
                kinds.get("holds").add(what);
            } else {
                kinds.get("fails").add(what + (accurate ? "" : ", accuracy off by more than 0.5 points"));
            }
        }
        if (faults.isEmpty()) {
            return "not measured yet (no faulted runs)";
        }
        List<String> parts = new ArrayList<>();
        if (!kinds.get("holds").isEmpty()) {
            parts.add("holds for " + String.join(", ", kinds.get("holds")));
        }
        if (!kinds.get("fails").isEmpty()) {
            parts.add("did not hold for " + String.join(", ", kinds.get("fails")));
        }
        if (!kinds.get("undecided").isEmpty()) {
            parts.add("not decided for " + String.join(", ", kinds.get("undecided")));
        }
        return String.join("; ", parts);
    }

    /** The median of figure {@code name} over the runs that have it (only completed runs when {@code completedOnly}), or null. */
    private static Double median(List<JsonNode> runs, String name, boolean completedOnly) {
        List<Double> v = new ArrayList<>();
        for (JsonNode j : runs) {
            JsonNode x = j.path("figures").path(name);
            if (x.isNumber() && (!completedOnly || j.path("figures").path("completed").asBoolean())) {
                v.add(x.asDouble());
            }
        }
        return v.isEmpty() ? null : Stats.of(v).median();
    }

    private static String ms(Double v) {
        return v == null ? "-" : String.format(Locale.ROOT, "%,.0f ms", v);
    }

    private static String num(Double v, String format) {
        return v == null ? "-" : String.format(Locale.ROOT, format, v);
    }
}
