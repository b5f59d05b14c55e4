package io.ringtmp.experiments;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The report of a results directory: {@code report.md} and {@code report.html} (one page, its
 * plots embedded as PNG data URIs). It opens with one verdict line per claim the experiments
 * decide, each computed from the rows by the rule printed next to it; then, per experiment, the
 * machine, commit, settings and repetitions, a table of medians and spreads (min..max over the
 * repetitions) and the plots. Only {@code ok} rows count; failed runs are counted and listed.
 *
 * <pre>{@code
 * Report r = Report.load(dir);
 * r.write(dir); // report.md, report.html
 * }</pre>
 */
public final class Report {
    /** A claim's verdict: its statement, the rule that decides it, and the outcome computed by the rule. */
    public record Verdict(String claim, String rule, String outcome) {
        String line() {
            return claim + ": **" + outcome + "**. Rule: " + rule;
        }
    }

    /** One table: a header row and rows of cells. */
    record Table(List<String> header, List<List<String>> rows) {
    }

    /** A section of the report: a title, paragraphs, tables and plots. */
    record Section(String title, List<String> paragraphs, List<Table> tables, List<Charts.Plot> plots) {
    }

    private final Path dir;
    /** Claim number (1..5) to its verdict; a claim without one is "not measured yet". */
    private final Map<Integer, Verdict> verdicts = new TreeMap<>();
    private final List<Section> sections = new ArrayList<>();

    private Report(Path dir) {
        this.dir = dir;
    }

    /** The claims, by number: what each says, and the experiment that decides it. */
    static final Map<Integer, String> CLAIMS = Map.of(
            1, "Claim 1 (the ring's workers idle less than the parameter server's)",
            2, "Claim 2 (the ring reaches a given training loss sooner in wall time than the parameter server)",
            3, "Claim 3 (the ring scales better than the parameter server)",
            4, "Claim 4 (the ring is as resilient as the parameter server)",
            5, "Claim 5 (the ring holds larger models than a parameter-server worker)");
    private static final Map<Integer, String> DECIDED_BY = Map.of(1, IdleExperiment.NAME, 2, ProgressExperiment.NAME,
            3, ScalingExperiment.NAME, 4, ResilienceExperiment.NAME, 5, CapacityExperiment.NAME);

    /** Reads the results files of {@code dir} ({@code idle.jsonl}, {@code progress.jsonl}, ...; any may be missing, not all). */
    public static Report load(Path dir) throws IOException {
        Report r = new Report(dir);
        boolean any = false;
        for (Experiment e : Experiments.all()) {
            Path f = Harness.resultsFile(dir, e.name());
            if (!Files.exists(f)) {
                continue;
            }
            any = true;
            List<JsonNode> rows = Harness.readRows(f);
            switch (e.name()) {
                case IdleExperiment.NAME -> r.idle(rows);
                case ProgressExperiment.NAME -> r.progress(rows);
                case ScalingExperiment.NAME -> r.scaling(rows);
                case ResilienceExperiment.NAME -> r.resilience(rows);
                case CapacityExperiment.NAME -> r.capacity(rows);
                default -> throw new IllegalStateException("no report section for experiment " + e.name());
            }
        }
        if (!any) {
            throw new IllegalArgumentException(dir + " has no results: none of "
                    + String.join(", ", Experiments.all().stream().map(e -> e.name() + ".jsonl").toList()));
        }
        return r;
    }

    /** One verdict per claim, 1 to 5, in order; a claim whose experiment has no results here is "not measured yet". */
    public List<Verdict> verdicts() {
        List<Verdict> out = new ArrayList<>();
        for (int c = 1; c <= 5; c++) {
            Verdict v = verdicts.get(c);
            if (v == null) {
                String by = DECIDED_BY.get(c);
                boolean exists = Experiments.all().stream().anyMatch(e -> e.name().equals(by));
                v = new Verdict(CLAIMS.get(c), "decided by the " + by + " experiment" + (exists ? ", which has no results in this directory."
                        : ", which does not exist yet."), "not measured yet");
            }
            out.add(v);
        }
        return out;
    }

    /** The number of plots, across sections: the HTML embeds one image for each. */
    public int plotCount() {
        return sections.stream().mapToInt(s -> s.plots().size()).sum();
    }

    // ---- idle

    /** The rule of claim 1, as printed. */
    public static final String IDLE_RULE = "claim 1 holds at K if the ring's median idle (best schedule) is below every ps mode's at K";

