package io.ringtmp.experiments;

import com.fasterxml.jackson.databind.JsonNode;
import io.ringtmp.launch.StepTotals;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Throughput and time to a target test accuracy against node count, on emulated devices (a
 * quarter of a core each), the ring (async and the flushed schedules gpipe and 1f1b) against the
 * parameter server (bsp, asp, ssp) at equal node count, with one such device as the baseline
 * (a one-node ring: one stage, no links). The report turns the rows into speed-up (samples/s at
 * K ÷ samples/s of the baseline) and scaling efficiency (samples/s at K ÷ (K × samples/s of the
 * baseline)).
 *
 * <p>Workloads (setting {@code workload}):
 * <ul>
 *   <li>{@code W1}: mlp:784-512-512-10 on MNIST, batch 128, lr 0.05 (momentum 0.9), 3 epochs:
 *       samples/s and the time to 97% test accuracy (evaluated after each epoch). Five layers
 *       (three linear, two ReLU), so the ring runs on at most 5 nodes: no ring run at K = 8.</li>
 *   <li>{@code W2B}: mlp:6144-4096-4096-4096-4096-10 on synthetic teacher data, batch 256,
 *       lr 0.01: samples/s only (12 steps, 2 warm-up).</li>
 *   <li>{@code small} (quick profile only): the idle experiment's MLP (784-128×7-10) on Gaussian
 *       blobs (spread 4), batch 128, lr 0.05, 4 epochs of 10 steps: samples/s and the time to 60%
 *       test accuracy. It stands in for both W1 and W2B where minutes matter.</li>
 * </ul>
 *
 * <ul>
 *   <li>quick: {@code small}, K = 1 (baseline) and 2, links 100 Mbit/s; at K = 2 ring async and
 *       1f1b, ps bsp (with one worker the consistency modes coincide): 4 runs, about 2 minutes
 *       on two cores;</li>
 *   <li>full: W1 and W2B, K = 1, 2, 4, 8, links 100 and 1000 Mbit/s, every mode, three repetitions
 *       (seeds 1, 2, 3): 204 runs (no ring at K = 8 on W1), many hours.</li>
 * </ul>
 */
public final class ScalingExperiment implements Experiment {
    public static final String NAME = "scaling";
    static final String W1 = "W1";
    static final String W2B = "W2B";
    static final String SMALL = "small";

    /** A workload's fixed settings. */
    private record Workload(String id, String model, int batch, double lr, String data, int steps, int warmup, int epochs, double target) {
    }

    private static final Workload W1_LOAD = new Workload(W1, "mlp:784-512-512-10", 128, 0.05, "mnist", 0, 10, 3, 0.97);
    private static final Workload W2B_LOAD = new Workload(W2B, "mlp:6144-4096-4096-4096-4096-10", 256, 0.01, "teacher", 12, 2, 1, 0);
    private static final Workload SMALL_LOAD = new Workload(SMALL, IdleExperiment.MODEL, 128, 0.05, "blobs", 40, 4, 4, 0.60);

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<RunSpec> runs(Profile profile) {
        boolean quick = profile == Profile.QUICK;
        List<RunSpec> runs = new ArrayList<>();
        int reps = quick ? 1 : 3;
        for (int rep = 0; rep < reps; rep++) {
            for (Workload w : quick ? List.of(SMALL_LOAD) : List.of(W1_LOAD, W2B_LOAD)) {
                // One device: no link to cap, so one baseline serves every link rate.
                runs.add(new RunSpec(settings(w, "ring", "gpipe", 1, 0), rep + 1, rep));
                for (int link : quick ? List.of(100) : List.of(100, 1000)) {
                    for (int k : quick ? List.of(2) : List.of(2, 4, 8)) {
                        List<String> ring = quick ? List.of("async", "1f1b") : IdleExperiment.RING_MODES;
                        List<String> ps = quick ? List.of("bsp") : IdleExperiment.PS_MODES;
                        if (k <= layers(w.model())) {
                            for (String m : ring) {
                                runs.add(new RunSpec(settings(w, "ring", m, k, link), rep + 1, rep));
                            }
                        }
                        for (String m : ps) {
                            runs.add(new RunSpec(settings(w, "ps", m, k, link), rep + 1, rep));
                        }
                    }
                }
            }
        }
        return runs;
    }

