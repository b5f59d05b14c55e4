package io.ringtmp.experiments;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringtmp.data.MnistFetcher;
import io.ringtmp.launch.EmulationConfig;
import io.ringtmp.launch.EmulationException;
import io.ringtmp.launch.Fault;
import io.ringtmp.launch.Launcher;
import io.ringtmp.launch.StepTotals;
import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.TrainingOptions;
import io.ringtmp.ps.PsOptions;
import io.ringtmp.ring.RingOptions;
import io.ringtmp.ring.Schedule;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One real training launch from a run's settings: {@code system} (ring or ps), {@code mode}
 * (gpipe, 1f1b, async; bsp, asp, ssp), {@code nodes}, {@code model}, {@code batch}, {@code lr},
 * {@code steps}, {@code microbatches} (ring), {@code staleness} (ssp), {@code nodeCpu} and
 * {@code linkMbit} (emulated devices; 0 = not capped); optional: {@code epochs} (1), {@code data}
 * ({@code teacher}, the default: a random teacher network; {@code blobs}: Gaussian clusters of
 * spread {@code spread}; {@code mnist}: fetched into {@code datasets/mnist} by this process before
 * the launch, since emulated nodes have no route out), {@code nodeMem} (heap per node in MiB, a
 * memory cgroup around it: see docs/emulation.md), {@code failureTimeoutMs} and {@code stageProfile}
 * (the ring's start-up profile: {@code measure}, the default, or {@code estimate}, from FLOP
 * counts, a few seconds sooner on a quarter core) and {@code fault} (one {@code launch --fault}, e.g.
 * {@code kill:random@3s}, drawn with the run's seed). The parameter
 * server runs one server and {@code nodes - 1} workers, so both systems use the same number of
 * processes (devices).
 *
 * <p>Emulation needs root: without it, or when setting it up fails, the run goes on loopback and
 * {@link #note} says why.
 */
final class TrainingRun {
    private static final ObjectMapper JSON = new ObjectMapper();

    final RunSpec spec;
    final Path dir;
    final boolean emulated;
    final String note;
    /** The launch's exit code: 0 when every node exited 0 (see {@link Launcher.Run#exitCode()}). */
    final int exitCode;

    private TrainingRun(RunSpec spec, Path dir, boolean emulated, String note, int exitCode) {
        this.spec = spec;
        this.dir = dir;
        this.emulated = emulated;
        this.note = note;
        this.exitCode = exitCode;
    }

    boolean ring() {
        return spec.string("system").equals("ring");
    }

    int nodes() {
        return spec.integer("nodes");
    }

    /** The nodes that train: every ring stage; the parameter server's workers (nodes S..K-1). */
    List<Integer> workers() {
        List<Integer> w = new ArrayList<>();
        for (int i = ring() ? 0 : servers(spec); i < nodes(); i++) {
            w.add(i);
        }
        return w;
    }

    /**
     * The parameter server's server count on {@code nodes} nodes: setting {@code servers} where
     * given, else the fewest servers that leave a worker count dividing the batch (each worker
     * takes batch / W rows): 1 on 2 or 3 nodes at batch 128, 2 on 4 nodes (3 workers do not divide
     * 128), 4 on 8.
     */
    static int servers(RunSpec r) {
        if (r.settings().containsKey("servers")) {
            return r.integer("servers");
        }
        int nodes = r.integer("nodes");
        int batch = r.integer("batch");
        for (int s = 1; s < nodes; s++) {
            if (batch % (nodes - s) == 0) {
                return s;
            }
        }
        throw new IllegalArgumentException("no parameter-server split of " + nodes + " nodes has a worker count dividing batch " + batch);
    }

    Path metrics(int node) {
        return dir.resolve("node-" + node + ".jsonl");
    }

    /** Launches {@code r}; throws when a node exits non-zero. */
    static TrainingRun launch(RunSpec r, RunContext ctx) throws IOException, InterruptedException {
        TrainingRun t = attempt(r, ctx);
        if (t.exitCode != 0) {
            throw new IllegalStateException(r.string("system") + " " + r.string("mode") + " on " + t.nodes() + " nodes failed (exit "
                    + t.exitCode + "): see " + t.dir);
        }
        return t;
    }

    /** Launches {@code r} and returns whatever it did, a node's non-zero exit included (see {@link #exitCode}). */
    static TrainingRun attempt(RunSpec r, RunContext ctx) throws IOException, InterruptedException {
        String system = r.string("system");
        String mode = r.string("mode");
        int nodes = r.integer("nodes");
        int batch = r.integer("batch");
        int steps = r.integer("steps");
        Map<String, String> o = new LinkedHashMap<>();
        ClusterSpec.Mode cm;
        if (system.equals("ring")) {
            cm = ClusterSpec.Mode.RING;
            o.put(RingOptions.SCHEDULE, Schedule.parse(mode).id());
            o.put(RingOptions.MICROBATCHES, r.string("microbatches"));
            o.put(RingOptions.EVAL_BATCH, "256");
            if (r.settings().containsKey("stageProfile")) {
                o.put(RingOptions.PROFILE, r.string("stageProfile"));
            }
        } else if (system.equals("ps")) {
            if (nodes < 2) {
                throw new IllegalArgumentException("ps needs at least 2 nodes (1 server, 1 worker), got " + nodes);
            }
            cm = ClusterSpec.Mode.PS;
            o.put(PsOptions.SERVERS, Integer.toString(servers(r)));
            o.put(PsOptions.CONSISTENCY, mode);
            if (mode.equals("ssp")) {
                o.put(PsOptions.STALENESS, r.string("staleness"));
            }
            o.put(TrainingOptions.MOMENTUM, "0.9");
        } else {
            throw new IllegalArgumentException("setting system must be ring or ps, got " + system);
        }
        o.put(TrainingOptions.BATCH, Integer.toString(batch));
        o.put(TrainingOptions.LR, r.string("lr"));
        o.put(TrainingOptions.EPOCHS, r.settings().getOrDefault("epochs", 1).toString());
        o.put(TrainingOptions.MAX_STEPS, Integer.toString(steps));
        o.put(TrainingOptions.SEED, Long.toString(r.seed()));
        o.put(TrainingOptions.THREADS, "1");
        int epochs = Integer.parseInt(o.get(TrainingOptions.EPOCHS));
        long n = (long) batch * ((steps + epochs - 1) / epochs + 1);
        String data = data(r, n);

        double cpu = r.number("nodeCpu");
        double link = r.number("linkMbit");
        long memBytes = (long) (r.settings().containsKey("nodeMem") ? r.number("nodeMem") : 0) << 20;
        int failureTimeoutMs = r.settings().containsKey("failureTimeoutMs") ? r.integer("failureTimeoutMs") : 0;
        boolean wantsEmulation = cpu > 0 || link > 0 || memBytes > 0;
        String note = "";
        EmulationConfig emu = null;
        if (wantsEmulation && ctx.canEmulate()) {
            emu = new EmulationConfig(nodes, link, cpu, memBytes);
        } else if (wantsEmulation) {
            note = "not root: ran unemulated on 127.0.0.1";
        }
        Path runs = Files.createDirectories(ctx.runsDir());
        List<Fault> faults = faults(r, nodes);
        Launcher.Run run;
        try {
            run = Launcher.launch(new Launcher.Options(nodes, cm, o, r.string("model"), data, runs, ctx.nodeCommand(), emu, 0,
                    failureTimeoutMs, false, faults), ctx.log());
        } catch (EmulationException e) {
            if (faults.stream().anyMatch(f -> f.kind() == Fault.Kind.CUT)) {
                throw new IllegalStateException("a cut link needs emulated devices, and emulation failed: " + e.getMessage(), e);
            }
            note = "emulation failed (" + e.getMessage() + "): ran unemulated on 127.0.0.1";
            emu = null;
            run = Launcher.launch(new Launcher.Options(nodes, cm, o, r.string("model"), data, runs, ctx.nodeCommand(), null, 0,
                    failureTimeoutMs, false, faults), ctx.log());
        }
        return new TrainingRun(r, run.dir(), emu != null, note, run.exitCode());
    }

    /** Setting {@code fault} ({@code launch --fault} syntax, e.g. {@code kill:random@3s}; absent or {@code none}: none), drawn with the run's seed. */
    private static List<Fault> faults(RunSpec r, int nodes) {
        String f = r.settings().getOrDefault("fault", "none").toString();
        return f.equals("none") ? List.of() : List.of(Fault.parse(f, nodes, new java.util.Random(r.seed())));
    }

    /** The launch's data source for setting {@code data}; {@code n} training samples for the synthetic sets. */
    private static String data(RunSpec r, long n) {
        String kind = r.settings().getOrDefault("data", "teacher").toString();
        String common = "n=" + n + "&test=" + (kind.equals("blobs") ? 512 : 256) + "&inputs=" + inputs(r.string("model")) + "&classes=10&seed="
                + r.seed();
        return switch (kind) {
            case "teacher" -> "synthetic:teacher?" + common;
            case "blobs" -> "synthetic:blobs?" + common + "&spread=" + r.string("spread");
            case "mnist" -> new MnistFetcher(MnistFetcher.DEFAULT_DIR.toAbsolutePath(), line -> { }).fetch().toString();
            default -> throw new IllegalArgumentException("setting data must be teacher, blobs or mnist, got " + kind);
        };
    }

    /** The step totals of {@code node} after {@code warmup} steps, less the drain of an async ring. */
    StepTotals totals(int node, int warmup) throws IOException {
        int cooldown = 0;
        if (ring() && spec.string("mode").equals("async")) {
            int m = spec.integer("microbatches");
            int credits = RingOptions.defaultInflight(Schedule.ASYNC, m, nodes());
            cooldown = (credits + m - 1) / m;
        }
        return StepTotals.read(metrics(node), warmup, cooldown);
    }

    /** The metrics events named {@code event} of {@code node}, in order; lines cut short are skipped. */
    List<JsonNode> events(int node, String event) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        Path f = metrics(node);
        if (!Files.exists(f)) {
            return out;
        }
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
            try {
                JsonNode j = JSON.readTree(line);
                if (j.path("event").asText().equals(event)) {
                    out.add(j);
                }
            } catch (IOException e) {
                // cut short
            }
        }
        return out;
    }

    private static int inputs(String model) {
        String widths = model.substring(model.indexOf(':') + 1);
        return Integer.parseInt(widths.split("-")[0]);
    }
}