    private void idle(List<JsonNode> all) {
        List<JsonNode> rows = ok(all);
        // nodes -> "system mode" -> mean worker idle of each repetition
        Map<Integer, Map<String, List<Double>>> idle = new TreeMap<>();
        Map<Integer, Map<String, List<Double>>> maxIdle = new TreeMap<>();
        Map<Integer, Map<String, List<Double>>> sps = new TreeMap<>();
        for (JsonNode j : rows) {
            int k = j.path("settings").path("nodes").asInt();
            String m = label(j);
            idle.computeIfAbsent(k, x -> new LinkedHashMap<>()).computeIfAbsent(m, x -> new ArrayList<>()).add(j.path("figures").path("meanIdle").asDouble());
            maxIdle.computeIfAbsent(k, x -> new LinkedHashMap<>()).computeIfAbsent(m, x -> new ArrayList<>()).add(j.path("figures").path("maxIdle").asDouble());
            sps.computeIfAbsent(k, x -> new LinkedHashMap<>()).computeIfAbsent(m, x -> new ArrayList<>()).add(j.path("figures").path("samplesPerSec").asDouble());
        }
        List<List<String>> cells = new ArrayList<>();
        Map<String, List<double[]>> series = new LinkedHashMap<>();
        List<Integer> holds = new ArrayList<>(), fails = new ArrayList<>(), undecided = new ArrayList<>();
        for (var e : idle.entrySet()) {
            int k = e.getKey();
            double ringBest = Double.NaN, psBest = Double.NaN;
            for (var m : e.getValue().entrySet()) {
                Stats s = Stats.of(m.getValue());
                Stats mx = Stats.of(maxIdle.get(k).get(m.getKey()));
                Stats sp = Stats.of(sps.get(k).get(m.getKey()));
                cells.add(List.of(Integer.toString(k), m.getKey(), Integer.toString(s.n()), pct(s.median()), pct(s.min()) + " .. " + pct(s.max()),
                        pct(mx.median()), String.format(Locale.ROOT, "%.0f", sp.median())));
                series.computeIfAbsent(m.getKey(), x -> new ArrayList<>()).add(new double[] {k, 100 * s.median()});
                if (m.getKey().startsWith("ring ")) {
                    ringBest = Double.isNaN(ringBest) ? s.median() : Math.min(ringBest, s.median());
                } else {
                    psBest = Double.isNaN(psBest) ? s.median() : Math.min(psBest, s.median());
                }
            }
            if (Double.isNaN(ringBest) || Double.isNaN(psBest)) {
                undecided.add(k);
            } else if (ringBest < psBest) {
                holds.add(k);
            } else {
                fails.add(k);
            }
        }
        verdicts.put(1, new Verdict(CLAIMS.get(1), IDLE_RULE + ".", outcome(holds, fails, undecided)));
        List<String> paras = new ArrayList<>(provenance(all, rows));
        paras.add("Idle = a worker's idle ÷ wall over the steps after the warm-up (an async ring also leaves out its drain), "
                + "averaged over the run's workers (every ring stage; the parameter server's workers: K nodes are S servers and K-S workers, S the fewest that leave a worker count dividing the batch). "
                + "Median and spread (min .. max) over the repetitions.");
        sections.add(new Section("Idle ÷ wall per worker against node count", paras,
                List.of(new Table(List.of("nodes K", "system mode", "repetitions", "median idle", "spread", "median max-worker idle", "median samples/s"), cells)),
                List.of(new Charts.Plot("Median idle ÷ wall per worker", "nodes K", "idle %", series, true, true))));
    }

    static String outcome(List<Integer> holds, List<Integer> fails, List<Integer> undecided) {
        List<String> parts = new ArrayList<>();
        if (!holds.isEmpty()) {
            parts.add("holds at K = " + join(holds));
        }
        if (!fails.isEmpty()) {
            parts.add("does not hold at K = " + join(fails));
        }
        if (!undecided.isEmpty()) {
            parts.add("undecided at K = " + join(undecided) + " (a system has no ok run)");
        }
        return parts.isEmpty() ? "undecided (no ok runs)" : String.join("; ", parts);
    }

    // ---- progress

    /** The rule of claim 2, as printed. */
    public static final String PROGRESS_RULE = "the target is the highest of the modes' median final losses (mean of the last 5 steps' loss); "
            + "a run's time to target is the first time the 5-step moving mean of its loss is at or below it; claim 2 holds if the ring's "
            + "median time to target (best schedule) is below every ps mode's";

