package io.ringtmp.experiments;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Faults injected into real launches ({@code launch --fault}: SIGKILL, SIGSTOP, a link taken
 * down), the ring against the parameter server, each beside a fault-free run with the same seed:
 * whether the run completes, the detection time, the time to the next step, the steps replayed,
 * the throughput before, during and after, and the final test accuracy.
 *
 * <ul>
 *   <li>quick: 3 nodes, the small deep MLP of {@link IdleExperiment} on teacher data, 80 steps on
 *       emulated devices, failure timeout 2 s: a SIGKILL of node 1 (the ring's middle stage, the
 *       parameter server's first worker) 1.5 s after the first step, async ring and bsp; no
 *       fault-free runs (the accuracy is not compared): 2 runs, about a minute (40 s and 50 s at 150 steps on
 *       a loaded machine);</li>
 *   <li>full: W1 (784-512-512-10) on MNIST, 4 nodes, 3 epochs, failure timeout 3 s: async, gpipe
 *       and 1f1b rings and bsp and asp parameter servers, each fault-free and with a SIGKILL of a
 *       random node at a random time, a 10 s SIGSTOP of one, and a 10 s cut of a link (emulated
 *       devices only), seeds 1, 2, 3.</li>
 * </ul>
 *
 * <p>A run that does not complete (the parameter server fails a dead worker over but not a dead
 * server: every node stops with exit 3 naming it) is a result, not a failure of the experiment: its row says
 * {@code completed: false} with what was measured.
 */
public final class ResilienceExperiment implements Experiment {
    public static final String NAME = "resilience";
    static final String W1 = "mlp:784-512-512-10";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<RunSpec> runs(Profile profile) {
        List<RunSpec> runs = new ArrayList<>();
        if (profile == Profile.QUICK) {
            for (String[] sm : new String[][]{{"ring", "async"}, {"ps", "bsp"}}) {
                Map<String, Object> s = RunSettings.base(sm[0], sm[1], 3);
                s.put("steps", 80);
                s.put("failureTimeoutMs", 2000);
                s.put("fault", "kill:1@1500ms");
                RunSettings.addDevice(s, profile);
                runs.add(new RunSpec(s, 1, 0));
            }
            return runs;
        }
        for (int rep = 0; rep < 3; rep++) {
            for (String[] sm : new String[][]{{"ring", "async"}, {"ring", "gpipe"}, {"ring", "1f1b"}, {"ps", "bsp"}, {"ps", "asp"}}) {
                for (String fault : List.of("none", "kill:random", "stop:random@8s+10s", "cut:random@8s+10s")) {
                    Map<String, Object> s = RunSettings.base(sm[0], sm[1], 4);
                    s.put("model", W1);
                    s.put("data", "mnist");
                    s.put("epochs", 3);
                    s.put("steps", 3 * 468);
                    s.put("failureTimeoutMs", 3000);
                    s.put("fault", fault);
                    RunSettings.addDevice(s, profile);
                    s.put("nodeCpu", 0.5); // W1 on MNIST: 3 epochs in a few minutes a run
                    runs.add(new RunSpec(s, rep + 1, rep));
                }
            }
        }
        return runs;
    }

    @Override
    public Outcome run(RunSpec run, RunContext context) throws Exception {
        TrainingRun t = TrainingRun.attempt(run, context);
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("completed", t.exitCode == 0);
        f.put("exitCode", t.exitCode);
        Path summary = t.dir.resolve("summary.json");
        JsonNode s = Files.exists(summary) ? JSON.readTree(summary.toFile()) : JSON.createObjectNode();
        List<Integer> codes = new ArrayList<>();
        s.path("exitCodes").forEach(c -> codes.add(c.asInt()));
        f.put("exitCodes", codes);
        JsonNode fault = s.path("faults").path(0);
        for (String k : List.of("fault", "detectedAfterMs", "nextStepAfterMs", "stepsReplayed", "stepsPerSecBefore", "stepsPerSecDuring",
                "stepsPerSecAfter", "error")) {
            JsonNode v = fault.path(k);
            f.put(k, v.isMissingNode() || v.isNull() ? null : v.isNumber() ? (Object) v.asDouble() : v.asText());
        }
        Double accuracy = null;
        for (JsonNode e : s.path("events")) {
            if (e.path("event").asText().equals("epoch") && e.has("testAccuracy")) {
                accuracy = e.path("testAccuracy").asDouble(); // the last epoch's, whichever node evaluated it
            }
        }
        f.put("finalAccuracy", accuracy);
        return new Outcome(f, t.emulated, t.note + (t.exitCode == 0 ? "" : (t.note.isEmpty() ? "" : "; ") + "did not complete: see " + t.dir));
    }
}
