package io.ringtmp.cli;

import io.ringtmp.launch.Launcher;
import io.ringtmp.launch.StepTotals;
import io.ringtmp.node.ClusterSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code ringtmp bench ps}: the parameter server on W1 or W2 for each (S, W, consistency, batch
 * split), real node processes through the launcher, next to the PyTorch peers at the same process
 * count. Samples/s are over the timed steps (after a warm-up): the global batch over the mean step
 * wall time, pooled over every worker's timed steps (global batch × Σ steps ÷ Σ wall; every worker
 * runs the same steps, so this is the global batch × steps over the mean of the workers' summed
 * wall times); idle fractions are idle / wall over the same steps, averaged over the workers and
 * over the servers. Each line also gives every worker's count of timed steps.
 *
 * <p>Batch splits, to match each peer: {@code global} splits the workload's batch B over the W
 * workers (the single-node trainer's batch; as ddp_allreduce.py splits it over its processes);
 * {@code per-worker} gives every worker B rows, a global batch of W·B (as rpc_ps.py does). With
 * one worker they are the same run, made once.
 */
@Command(name = "ps", mixinStandardHelpOptions = true,
        description = {"Parameter-server samples/s and idle fractions for each --servers, --workers, --consistency and --split, "
                + "optionally next to the PyTorch peers (--peer): rpc_ps.py with the same workers (compare with --split per-worker), "
                + "ddp_allreduce.py with the same process count (compare with --split global).",
                "Lines read like 'W1 ps S=1 W=2 bsp global: 12345.6 samples/s, idle workers 0.21 servers 0.80'."})
final class PsBench implements Callable<Integer> {
    @Option(names = "--workload", defaultValue = "W1", description = "W1 or W2 (default: ${DEFAULT-VALUE}).")
    String workload;

    @Option(names = "--servers", split = ",", defaultValue = "1,2", description = "Server counts (default: ${DEFAULT-VALUE}).")
    List<Integer> servers;

    @Option(names = "--workers", split = ",", defaultValue = "1,2,4", description = "Worker counts (default: ${DEFAULT-VALUE}).")
    List<Integer> workers;

    @Option(names = "--consistency", split = ",", defaultValue = "bsp,asp,ssp", description = "Consistency models (default: ${DEFAULT-VALUE}).")
    List<String> consistency;

    @Option(names = "--staleness", defaultValue = "2", description = "ssp's staleness (default: ${DEFAULT-VALUE}).")
    int staleness;

    @Option(names = "--split", split = ",", defaultValue = "global,per-worker",
            description = "global: the workload's batch split over the workers; per-worker: that batch on every worker (default: ${DEFAULT-VALUE}).")
    List<String> splits;

    @Option(names = "--steps", defaultValue = "0", description = "Steps per run (0: W1 600, W2 12).")
    int steps;

    @Option(names = "--warmup", defaultValue = "-1", description = "Steps left out of the figures (-1: W1 300, for the JIT; W2 3).")
    int warmup;

    @Option(names = "--peer", description = "Directory of the PyTorch peer scripts (e.g. ../shared/peers/pytorch); W1 only.")
    Path peer;

    @Option(names = "--peer-results", description = "The peer's published figures to check its runs against "
            + "(default: results.md in the --peer directory); a peer below 80%% of its figure gets no ratio.")
    Path peerResults;

    @Option(names = "--runs-dir", defaultValue = "runs/bench-ps", description = "Where the runs go (default: ${DEFAULT-VALUE}).")
    Path runsDir;

    @Override
    public Integer call() throws Exception {
        boolean w1 = workload.equalsIgnoreCase("W1");
        if (!w1 && !workload.equalsIgnoreCase("W2")) {
            throw new IllegalArgumentException("--workload must be W1 or W2, got " + workload);
        }
        for (String sp : splits) {
            if (!sp.equals("global") && !sp.equals("per-worker")) {
                throw new IllegalArgumentException("--split takes global and per-worker, got " + sp);
            }
        }
        io.ringtmp.train.Workload wl = w1 ? io.ringtmp.train.Workload.W1 : io.ringtmp.train.Workload.W2;
        String model = wl.model();
        String data = w1 ? "synthetic:teacher?n=16384&test=512&inputs=784&classes=10"
                : "synthetic:teacher?n=4096&test=256&inputs=784&classes=10";
        int batch = wl.batch();
        int n = steps > 0 ? steps : w1 ? 600 : 12;
        int warm = warmup >= 0 ? warmup : w1 ? 300 : 3;
        if (n <= warm) {
            throw new IllegalArgumentException("--steps " + n + " must exceed the warm-up " + warm);
        }
        String label = workload.toUpperCase(Locale.ROOT);
        Path dir = runsDir.resolve(java.time.LocalDateTime.now().format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        io.ringtmp.cli.bench.PeerReference reference = peer != null && w1 ? io.ringtmp.cli.bench.PeerReference.load(peer, peerResults) : null;
        List<Map<String, Object>> results = new ArrayList<>();
        for (int s : servers) {
            for (int w : workers) {
                for (String sp : splits) {
                    if (w == 1 && sp.equals("per-worker") && splits.contains("global")) {
                        continue; // the same run as global
                    }
                    int global = sp.equals("global") ? batch : batch * w;
                    for (String c : consistency) {
                        Map<String, String> o = new LinkedHashMap<>();
                        o.put("servers", Integer.toString(s));
                        o.put("consistency", c);
                        if (c.equals("ssp")) {
                            o.put("staleness", Integer.toString(staleness));
                        }
                        o.put("batch", Integer.toString(global));
                        o.put("lr", Double.toString(wl.lr()));
                        o.put("momentum", "0.9");
                        o.put("epochs", "1000");
                        o.put("maxSteps", Integer.toString(n));
                        Files.createDirectories(dir);
                        ByteArrayOutputStream quiet = new ByteArrayOutputStream();
                        Launcher.Run run = Launcher.launch(new Launcher.Options(s + w, ClusterSpec.Mode.PS, o, model, data, dir,
                                LaunchCommand.nodeCommand(), null, 0, 30_000, false), new PrintStream(quiet, true, StandardCharsets.UTF_8));
                        String name = label + " ps S=" + s + " W=" + w + " " + c + (c.equals("ssp") ? "(" + staleness + ")" : "") + " " + sp;
                        if (run.exitCode() != 0) {
                            System.out.println(name + ": failed (exit " + run.exitCode() + "), see " + run.dir());
                            continue;
                        }
                        Figures f = figures(run.dir(), s, w, global, warm);
                        System.out.println(f.line(name, run.dir()));
                        Map<String, Object> row = new LinkedHashMap<>();
                        row.put("servers", s);
                        row.put("workers", w);
                        row.put("consistency", c);
                        row.put("split", sp);
                        row.put("samplesPerSec", f.samplesPerSec());
                        row.put("workerIdle", f.workerIdle());
                        row.put("serverIdle", f.serverIdle());
                        row.put("run", run.dir().toString());
                        results.add(row);
                    }
                }
                if (reference != null) {
                    for (List<String> args : List.of(List.of("--workers", Integer.toString(w), "--consistency", "bsp", "--steps", "200"),
                            List.of("--workers", Integer.toString(w), "--consistency", "asp", "--steps", "200"))) {
                        results.add(peerRow(reference, "rpc_ps.py", args, s, w));
                    }
                    results.add(peerRow(reference, "ddp_allreduce.py", List.of("--procs", Integer.toString(s + w)), s, w));
                }
            }
        }
        Path out = Files.createDirectories(dir).resolve("results.json");
        new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(out.toFile(), results);
        System.out.println("results: " + out);
        return 0;
    }

    /**
     * Runs a peer next to the (S, W) rows and checks its figure against the peer's own; the row
     * records whether a ratio against it is fair ({@code ratioAllowed}).
     */
    private Map<String, Object> peerRow(io.ringtmp.cli.bench.PeerReference reference, String script, List<String> args, int s, int w)
            throws IOException, InterruptedException {
        double rate = runPeer(script, args);
        io.ringtmp.cli.bench.PeerCheck check = reference.check(script, args, rate);
        System.out.println(check.line(script + " " + String.join(" ", args)));
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("peer", script);
        row.put("args", args);
        row.put("servers", s);
        row.put("workers", w);
        row.put("samplesPerSec", Double.isNaN(rate) ? null : rate);
        row.put("ratioAllowed", check.ratioAllowed());
        row.put("peerCheck", check.toMap());
        return row;
    }

    /**
     * One run's figures over the steps after the warm-up.
     *
     * @param samplesPerSec the global batch over the mean step wall time pooled over the workers
     *                      (0 when no worker has a timed step)
     * @param workerIdle    idle / wall, the mean over the workers
     * @param serverIdle    idle / wall, the mean over the servers
     * @param timedSteps    each worker's count of timed steps, in node order
     */
    record Figures(double samplesPerSec, double workerIdle, double serverIdle, List<Long> timedSteps) {
        String line(String label, Path run) {
            return String.format(Locale.ROOT, "%s: %.1f samples/s, idle workers %.2f servers %.2f (timed steps per worker %s, %s)",
                    label, samplesPerSec, workerIdle, serverIdle, timedSteps, run);
        }
    }

    /** The figures of the run in {@code run} from its nodes' metrics files (servers are nodes 0..S-1, workers S..S+W-1). */
    static Figures figures(Path run, int servers, int workers, int globalBatch, int warm) throws IOException {
        double workerWallMs = 0, workerIdle = 0, serverIdle = 0;
        long workerSteps = 0;
        List<Long> timed = new ArrayList<>();
        for (int id = 0; id < servers + workers; id++) {
            StepTotals t = StepTotals.read(run.resolve("node-" + id + ".jsonl"), warm);
            if (id < servers) {
                // A server's step lines are rounds of W pushes: under bsp one per step, so leave out as many.
                serverIdle += t.fraction(t.idleMs) / servers;
            } else {
                workerIdle += t.fraction(t.idleMs) / workers;
                workerWallMs += t.wallMs;
                workerSteps += t.steps;
                timed.add(t.steps);
            }
        }
        // Pooled, so a worker whose metrics stop early weighs by the steps it has, not as a whole worker.
        double sps = workerWallMs > 0 ? workerSteps * (double) globalBatch / (workerWallMs / 1000) : 0;
        return new Figures(sps, workerIdle, serverIdle, List.copyOf(timed));
    }

    private static final java.util.regex.Pattern RATE = java.util.regex.Pattern.compile(": ([0-9.]+) samples/s");

    /** Runs {@code script args...} and prints its W1 lines; its samples/s, or NaN when it printed none. */
    private double runPeer(String script, List<String> args) throws IOException, InterruptedException {
        ProcessBuilder pb = io.ringtmp.cli.bench.Peers.script(peer, script, args.toArray(String[]::new));
        Process p = pb.start();
        double rate = Double.NaN;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("W1 ")) {
                    System.out.println(line);
                    java.util.regex.Matcher m = RATE.matcher(line);
                    if (m.find()) {
                        rate = Double.parseDouble(m.group(1));
                    }
                }
            }
        }
        if (p.waitFor() != 0) {
            System.out.println("(" + String.join(" ", pb.command()) + " exited with " + p.exitValue() + ")");
        }
        return rate;
    }
}