    private void progress(List<JsonNode> all) {
        List<JsonNode> rows = ok(all);
        Map<String, List<JsonNode>> byMode = new LinkedHashMap<>();
        for (JsonNode j : rows) {
            byMode.computeIfAbsent(label(j), x -> new ArrayList<>()).add(j);
        }
        double target = Double.NEGATIVE_INFINITY;
        for (List<JsonNode> runs : byMode.values()) {
            target = Math.max(target, Stats.of(runs.stream().map(j -> j.path("figures").path("finalLoss").asDouble()).toList()).median());
        }
        List<List<String>> cells = new ArrayList<>();
        Map<String, List<double[]>> byStep = new LinkedHashMap<>(), byTime = new LinkedHashMap<>();
        double ringBest = Double.NaN, psBest = Double.NaN;
        for (var e : byMode.entrySet()) {
            List<Double> finals = new ArrayList<>(), secs = new ArrayList<>(), toTarget = new ArrayList<>();
            for (JsonNode j : e.getValue()) {
                finals.add(j.path("figures").path("finalLoss").asDouble());
                secs.add(j.path("figures").path("seconds").asDouble());
                List<double[]> curve = new ArrayList<>();
                for (JsonNode p : j.path("figures").path("curve")) {
                    curve.add(new double[] {p.get(0).asDouble(), p.get(1).asDouble(), p.get(2).asDouble()});
                }
                toTarget.add(timeTo(curve, target));
                String name = e.getKey() + (e.getValue().size() > 1 ? " #" + j.path("repetition").asInt() : "");
                byStep.put(name, curve.stream().map(p -> new double[] {p[0], p[2]}).toList());
                byTime.put(name, curve.stream().map(p -> new double[] {p[1], p[2]}).toList());
            }
            Stats f = Stats.of(finals), s = Stats.of(secs), t = Stats.of(toTarget);
            cells.add(List.of(e.getKey(), Integer.toString(f.n()), num(f.median()), num(f.min()) + " .. " + num(f.max()), sec(s.median()),
                    sec(t.median()), sec(t.min()) + " .. " + sec(t.max())));
            if (e.getKey().startsWith("ring ")) {
                ringBest = Double.isNaN(ringBest) ? t.median() : Math.min(ringBest, t.median());
            } else {
                psBest = Double.isNaN(psBest) ? t.median() : Math.min(psBest, t.median());
            }
        }
        String outcome = Double.isNaN(ringBest) || Double.isNaN(psBest) ? "undecided (a system has no ok run)"
                : ringBest < psBest ? String.format(Locale.ROOT, "holds (ring %.1f s, best ps %.1f s to loss %.4f)", ringBest, psBest, target)
                : String.format(Locale.ROOT, "does not hold (ring %.1f s, best ps %.1f s to loss %.4f)", ringBest, psBest, target);
        verdicts.put(2, new Verdict(CLAIMS.get(2), PROGRESS_RULE + ".", outcome));
        List<String> paras = new ArrayList<>(provenance(all, rows));
        paras.add("Loss = the training loss of each step, from the first worker whose steps carry one; time = seconds since its first step began. "
                + String.format(Locale.ROOT, "Target loss for the time-to-target column: %.4f.", target));
        sections.add(new Section("Training loss against iteration and wall time", paras,
                List.of(new Table(List.of("system mode", "repetitions", "median final loss", "spread", "median run s", "median s to target",
                        "spread"), cells)),
                List.of(new Charts.Plot("Training loss against iteration", "step", "loss", byStep, false, false),
                        new Charts.Plot("Training loss against wall time", "seconds", "loss", byTime, false, false))));
    }

    /** The first time at which the moving mean of the last 5 losses is at or below {@code target}; the last time when never. */
    static double timeTo(List<double[]> curve, double target) {
        double sum = 0;
        for (int i = 0; i < curve.size(); i++) {
            sum += curve.get(i)[2];
            if (i >= 5) {
                sum -= curve.get(i - 5)[2];
            }
            if (sum / Math.min(i + 1, 5) <= target + 1e-12) {
                return curve.get(i)[1];
            }
        }
        return curve.isEmpty() ? Double.NaN : curve.get(curve.size() - 1)[1];
    }

    // ---- scaling

    /** The rule of claim 3, as printed. */
    public static final String SCALING_RULE = "at each K >= 2, for each workload and link rate, the ring wins if its best schedule's median "
            + "samples/s is above every ps mode's and, where the workload has a target accuracy, its median time to the target is below "
            + "every ps mode's (a run that never reached it counts as never); claim 3 holds at K if the ring wins for every workload and "
            + "link measured at K, does not hold if it wins for none, and depends on the workload or link otherwise";

    /** The product's aim for claim 3, checked but not the claim's rule. */
    public static final String SCALING_AIM = "the async ring at 8 devices at or above 6x one device and 2x the best ps at 8 (samples/s)";

    /** One measured cell of the scaling grid: its median samples/s and time to target (infinite: never reached; NaN: no target). */
    private record Cell(Stats samplesPerSec, double timeToTarget, int reached, int runs) {
    }

