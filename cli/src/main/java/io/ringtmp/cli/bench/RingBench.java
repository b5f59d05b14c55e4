package io.ringtmp.cli.bench;

import io.ringtmp.launch.EmulationConfig;
import io.ringtmp.launch.Launcher;
import io.ringtmp.train.Workload;
import io.ringtmp.launch.StepTotals;
import io.ringtmp.node.ClusterSpec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The ring's benchmark: a workload on K local node processes under each schedule, with each
 * stage's idle fraction next to the pipeline bubble the schedule implies and the idle its cut
 * implies (1 - c / the slowest stage's c: what a stage lighter than the slowest waits even in a
 * perfect pipeline), its compute c and
 * transfer T per microbatch, and the iteration time per microbatch divided by max(c, T); and
 * samples/s, optionally next to the PyTorch data-parallel peer with the same process count.
 *
 * <p>Every run is a real {@code launch}: node processes on loopback (or emulated devices with a
 * CPU quota each), real sockets, the metrics each node writes. The first {@code warmup} steps
 * (at least one: it fills the pipe) are left out: the JIT compiles the hot loops during the
 * first few hundred small W1 steps.
 */
public final class RingBench {

    /** One schedule's result. */
    public record Result(String schedule, int nodes, double samplesPerSec, List<Map<String, Object>> stages) {
    }

    private RingBench() {
    }

