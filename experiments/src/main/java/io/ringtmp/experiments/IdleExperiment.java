package io.ringtmp.experiments;

import io.ringtmp.launch.StepTotals;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Idle ÷ wall per worker against node count, the ring (gpipe, 1f1b, async) against the parameter
 * server (bsp, asp, ssp), on emulated devices (a quarter of a core each, 100 Mbit/s links).
 *
 * <p>Every run is a real launch of a small deep MLP (784-128×7-10: eight linear layers, so up to
 * eight stages) on synthetic teacher data. A worker is a ring stage, or a parameter-server worker
 * (K nodes are S servers and K-S workers, S the fewest that leave a worker count dividing the batch:
 * 1 on 2 or 3 nodes, 2 on 4, 4 on 8; see {@link TrainingRun#servers}). Figures per run: each worker's
 * idle fraction over the steps after {@code warmup} (less an async ring's drain), their mean and
 * max, and samples/s.
 *
 * <ul>
 *   <li>quick: 2 and 3 nodes, 20 steps (4 warm-up), one repetition; at 2 nodes the ps has one worker, where its modes
 *       coincide, and runs bsp only: 10 runs, about 3 minutes on two cores;</li>
 *   <li>full: 2, 4 and 8 nodes, 60 steps (10 warm-up), three repetitions (seeds 1, 2, 3): 54 runs.</li>
 * </ul>
 */
public final class IdleExperiment implements Experiment {
    public static final String NAME = "idle";
    static final String MODEL = "mlp:784-128-128-128-128-128-128-128-10";
    static final List<String> RING_MODES = List.of("gpipe", "1f1b", "async");
    static final List<String> PS_MODES = List.of("bsp", "asp", "ssp");

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<RunSpec> runs(Profile profile) {
        boolean quick = profile == Profile.QUICK;
        List<Integer> nodes = quick ? List.of(2, 3) : List.of(2, 4, 8);
        int reps = quick ? 1 : 3;
        int steps = quick ? 20 : 60;
        int warmup = quick ? 4 : 10;
        List<RunSpec> runs = new ArrayList<>();
        for (int rep = 0; rep < reps; rep++) {
            for (int k : nodes) {
                for (String system : List.of("ring", "ps")) {
                    // One ps worker (K = 2: one server, one worker): bsp, asp and ssp are the same program; quick runs bsp only.
                    List<String> psModes = quick && k == 2 ? List.of("bsp") : PS_MODES;
                    for (String mode : system.equals("ring") ? RING_MODES : psModes) {
                        Map<String, Object> s = RunSettings.base(system, mode, k);
                        s.put("steps", steps);
                        s.put("warmup", warmup);
                        RunSettings.addDevice(s, profile);
                        runs.add(new RunSpec(s, rep + 1, rep));
                    }
                }
            }
        }
        return runs;
    }

    @Override
    public Outcome run(RunSpec run, RunContext context) throws Exception {
        TrainingRun t = TrainingRun.launch(run, context);
        int warmup = run.integer("warmup");
        List<Double> idle = new ArrayList<>();
        double wallMs = 0;
        long steps = Long.MAX_VALUE;
        for (int w : t.workers()) {
            StepTotals s = t.totals(w, warmup);
            if (s.steps == 0) {
                throw new IllegalStateException("worker " + w + " has no step after the warm-up of " + warmup + " in " + t.dir);
            }
            idle.add(s.fraction(s.idleMs));
            wallMs += s.wallMs / s.steps;
            steps = Math.min(steps, s.steps);
        }
        double stepMs = wallMs / idle.size();
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("workerIdle", idle);
        f.put("meanIdle", idle.stream().mapToDouble(Double::doubleValue).average().orElse(0));
        f.put("maxIdle", idle.stream().mapToDouble(Double::doubleValue).max().orElse(0));
        f.put("stepMs", stepMs);
        f.put("samplesPerSec", run.integer("batch") / (stepMs / 1e3));
        f.put("timedSteps", steps);
        f.put("runDir", t.dir.toString());
        return new Outcome(f, t.emulated, t.note);
    }
}