    private void scaling(List<JsonNode> all) {
        List<JsonNode> rows = ok(all);
        // workload -> link (0 for the baseline) -> K -> "system mode" -> rows
        Map<String, Map<Integer, Map<Integer, Map<String, List<JsonNode>>>>> grid = new TreeMap<>();
        for (JsonNode j : rows) {
            JsonNode s = j.path("settings");
            grid.computeIfAbsent(s.path("workload").asText(), x -> new TreeMap<>())
                    .computeIfAbsent(s.path("linkMbit").asInt(), x -> new TreeMap<>())
                    .computeIfAbsent(s.path("nodes").asInt(), x -> new TreeMap<>())
                    .computeIfAbsent(label(j), x -> new ArrayList<>()).add(j);
        }
        List<String> paras = new ArrayList<>(provenance(all, rows));
        paras.add("Samples/s: a ring step's wall time averaged over the stages, after the warm-up (an async ring also leaves out its drain); "
                + "a ps run sums its workers' batch / W rows per step. Speed-up = median samples/s ÷ the one-device baseline's (K = 1: a one-node "
                + "ring, no link); efficiency = speed-up ÷ K. Time to target = seconds from the first step to the end of the first epoch "
                + "whose test accuracy reaches the target (evaluated once per epoch); time speed-up = baseline's time ÷ this time.");
        // K -> (workload @ link) -> ring wins?
        Map<Integer, Map<String, Boolean>> wins = new TreeMap<>();
        Map<Integer, List<String>> undecided = new TreeMap<>();
        List<String> aims = new ArrayList<>();
        Map<Integer, List<String>> speedups = new TreeMap<>();
        List<Table> tables = new ArrayList<>();
        List<Charts.Plot> plots = new ArrayList<>();
        for (var w : grid.entrySet()) {
            String workload = w.getKey();
            Map<Integer, Map<String, List<JsonNode>>> baseK = w.getValue().get(0);
            List<JsonNode> baseRows = baseK == null ? null : baseK.getOrDefault(1, Map.of()).values().stream().findFirst().orElse(null);
            Cell base = baseRows == null ? null : cell(baseRows);
            List<List<String>> cells = new ArrayList<>();
            Map<String, List<double[]>> speedup = new LinkedHashMap<>(), times = new LinkedHashMap<>();
            if (base != null) {
                cells.add(row("-", 1, "one device (ring, 1 node)", base, base));
            }
            boolean hasTarget = base != null ? !Double.isNaN(base.timeToTarget()) : rows.stream()
                    .anyMatch(j -> j.path("settings").path("workload").asText().equals(workload) && j.path("settings").has("targetAccuracy"));
            for (var l : w.getValue().entrySet()) {
                int link = l.getKey();
                if (link == 0) {
                    continue;
                }
                for (var k : l.getValue().entrySet()) {
                    int nodes = k.getKey();
                    Cell ringBest = null, psBest = null, async = null;
                    double ringTime = Double.POSITIVE_INFINITY, psTime = Double.POSITIVE_INFINITY;
                    for (var m : k.getValue().entrySet()) {
                        Cell c = cell(m.getValue());
                        cells.add(row(link + " Mbit/s", nodes, m.getKey(), c, base));
                        String series = m.getKey() + " @ " + link + " Mbit/s";
                        if (base != null) {
                            speedup.computeIfAbsent(series, x -> new ArrayList<>(List.of(new double[] {1, 1})))
                                    .add(new double[] {nodes, c.samplesPerSec().median() / base.samplesPerSec().median()});
                        }
                        if (hasTarget && Double.isFinite(c.timeToTarget())) {
                            times.computeIfAbsent(series, x -> new ArrayList<>()).add(new double[] {nodes, c.timeToTarget()});
                        }
                        if (m.getKey().startsWith("ring ")) {
                            ringBest = ringBest == null || c.samplesPerSec().median() > ringBest.samplesPerSec().median() ? c : ringBest;
                            ringTime = Math.min(ringTime, c.timeToTarget());
                            if (m.getKey().equals("ring async")) {
                                async = c;
                            }
                        } else {
                            psBest = psBest == null || c.samplesPerSec().median() > psBest.samplesPerSec().median() ? c : psBest;
                            psTime = Math.min(psTime, c.timeToTarget());
                        }
                    }
                    String where = workload + " at " + link + " Mbit/s";
                    if (ringBest != null && base != null) {
                        speedups.computeIfAbsent(nodes, x -> new ArrayList<>()).add(String.format(Locale.ROOT, "%.2fx on %s",
                                ringBest.samplesPerSec().median() / base.samplesPerSec().median(), where));
                    }
                    if (ringBest == null || psBest == null) {
                        undecided.computeIfAbsent(nodes, x -> new ArrayList<>()).add(where + " (" + (ringBest == null ? "ring" : "ps")
                                + " has no ok run)");
                    } else {
                        boolean faster = ringBest.samplesPerSec().median() > psBest.samplesPerSec().median();
                        boolean sooner = !hasTarget || ringTime < psTime;
                        wins.computeIfAbsent(nodes, x -> new LinkedHashMap<>()).put(where, faster && sooner);
                    }
                    if (nodes == 8) {
                        if (async == null || psBest == null || base == null) {
                            aims.add(where + ": not measured (" + (base == null ? "no baseline" : async == null ? "no ring async run" : "no ps run") + ")");
                        } else {
                            double vsOne = async.samplesPerSec().median() / base.samplesPerSec().median();
                            double vsPs = async.samplesPerSec().median() / psBest.samplesPerSec().median();
                            aims.add(String.format(Locale.ROOT, "%s: %s (async %.2fx one device, %.2fx the best ps)", where,
                                    vsOne >= 6 && vsPs >= 2 ? "met" : "not met", vsOne, vsPs));
                        }
                    }
                }
            }
            List<String> header = new ArrayList<>(List.of("link", "nodes K", "system mode", "repetitions", "median samples/s", "spread",
                    "speed-up", "efficiency"));
            if (hasTarget) {
                header.addAll(List.of("median s to target", "reached", "time speed-up"));
            } else {
                cells.replaceAll(r -> r.subList(0, 8));
            }
            tables.add(new Table(header, cells));
            if (base == null) {
                paras.add(workload + ": no ok one-device baseline run, so no speed-up or efficiency.");
            }
            if (!speedup.isEmpty()) {
                plots.add(new Charts.Plot(workload + ": speed-up over one device (samples/s)", "nodes K", "speed-up", speedup, true, true));
            }
            if (!times.isEmpty()) {
                if (base != null && Double.isFinite(base.timeToTarget())) {
                    times.put("one device", List.of(new double[] {1, base.timeToTarget()}));
                }
                plots.add(new Charts.Plot(workload + ": seconds to the target accuracy", "nodes K", "seconds", times, true, true));
            }
        }
        List<Integer> holds = new ArrayList<>(), fails = new ArrayList<>();
        List<String> depends = new ArrayList<>();
        Set<Integer> ks = new TreeSet<>(wins.keySet());
        ks.addAll(undecided.keySet());
        for (int k : ks) {
            Map<String, Boolean> at = wins.getOrDefault(k, Map.of());
            if (at.isEmpty()) {
                continue;
            }
            if (!at.containsValue(false)) {
                holds.add(k);
            } else if (!at.containsValue(true)) {
                fails.add(k);
            } else {
                List<String> yes = at.entrySet().stream().filter(Map.Entry::getValue).map(Map.Entry::getKey).toList();
                List<String> no = at.entrySet().stream().filter(e -> !e.getValue()).map(Map.Entry::getKey).toList();
                depends.add("K = " + k + " (holds for " + String.join(", ", yes) + "; not for " + String.join(", ", no) + ")");
            }
        }
        List<String> parts = new ArrayList<>();
        if (!holds.isEmpty()) {
            parts.add("holds at K = " + join(holds));
        }
        if (!fails.isEmpty()) {
            parts.add("does not hold at K = " + join(fails));
        }
        if (!depends.isEmpty()) {
            parts.add("depends on the workload or link at " + String.join("; ", depends));
        }
        undecided.forEach((k, why) -> parts.add("undecided at K = " + k + " for " + String.join(", ", why)));
        if (!speedups.isEmpty()) {
            List<String> sp = new ArrayList<>();
            speedups.forEach((k, v) -> sp.add("K = " + k + ": " + String.join(", ", v)));
            parts.add("the best ring schedule's speed-up over one device: " + String.join("; ", sp));
        }
        verdicts.put(3, new Verdict(CLAIMS.get(3), SCALING_RULE + ". Aim, " + SCALING_AIM + ": "
                + (aims.isEmpty() ? "not measured (no run at 8 nodes)" : String.join("; ", aims)) + ".",
                parts.isEmpty() ? "undecided (no ok runs at K >= 2)" : String.join("; ", parts)));
        sections.add(new Section("Scaling: throughput and time to target accuracy against node count", paras, tables, plots));
    }

