package io.ringtmp.experiments;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The largest MLP that trains under one per-node memory cap, on a depth × width grid: the ring
 * on K nodes (schedule 1f1b, the default) against the parameter server (1 server and 1 worker:
 * the worker holds the whole model, the server its one shard). The cap is the launcher's
 * {@code --node-mem}: a heap of {@code nodeMem} MiB per node JVM ({@code -Xmx}) inside a memory
 * cgroup of that plus headroom (docs/emulation.md); no CPU or link cap, so that the runs are
 * quick.
 *
 * <p>One run is one (system, K, depth) series: it launches {@code mlp:784-w×depth-10} for each
 * width w of the grid in ascending order, a few steps each, and stops at the first width that
 * does not fit. A width fits when the launch exits 0; it does not fit when a node ran out of
 * memory (its output says {@code OutOfMemoryError}, or the cgroup's OOM killer ended it: exit
 * 137). Any other failure fails the run, as does a first width that does not fit (the grid
 * starts too high). Figures: every attempt (width, parameters, exit code, why), the largest
 * width and its parameter count, and the parameters held per node by the largest that fit (the
 * most any worker held, from its {@code step} events' {@code parameterBytes}).
 *
 * <p>Without root there is no cap: the runs go unemulated, the note says so, and the report
 * counts them out of claim 5.
 *
 * <ul>
 *   <li>quick: 64 MiB heap per node, depth 3, widths 256, 512, 1024, 2048 (512 is on the edge for the ps worker: it
 *       fits or not from one run to the next); ring on 2 nodes and ps:
 *       2 runs (6 or 7 launches), about a minute and a half;</li>
 *   <li>full: 256 MiB, depths 2, 4, 8, widths 512 to 8192 (×1.5 or ×1.33 apart); ring on 2, 4
 *       and 8 nodes (8 only where depth ≥ 4: a stage needs a layer) and ps; three repetitions:
 *       33 runs.</li>
 * </ul>
 */
public final class CapacityExperiment implements Experiment {
    public static final String NAME = "capacity";
    /** Steps per attempt: past the first update, so that every buffer of a step has been allocated. */
    static final int STEPS = 3;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<RunSpec> runs(Profile profile) {
        boolean quick = profile == Profile.QUICK;
        int mem = quick ? 64 : 256;
        List<Integer> depths = quick ? List.of(3) : List.of(2, 4, 8);
        List<Integer> widths = quick ? List.of(256, 512, 1024, 2048) : List.of(512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192);
        List<Integer> ringNodes = quick ? List.of(2) : List.of(2, 4, 8);
        List<RunSpec> runs = new ArrayList<>();
        for (int rep = 0; rep < (quick ? 1 : 3); rep++) {
            for (int depth : depths) {
                for (int k : ringNodes) {
                    if (k <= 2 * depth + 1) {
                        runs.add(new RunSpec(settings("ring", "1f1b", k, depth, mem, widths), rep + 1, rep));
                    }
                }
                runs.add(new RunSpec(settings("ps", "bsp", 2, depth, mem, widths), rep + 1, rep));
            }
        }
        return runs;
    }

    private static Map<String, Object> settings(String system, String mode, int nodes, int depth, int memMiB, List<Integer> widths) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("system", system);
        s.put("mode", mode);
        s.put("nodes", nodes);
        s.put("depth", depth);
        s.put("widths", String.join(" ", widths.stream().map(String::valueOf).toList()));
        s.put("nodeMem", memMiB);
        s.put("batch", 128);
        s.put("lr", 0.05);
        s.put("steps", STEPS);
        if (system.equals("ring")) {
            s.put("microbatches", 4);
        }
        s.put("nodeCpu", 0);
        s.put("linkMbit", 0);
        return s;
    }

    /** {@code mlp:784-w-...-w-10} with {@code depth} hidden layers of width {@code w}. */
    static String model(int depth, int width) {
        return "mlp:784-" + (Integer.toString(width) + "-").repeat(depth) + "10";
    }

    /** The parameters (weights and biases) of {@link #model}. */
    static long parameters(int depth, int width) {
        long p = 784L * width + width;
        p += (depth - 1) * ((long) width * width + width);
        return p + (long) width * 10 + 10;
    }

    @Override
    public Outcome run(RunSpec run, RunContext context) throws Exception {
        int depth = run.integer("depth");
        List<Map<String, Object>> attempts = new ArrayList<>();
        int largest = 0;
        long heldPerNode = 0;
        boolean emulated = true;
        String note = "";
        for (String ws : run.string("widths").split(" ")) {
            int width = Integer.parseInt(ws);
            Map<String, Object> s = new LinkedHashMap<>(run.settings());
            s.put("model", model(depth, width));
            // Short: a node that ran out of memory is gone, its neighbours need not wait long to notice.
            s.put("failureTimeoutMs", 2000);
            ByteArrayOutputStream output = new ByteArrayOutputStream();
            PrintStream tee = new PrintStream(new Tee(context.log(), output), true, StandardCharsets.UTF_8);
            TrainingRun t = TrainingRun.attempt(new RunSpec(s, run.seed(), run.repetition()),
                    new RunContext(context.runsDir(), context.nodeCommand(), context.canEmulate(), tee));
            tee.flush();
            emulated &= t.emulated;
            note = t.note;
            String printed = output.toString(StandardCharsets.UTF_8);
            // The ring's planner refuses a model that no cut fits into the nodes' budgets (weights,
            // optimiser state, activations and, with failover on, the replicas): it does not fit either.
            boolean refused = printed.contains("which no cut into") && printed.contains("fits into the nodes' budgets");
            boolean oom = printed.contains("java.lang.OutOfMemoryError") || t.exitCode == 137 || refused;
            Map<String, Object> a = new LinkedHashMap<>();
            a.put("width", width);
            a.put("parameters", parameters(depth, width));
            a.put("exitCode", t.exitCode);
            a.put("fits", t.exitCode == 0);
            a.put("why", t.exitCode == 0 ? "trained " + STEPS + " steps" : refused ? "refused by the partitioner: no cut fits the memory budgets"
                    : oom ? "out of memory" : "exit " + t.exitCode);
            a.put("runDir", t.dir.toString());
            attempts.add(a);
            if (t.exitCode != 0 && !oom) {
                throw new IllegalStateException(model(depth, width) + " failed other than by running out of memory (exit " + t.exitCode
                        + "): see " + t.dir);
            }
            if (t.exitCode != 0) {
                break;
            }
            largest = width;
            heldPerNode = 0;
            for (int w : t.workers()) {
                List<JsonNode> steps = t.events(w, "step");
                if (steps.size() < STEPS) {
                    throw new IllegalStateException("worker " + w + " wrote " + steps.size() + " of " + STEPS + " steps in " + t.dir);
                }
                heldPerNode = Math.max(heldPerNode, steps.get(steps.size() - 1).path("parameterBytes").asLong() / Float.BYTES);
            }
        }
        if (largest == 0) {
            throw new IllegalStateException("the smallest width of the grid, " + attempts.get(0).get("width") + ", does not fit in "
                    + run.string("nodeMem") + " MiB: start the grid lower");
        }
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("largestWidth", largest);
        f.put("largestParameters", parameters(depth, largest));
        f.put("parametersPerNode", heldPerNode);
        f.put("gridTop", largest == Integer.parseInt(run.string("widths").replaceAll(".* ", "")));
        f.put("attempts", attempts);
        return new Outcome(f, emulated, note);
    }

    /** Writes to the launcher's log and to a buffer searched for the nodes' OutOfMemoryError. */
    private static final class Tee extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        Tee(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int c) throws java.io.IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws java.io.IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }
    }
}