    /**
     * Runs {@code workload} on {@code nodes} processes with {@code schedule}, their links mutual
     * TLS or ({@code tls} false) plaintext; the launcher's output goes to
     * {@code runsDir/<schedule>-<nodes>n-<M>m[-plain]/launch.log}.
     */
    public static Result run(Workload w, int nodes, String schedule, int microbatches, int inflight, String partition, int steps,
                             int warmup, int threads, Path runsDir, List<String> nodeCommand, EmulationConfig emulation, boolean trace,
                             int replicaEvery, boolean tls, PrintStream out)
            throws Exception {
        Path dir = Files.createDirectories(runsDir.resolve(schedule + "-" + nodes + "n-" + microbatches + "m" + (tls ? "" : "-plain")
                + (replicaEvery >= 0 ? "-r" + replicaEvery : "")));
        Map<String, String> o = new LinkedHashMap<>();
        o.put("schedule", schedule);
        o.put("microbatches", Integer.toString(microbatches));
        o.put("partition", partition);
        if (inflight > 0) {
            o.put("inflight", Integer.toString(inflight));
        }
        o.put("batch", Integer.toString(w.batch()));
        o.put("lr", Double.toString(w.lr()));
        o.put("epochs", "1");
        o.put("maxSteps", Integer.toString(steps));
        int warm = Math.max(1, warmup);
        // async drains the pipe in its last steps (the credits in flight, inflight / M steps' worth):
        // leave them out with the warm-up, so that idle is the steady state's.
        int credits = inflight > 0 ? inflight
                : io.ringtmp.ring.RingOptions.defaultInflight(io.ringtmp.ring.Schedule.parse(schedule), microbatches, nodes);
        int cooldown = schedule.equals("async") ? (credits + microbatches - 1) / microbatches : 0;
        if (steps <= warm + cooldown) {
            throw new IllegalArgumentException("--steps " + steps + " must exceed the warm-up " + warm + " and the drain " + cooldown);
        }
        o.put("evalBatch", "256");
        if (trace) {
            o.put(io.ringtmp.ring.RingOptions.TRACE, "true");
        }
        if (replicaEvery >= 0) {
            o.put(io.ringtmp.ring.RingOptions.REPLICA_EVERY, Integer.toString(replicaEvery));
        }
        o.put("threads", Integer.toString(threads));
        int n = w.batch() * (steps + 1);
        String data = "synthetic:teacher?n=" + n + "&test=256&inputs=" + w.inputs() + "&classes=10&seed=1";
        Launcher.Run launched;
        try (PrintStream log = new PrintStream(Files.newOutputStream(dir.resolve("launch.log")), true, StandardCharsets.UTF_8)) {
            launched = Launcher.launch(new Launcher.Options(nodes, ClusterSpec.Mode.RING, o, w.model(), data, dir, nodeCommand, emulation,
                    0, 0, false, List.of(), tls), log);
        }
        if (launched.exitCode() != 0) {
            throw new IllegalStateException("ring run " + schedule + " on " + nodes + " nodes failed (exit " + launched.exitCode() + "): see "
                    + dir.resolve("launch.log"));
        }
        Path run = launched.dir();
        StepTotals[] t = new StepTotals[nodes];
        for (int k = 0; k < nodes; k++) {
            t[k] = StepTotals.read(run.resolve("node-" + k + ".jsonl"), warm, cooldown);
        }
        double sps = t[0].steps * (double) w.batch() / (t[0].wallMs / 1e3);
        double bubble = schedule.equals("async") ? 0 : (nodes - 1.0) / (microbatches + nodes - 1.0);
        // A flushed schedule's iteration is max(c, T) times this (M + K - 1 slots for M microbatches).
        double bubbleShare = schedule.equals("async") ? 1 : (microbatches + nodes - 1.0) / microbatches;
        List<Map<String, Object>> stages = new java.util.ArrayList<>();
        out.printf(Locale.ROOT, "ring %s %s on %d nodes, M=%d, inflight %s, %d thread(s) each, %s links, replicas every %s steps: %.1f samples/s "
                + "(steps %d..%d)%n", w, schedule, nodes, microbatches, inflight > 0 ? Integer.toString(inflight) : "default", threads,
                tls ? "TLS" : "plaintext", replicaEvery >= 0 ? Integer.toString(replicaEvery) : "(default " + io.ringtmp.ring.RingOptions.DEFAULT_REPLICA_EVERY + ")",
                sps, warm + 1, steps - cooldown);
        out.println("  stage  idle    bubble theory  cut idle  c/mb ms   T/mb ms   iter/mb ms  iter/max(c,T)  (÷ (M+K-1)/M for flushed schedules)"
                + "  iter/slowest max(c,T)");
        double cMax = 0, ctMax = 0;
        for (StepTotals s : t) {
            cMax = Math.max(cMax, s.perMicrobatch(s.computeMs));
            ctMax = Math.max(ctMax, Math.max(s.perMicrobatch(s.computeMs), s.perMicrobatch(s.transferMs)));
        }
        for (int k = 0; k < nodes; k++) {
            StepTotals s = t[k];
            double c = s.perMicrobatch(s.computeMs), tr = s.perMicrobatch(s.transferMs);
            double iter = s.perMicrobatch(s.wallMs);
            double ratio = iter / Math.max(c, tr);
            double flushed = ratio / bubbleShare;
            // The idle a stage has, even in a perfect pipeline, for computing less than the slowest stage.
            double cutIdle = cMax > 0 ? 1 - c / cMax : 0;
            // Against the pipeline's slowest stage, which sets every stage's pace (equation 3 for the whole ring).
            double vsSlowest = iter / ctMax;
            out.printf(Locale.ROOT, "  %5d  %5.1f%%  %5.1f%%        %5.1f%%    %7.3f   %7.3f   %9.3f   %6.2f         %6.2f          %6.2f%n", k,
                    100 * s.fraction(s.idleMs), 100 * bubble, 100 * cutIdle, c, tr, iter, ratio, flushed,
                    vsSlowest / bubbleShare);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("stage", k);
            m.put("idleFraction", s.fraction(s.idleMs));
            m.put("bubbleTheory", bubble);
            m.put("cutIdle", cutIdle);
            m.put("computeMsPerMicrobatch", c);
            m.put("transferMsPerMicrobatch", tr);
            m.put("iterationMsPerMicrobatch", iter);
            m.put("iterationOverMaxCT", ratio);
            m.put("iterationOverSlowestMaxCT", vsSlowest);
            stages.add(m);
        }
        return new Result(schedule, nodes, sps, stages);
    }

    private static final Pattern DDP = Pattern.compile("procs=(\\d+): ([0-9.]+) samples/s");

    /** The arguments of ddp_allreduce.py for {@code procs} processes of one core and {@code iters} timed iterations. */
    public static List<String> ddpArgs(int procs, int iters) {
        return List.of("--procs", Integer.toString(procs), "--threads-per-proc", "1", "--iters", Integer.toString(iters));
    }

    /** Runs the PyTorch data-parallel peer with {@code args} ({@link #ddpArgs}); its samples/s, or NaN. */
    public static double ddpPeer(Path peerDir, List<String> args, PrintStream out) throws IOException, InterruptedException {
        Process p = Peers.script(peerDir, "ddp_allreduce.py", args.toArray(String[]::new)).start();
        double rate = Double.NaN;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                Matcher mt = DDP.matcher(line);
                if (mt.find()) {
                    rate = Double.parseDouble(mt.group(2));
                }
            }
        }
        p.waitFor();
        out.printf(Locale.ROOT, "pytorch ddp_allreduce W1 %s: %s samples/s%n", String.join(" ", args),
                Double.isNaN(rate) ? "failed (exit " + p.exitValue() + ")" : String.format(Locale.ROOT, "%.1f", rate));
        return rate;
    }
}