    private static Cell cell(List<JsonNode> runs) {
        List<Double> sps = new ArrayList<>(), times = new ArrayList<>();
        int reached = 0;
        boolean target = false;
        for (JsonNode j : runs) {
            sps.add(j.path("figures").path("samplesPerSec").asDouble());
            JsonNode t = j.path("figures").path("timeToTarget");
            if (j.path("figures").has("timeToTarget")) {
                target = true;
                times.add(t.isNumber() ? t.asDouble() : Double.POSITIVE_INFINITY);
                reached += t.isNumber() ? 1 : 0;
            }
        }
        return new Cell(Stats.of(sps), target ? Stats.of(times).median() : Double.NaN, reached, runs.size());
    }

    private static List<String> row(String link, int nodes, String mode, Cell c, Cell base) {
        Stats s = c.samplesPerSec();
        String speedup = base == null ? "-" : String.format(Locale.ROOT, "%.2fx", s.median() / base.samplesPerSec().median());
        String eff = base == null ? "-" : pct(s.median() / (nodes * base.samplesPerSec().median()));
        String time = Double.isNaN(c.timeToTarget()) ? "-" : Double.isInfinite(c.timeToTarget()) ? "never" : sec(c.timeToTarget());
        String tSpeed = base == null || !Double.isFinite(c.timeToTarget()) || !Double.isFinite(base.timeToTarget()) ? "-"
                : String.format(Locale.ROOT, "%.2fx", base.timeToTarget() / c.timeToTarget());
        return List.of(link, Integer.toString(nodes), mode, Integer.toString(s.n()), String.format(Locale.ROOT, "%.0f", s.median()),
                String.format(Locale.ROOT, "%.0f .. %.0f", s.min(), s.max()), speedup, eff, time, c.reached() + " of " + c.runs(), tSpeed);
    }

