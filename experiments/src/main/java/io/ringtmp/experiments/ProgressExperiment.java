package io.ringtmp.experiments;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Training loss against iteration and against wall time, per mode: the ring (gpipe, 1f1b, async)
 * and the parameter server (bsp, asp, ssp) on the same number of emulated devices, from the
 * nodes' {@code step} events (each step's training loss and its end time) and {@code epoch}
 * events (test loss and accuracy).
 *
 * <p>The loss comes from the first worker whose steps carry one (the ring's last stage, which
 * computes it; a parameter-server worker, whose loss is over its share of the batch). Time is
 * seconds since that worker's first step began.
 *
 * <ul>
 *   <li>quick: 3 nodes, 30 steps in 2 epochs, one repetition: 6 runs;</li>
 *   <li>full: 4 nodes, 300 steps in 3 epochs, three repetitions (seeds 1, 2, 3): 18 runs.</li>
 * </ul>
 */
public final class ProgressExperiment implements Experiment {
    public static final String NAME = "progress";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<RunSpec> runs(Profile profile) {
        boolean quick = profile == Profile.QUICK;
        int reps = quick ? 1 : 3;
        List<RunSpec> runs = new ArrayList<>();
        for (int rep = 0; rep < reps; rep++) {
            for (String system : List.of("ring", "ps")) {
                for (String mode : system.equals("ring") ? IdleExperiment.RING_MODES : IdleExperiment.PS_MODES) {
                    Map<String, Object> s = RunSettings.base(system, mode, quick ? 3 : 4);
                    s.put("steps", quick ? 30 : 300);
                    s.put("epochs", quick ? 2 : 3);
                    RunSettings.addDevice(s, profile);
                    runs.add(new RunSpec(s, rep + 1, rep));
                }
            }
        }
        return runs;
    }

    @Override
    public Outcome run(RunSpec run, RunContext context) throws Exception {
        TrainingRun t = TrainingRun.launch(run, context);
        List<List<Double>> curve = new ArrayList<>();
        int lossNode = -1;
        for (int w : t.workers()) {
            List<JsonNode> steps = t.events(w, "step");
            if (steps.isEmpty() || !steps.get(0).has("loss")) {
                continue;
            }
            lossNode = w;
            double t0 = steps.get(0).path("timeMs").asDouble() - steps.get(0).path("wallMs").asDouble();
            for (JsonNode j : steps) {
                if (j.has("loss")) {
                    curve.add(List.of(j.path("step").asDouble(), (j.path("timeMs").asDouble() - t0) / 1e3, j.path("loss").asDouble()));
                }
            }
            break;
        }
        if (lossNode < 0) {
            throw new IllegalStateException("no worker's steps carry a loss in " + t.dir);
        }
        List<Map<String, Object>> epochs = new ArrayList<>();
        for (int node = 0; node < t.nodes(); node++) {
            for (JsonNode e : t.events(node, "epoch")) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("epoch", e.path("epoch").asInt());
                m.put("step", e.path("step").asLong());
                m.put("trainLoss", e.path("trainLoss").asDouble());
                m.put("testLoss", e.path("testLoss").asDouble());
                m.put("testAccuracy", e.path("testAccuracy").asDouble());
                epochs.add(m);
            }
            if (!epochs.isEmpty()) {
                break;
            }
        }
        int tail = Math.min(5, curve.size());
        double last = curve.subList(curve.size() - tail, curve.size()).stream().mapToDouble(p -> p.get(2)).average().orElse(Double.NaN);
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("lossNode", lossNode);
        f.put("curve", curve);
        f.put("finalLoss", last);
        f.put("seconds", curve.get(curve.size() - 1).get(1));
        f.put("epochs", epochs);
        f.put("runDir", t.dir.toString());
        return new Outcome(f, t.emulated, t.note);
    }
}