    /** Layers of an {@code mlp:a-b-...} model: its linear layers and a ReLU between each two; a ring stage holds at least one. */
    static int layers(String model) {
        int linear = model.substring(model.indexOf(':') + 1).split("-").length - 1;
        return 2 * linear - 1;
    }

    private static Map<String, Object> settings(Workload w, String system, String mode, int nodes, int linkMbit) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("workload", w.id());
        s.put("system", system);
        s.put("mode", mode);
        s.put("nodes", nodes);
        s.put("model", w.model());
        s.put("batch", w.batch());
        s.put("lr", w.lr());
        s.put("data", w.data());
        if (w.data().equals("blobs")) {
            s.put("spread", 4);
        }
        s.put("steps", w.steps());
        s.put("warmup", w.warmup());
        s.put("epochs", w.epochs());
        if (w.target() > 0) {
            s.put("targetAccuracy", w.target());
        }
        if (system.equals("ring")) {
            s.put("microbatches", 4);
            if (w == SMALL_LOAD) {
                s.put("stageProfile", "estimate"); // quick: see RunSettings.addDevice
            }
        }
        if (mode.equals("ssp")) {
            s.put("staleness", 2);
        }
        s.put("nodeCpu", 0.25);
        s.put("linkMbit", linkMbit);
        return s;
    }

    @Override
    public Outcome run(RunSpec run, RunContext context) throws Exception {
        TrainingRun t = TrainingRun.launch(run, context);
        int warmup = run.integer("warmup");
        int batch = run.integer("batch");
        List<Integer> workers = t.workers();
        double samplesPerSec = 0;
        double stepMsSum = 0;
        double t0 = Double.POSITIVE_INFINITY;
        for (int w : workers) {
            StepTotals s = t.totals(w, warmup);
            if (s.steps == 0) {
                throw new IllegalStateException("worker " + w + " has no step after the warm-up of " + warmup + " in " + t.dir);
            }
            double stepMs = s.wallMs / s.steps;
            stepMsSum += stepMs;
            // A ps worker takes batch / W rows of each global batch and steps at its own pace (asp, ssp).
            samplesPerSec += t.ring() ? 0 : (batch / (double) workers.size()) / (stepMs / 1e3);
            List<JsonNode> steps = t.events(w, "step");
            if (!steps.isEmpty()) {
                t0 = Math.min(t0, steps.get(0).path("timeMs").asDouble() - steps.get(0).path("wallMs").asDouble());
            }
        }
        if (t.ring()) {
            // Every stage passes every microbatch: one step's wall time, averaged over the stages.
            samplesPerSec = batch / (stepMsSum / workers.size() / 1e3);
        }
        List<Map<String, Object>> epochs = new ArrayList<>();
        Double timeToTarget = null;
        double target = run.settings().containsKey("targetAccuracy") ? run.number("targetAccuracy") : Double.NaN;
        for (int node = 0; node < t.nodes() && epochs.isEmpty(); node++) {
            for (JsonNode e : t.events(node, "epoch")) {
                double secs = (e.path("timeMs").asDouble() - t0) / 1e3;
                double acc = e.path("testAccuracy").asDouble();
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("epoch", e.path("epoch").asInt());
                m.put("seconds", secs);
                m.put("testAccuracy", acc);
                epochs.add(m);
                if (timeToTarget == null && acc >= target) {
                    timeToTarget = secs;
                }
            }
        }
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("samplesPerSec", samplesPerSec);
        f.put("stepMs", stepMsSum / workers.size());
        f.put("workers", workers.size());
        if (!t.ring()) {
            f.put("servers", TrainingRun.servers(run));
        }
        if (!Double.isNaN(target)) {
            f.put("timeToTarget", timeToTarget); // null: never reached
            f.put("finalAccuracy", epochs.isEmpty() ? null : epochs.get(epochs.size() - 1).get("testAccuracy"));
        }
        f.put("epochs", epochs);
        f.put("runDir", t.dir.toString());
        return new Outcome(f, t.emulated, t.note);
    }
}