    // ---- capacity

    /** The rule of claim 5, as printed. */
    public static final String CAPACITY_RULE = "over the runs under the memory cap (emulated), claim 5 holds at K if, at every depth measured, "
            + "the largest model the ring on K nodes trained (median parameters over the repetitions) is larger than the largest a ps worker "
            + "trained; it does not hold if it is larger at no depth, and depends on the depth otherwise";

    private void capacity(List<JsonNode> all) {
        List<JsonNode> rows = ok(all);
        // depth -> "system mode K" -> rows (capped runs only count)
        Map<Integer, Map<String, List<JsonNode>>> grid = new TreeMap<>();
        for (JsonNode j : rows) {
            if (!j.path("emulated").asBoolean()) {
                continue;
            }
            JsonNode s = j.path("settings");
            grid.computeIfAbsent(s.path("depth").asInt(), x -> new TreeMap<>())
                    .computeIfAbsent(label(j) + " " + s.path("nodes").asInt(), x -> new ArrayList<>()).add(j);
        }
        List<List<String>> cells = new ArrayList<>();
        Map<String, List<double[]>> ratios = new LinkedHashMap<>();
        Map<Integer, Map<Integer, Boolean>> larger = new TreeMap<>(); // K -> depth -> ring larger?
        Set<String> mems = new TreeSet<>();
        for (var d : grid.entrySet()) {
            int depth = d.getKey();
            Double ps = null;
            for (var m : d.getValue().entrySet()) {
                if (m.getKey().startsWith("ps ")) {
                    ps = Stats.of(m.getValue().stream().map(j -> j.path("figures").path("largestParameters").asDouble()).toList()).median();
                }
            }
            for (var m : d.getValue().entrySet()) {
                List<JsonNode> runs = m.getValue();
                runs.forEach(j -> mems.add(j.path("settings").path("nodeMem").asText()));
                Stats p = Stats.of(runs.stream().map(j -> j.path("figures").path("largestParameters").asDouble()).toList());
                Stats w = Stats.of(runs.stream().map(j -> j.path("figures").path("largestWidth").asDouble()).toList());
                Stats held = Stats.of(runs.stream().map(j -> j.path("figures").path("parametersPerNode").asDouble()).toList());
                boolean top = runs.stream().anyMatch(j -> j.path("figures").path("gridTop").asBoolean());
                int k = runs.get(0).path("settings").path("nodes").asInt();
                boolean ring = m.getKey().startsWith("ring ");
                String ratio = "-", perK = "-";
                if (ring && ps != null) {
                    double r = p.median() / ps;
                    ratio = String.format(Locale.ROOT, "%.2f", r);
                    perK = String.format(Locale.ROOT, "%.2f", r / k);
                    ratios.computeIfAbsent("depth " + depth, x -> new ArrayList<>()).add(new double[] {k, r});
                    larger.computeIfAbsent(k, x -> new TreeMap<>()).put(depth, p.median() > ps);
                }
                cells.add(List.of(Integer.toString(depth), ring ? m.getKey() : m.getKey().replaceAll(" \\d+$", "") + " (1 server, 1 worker)",
                        Integer.toString(p.n()), String.format(Locale.ROOT, "%.0f", w.median()) + (top ? " (grid top: at least)" : ""),
                        String.format(Locale.ROOT, "%,.0f", p.median()), String.format(Locale.ROOT, "%,.0f .. %,.0f", p.min(), p.max()),
                        String.format(Locale.ROOT, "%,.0f", held.median()), ratio, perK));
            }
        }
        List<Integer> holds = new ArrayList<>(), fails = new ArrayList<>();
        List<String> depends = new ArrayList<>();
        for (var e : larger.entrySet()) {
            Map<Integer, Boolean> at = e.getValue();
            if (!at.containsValue(false)) {
                holds.add(e.getKey());
            } else if (!at.containsValue(true)) {
                fails.add(e.getKey());
            } else {
                depends.add("K = " + e.getKey() + " (holds at depth " + join(at.entrySet().stream().filter(Map.Entry::getValue).map(Map.Entry::getKey).toList())
                        + ", not at depth " + join(at.entrySet().stream().filter(x -> !x.getValue()).map(Map.Entry::getKey).toList()) + ")");
            }
        }
        List<String> parts = new ArrayList<>();
        if (!holds.isEmpty()) {
            parts.add("holds at K = " + join(holds));
        }
        if (!fails.isEmpty()) {
            parts.add("does not hold at K = " + join(fails));
        }
        if (!depends.isEmpty()) {
            parts.add("depends on the depth at " + String.join("; ", depends));
        }
        String memText = mems.isEmpty() ? "" : " (" + String.join(", ", mems) + " MiB heap per node)";
        verdicts.put(5, new Verdict(CLAIMS.get(5), CAPACITY_RULE + memText + ".",
                parts.isEmpty() ? "undecided (no capped ring and ps runs at the same depth" + (rows.isEmpty() ? "" : "; without root nothing is capped") + ")"
                        : String.join("; ", parts)));
        List<String> paras = new ArrayList<>(provenance(all, rows));
        paras.add("Largest = the widest mlp:784-w×depth-10 of the grid that trained " + CapacityExperiment.STEPS + " steps under the cap, "
                + "widths tried in ascending order until one ran out of memory. Held per node = the most parameters any worker held "
                + "(a ring stage its share, the ps worker the whole model). Ratio = the ring's largest ÷ the ps worker's at the same depth; "
                + "ratio ÷ K = 1 when the ring's capacity grows with its node count. Only runs under the cap (emulated) count.");
        if (!ratios.isEmpty()) {
            int maxK = ratios.values().stream().flatMap(List::stream).mapToInt(p -> (int) p[0]).max().orElse(2);
            List<double[]> ideal = new ArrayList<>();
            for (int k = 1; k <= maxK; k++) {
                ideal.add(new double[] {k, k});
            }
            ratios.put("ratio = K", ideal);
        }
        sections.add(new Section("Capacity: the largest model under one memory cap per node", paras,
                List.of(new Table(List.of("depth", "system mode K", "repetitions", "largest width", "median parameters", "spread",
                        "held per node", "ratio to ps", "ratio ÷ K"), cells)),
                ratios.isEmpty() ? List.of() : List.of(new Charts.Plot("Largest model, ring ÷ ps worker, against K", "nodes K", "ratio", ratios, true, true))));
    }

    // ---- resilience

    private void resilience(List<JsonNode> all) {
        ResilienceReport.Result r = ResilienceReport.of(all, provenance(all, ok(all)));
        verdicts.put(4, r.verdict());
        sections.add(r.section());
    }

    // ---- common

    private static List<JsonNode> ok(List<JsonNode> rows) {
        return rows.stream().filter(j -> j.path("status").asText().equals("ok")).toList();
    }

    private static String label(JsonNode j) {
        return j.path("settings").path("system").asText() + " " + j.path("settings").path("mode").asText();
    }

    /** Machine, commit, emulation, repetitions, fixed and varied settings, failures. */
    private static List<String> provenance(List<JsonNode> all, List<JsonNode> rows) {
        Set<String> machines = new LinkedHashSet<>(), commits = new LinkedHashSet<>(), notes = new LinkedHashSet<>();
        Set<Integer> reps = new TreeSet<>();
        Map<String, Set<String>> values = new LinkedHashMap<>();
        Map<String, Integer> having = new LinkedHashMap<>();
        int emulated = 0;
        List<Double> loads = new ArrayList<>();
        for (JsonNode j : rows) {
            if (j.path("loadAverage").asDouble(-1) >= 0) {
                loads.add(j.path("loadAverage").asDouble());
            }
            machines.add(j.path("machine").path("cores").asInt() + " cores, " + j.path("machine").path("cpuModel").asText());
            commits.add(j.path("commit").asText());
            reps.add(j.path("repetition").asInt());
            if (j.path("emulated").asBoolean()) {
                emulated++;
            }
            if (!j.path("note").asText().isEmpty()) {
                notes.add(j.path("note").asText());
            }
            j.path("settings").fields().forEachRemaining(e -> {
                values.computeIfAbsent(e.getKey(), x -> new TreeSet<>()).add(e.getValue().asText());
                having.merge(e.getKey(), 1, Integer::sum);
            });
        }
        List<String> fixed = new ArrayList<>(), varied = new ArrayList<>();
        values.forEach((k, v) -> (v.size() == 1 ? fixed : varied).add(k + " = " + String.join(", ", v)
                + (having.get(k) < rows.size() ? " (" + having.get(k) + " of " + rows.size() + " runs)" : "")));
        List<String> p = new ArrayList<>();
        p.add("Machine: " + String.join("; ", machines) + ". Commit: " + String.join(", ", commits) + ".");
        p.add(rows.size() + " ok runs (" + (all.size() - rows.size()) + " failed), " + reps.size() + " repetition(s) per setting; "
                + emulated + " on emulated devices" + (notes.isEmpty() ? "." : "; notes: " + String.join("; ", notes) + "."));
        if (!loads.isEmpty()) {
            Stats l = Stats.of(loads);
            p.add(String.format(Locale.ROOT, "Load average (1 min) as each run began: median %.1f, %.1f .. %.1f (above the cores: the machine "
                    + "was shared and the runs slowed).", l.median(), l.min(), l.max()));
        }
        p.add("Settings held fixed: " + String.join("; ", fixed) + ".");
        p.add("Settings varied: " + String.join("; ", varied) + ".");
        for (JsonNode j : all) {
            if (!j.path("status").asText().equals("ok")) {
                p.add("Failed: " + j.path("key").asText() + ": " + j.path("error").asText());
            }
        }
        return p;
    }

    /** report.md. */
    public String markdown() {
        StringBuilder b = new StringBuilder("# RingTMP experiments: report\n\nResults: `" + dir + "`\n\n## Verdicts\n\n");
        for (Verdict v : verdicts()) {
            b.append("- ").append(v.line()).append('\n');
        }
        for (Section s : sections) {
            b.append("\n## ").append(s.title()).append("\n\n");
            for (String p : s.paragraphs()) {
                b.append(p).append("\n\n");
            }
            for (Table t : s.tables()) {
                b.append("| ").append(String.join(" | ", t.header())).append(" |\n|");
                b.append("---|".repeat(t.header().size())).append('\n');
                for (List<String> r : t.rows()) {
                    b.append("| ").append(String.join(" | ", r)).append(" |\n");
                }
                b.append('\n');
            }
            for (Charts.Plot p : s.plots()) {
                b.append("Plot in report.html: ").append(p.title()).append(".\n\n");
            }
        }
        return b.toString();
    }

    /** report.html: one self-contained page. */
    public String html() throws IOException {
        StringBuilder b = new StringBuilder("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>RingTMP experiments</title>\n"
                + "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}"
                + "td,th{border:1px solid #999;padding:.2em .5em;text-align:right}</style></head><body>\n"
                + "<h1>RingTMP experiments: report</h1>\n<p>Results: <code>" + esc(dir.toString()) + "</code></p>\n<h2>Verdicts</h2>\n<ul>\n");
        for (Verdict v : verdicts()) {
            b.append("<li>").append(esc(v.claim())).append(": <strong>").append(esc(v.outcome())).append("</strong>. Rule: ")
                    .append(esc(v.rule())).append("</li>\n");
        }
        b.append("</ul>\n");
        for (Section s : sections) {
            b.append("<h2>").append(esc(s.title())).append("</h2>\n");
            for (String p : s.paragraphs()) {
                b.append("<p>").append(esc(p)).append("</p>\n");
            }
            for (Table t : s.tables()) {
                b.append("<table><tr>");
                t.header().forEach(h -> b.append("<th>").append(esc(h)).append("</th>"));
                b.append("</tr>\n");
                for (List<String> r : t.rows()) {
                    b.append("<tr>");
                    r.forEach(c -> b.append("<td>").append(esc(c)).append("</td>"));
                    b.append("</tr>\n");
                }
                b.append("</table>\n");
            }
            for (Charts.Plot p : s.plots()) {
                b.append("<figure><img alt=\"").append(esc(p.title())).append("\" src=\"").append(Charts.dataUri(p))
                        .append("\"><figcaption>").append(esc(p.title())).append("</figcaption></figure>\n");
            }
        }
        return b.append("</body></html>\n").toString();
    }

    /** Writes {@code report.md} and {@code report.html} into {@code out}; returns the HTML's path. */
    public Path write(Path out) throws IOException {
        Files.createDirectories(out);
        Files.writeString(out.resolve("report.md"), markdown(), StandardCharsets.UTF_8);
        Path html = out.resolve("report.html");
        Files.writeString(html, html(), StandardCharsets.UTF_8);
        return html;
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static String pct(double f) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * f);
    }

    private static String num(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }

    private static String sec(double v) {
        return String.format(Locale.ROOT, "%.1f s", v);
    }

    private static String join(List<Integer> ks) {
        return String.join(", ", ks.stream().map(String::valueOf).toList());
    }
}
