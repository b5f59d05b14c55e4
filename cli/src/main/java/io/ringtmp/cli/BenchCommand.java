package io.ringtmp.cli;

import io.ringtmp.cli.bench.GemmBench;
import io.ringtmp.cli.bench.TrainingBench;
import io.ringtmp.tensor.Blas;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code ringtmp bench}: benchmarks whose numbers go into docs/benchmarks.md. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks.",
        subcommands = {BenchCommand.Compute.class, BenchCommand.TransportCmd.class, BenchCommand.Ring.class, PsBench.class})
public final class BenchCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** {@code ringtmp bench transport}. */
    @Command(name = "transport", mixinStandardHelpOptions = true,
            description = {"MB/s (4 KiB to 4 MiB tensors, 4 in flight) and round-trip latency over loopback for RingTMP's "
                    + "Netty data plane, plaintext and inside mutual TLS 1.3 (tls-openssl: BoringSSL, tls-jdk: the JDK's JSSE), "
                    + "next to raw TCP in the same run.",
                    "Lines read like 'transport netty 4MiB: 2450.3 MB/s (raw tcp 3600.1 MB/s, 68%%)'."})
    static final class TransportCmd implements Callable<Integer> {
        @Option(names = "--ms", defaultValue = "1500", description = "Milliseconds per measurement (default: ${DEFAULT-VALUE}).")
        long ms;

        @Option(names = "--rounds", defaultValue = "1", description = "Repeat the whole comparison this many times.")
        int rounds;

        @Option(names = "--sizes", split = ",", description = "Tensor sizes, e.g. 4MiB or 512KiB,4MiB (default: 4KiB,64KiB,512KiB,4MiB).")
        List<String> sizes;

        @Override
        public Integer call() {
            int[] bytes = sizes == null ? io.ringtmp.cli.bench.TransportBench.SIZES
                    : sizes.stream().mapToInt(TransportCmd::parseSize).toArray();
            for (int r = 1; r <= rounds; r++) {
                if (rounds > 1) {
                    System.out.println("round " + r);
                }
                io.ringtmp.cli.bench.TransportBench.run(ms, bytes, System.out);
            }
            return 0;
        }

        private static int parseSize(String s) {
            String t = s.strip();
            int mult = t.endsWith("MiB") ? 1 << 20 : t.endsWith("KiB") ? 1 << 10 : 1;
            int n = Integer.parseInt(mult == 1 ? t : t.substring(0, t.length() - 3));
            if (n < 1 || n * (long) mult % 4 != 0 || n * (long) mult > 64 << 20) {
                throw new IllegalArgumentException("--sizes: " + s + " is not a size of 4 bytes to 64MiB, a multiple of 4");
            }
            return n * mult;
        }
    }

    /** {@code ringtmp bench ring}. */
    @Command(name = "ring", mixinStandardHelpOptions = true,
            description = {"The ring on N local node processes under each schedule: per stage the idle fraction next to the "
                    + "bubble (K-1)/(M+K-1), c and T per microbatch and iteration time / max(c, T); samples/s, "
                    + "next to one node and (--peer) the PyTorch data-parallel peer with the same process count.",
                    "Runs are real launches; their files go to --runs-dir."})
    static final class Ring implements Callable<Integer> {
        @Option(names = "--workload", defaultValue = "W2", description = "W1, W2 or W2B (W2 with 6144 inputs: 4 stages of equal flops) (default: ${DEFAULT-VALUE}).")
        io.ringtmp.train.Workload workload;

        @Option(names = "--nodes", split = ",", defaultValue = "4", description = "Node counts (default: ${DEFAULT-VALUE}).")
        List<Integer> nodes;

        @Option(names = "--schedules", split = ",", defaultValue = "gpipe,1f1b,async", description = "Schedules (default: ${DEFAULT-VALUE}).")
        List<String> schedules;

        @Option(names = "--microbatches", defaultValue = "4", description = "M (default: ${DEFAULT-VALUE}).")
        int microbatches;

        @Option(names = "--steps", defaultValue = "20", description = "Mini-batches per run (default: ${DEFAULT-VALUE}).")
        int steps;

        @Option(names = "--warmup", defaultValue = "1", description = "Mini-batches left out of the figures, at least 1 "
                + "(W1's small steps need a few hundred for the JIT) (default: ${DEFAULT-VALUE}).")
        int warmup;

        @Option(names = "--inflight", defaultValue = "0", description = "Credits (0: the schedule's default).")
        int inflight;

        @Option(names = "--partition", defaultValue = "auto", description = "auto (measured profiles) or manual:N,N,... "
                + "layers per stage, to compare runs on one cut (default: ${DEFAULT-VALUE}).")
        String partition;

        @Option(names = "--single", description = "Also run the workload on one node with every core (the ring with K = 1).")
        boolean single;

        @Option(names = "--peer", description = "PyTorch peer directory: run ddp_allreduce.py (W1) with each node count.")
        Path peer;

        @Option(names = "--peer-iters", defaultValue = "300", description = "Timed iterations of the peer (default: ${DEFAULT-VALUE}).")
        int peerIters;

        @Option(names = "--peer-results", description = "The peer's published figures to check its runs against "
                + "(default: results.md in the --peer directory); a peer below 80%% of its figure gets no ratio.")
        Path peerResults;

        @Option(names = "--node-cpu", defaultValue = "0", split = ",", description = "Root: emulated devices with this many cores each,"
                + " or one value per node, e.g. 0.25,0.5,0.5,0.5 (0: plain processes).")
        List<Double> nodeCpu;

        @Option(names = "--trace", description = "Every node writes its timeline as trace-node-<id>.json (a Chrome trace) in its run's directory.")
        boolean trace;

        @Option(names = "--no-tls", description = "Plaintext links between the nodes (default: mutual TLS, as launch runs them).")
        boolean noTls;

        @Option(names = "--replica-every", defaultValue = "-1", description = "Failover replicas every this many steps; 0 off "
                + "(default: the ring's, " + io.ringtmp.ring.RingOptions.DEFAULT_REPLICA_EVERY + ").")
        int replicaEvery;

        @Option(names = "--runs-dir", defaultValue = "runs/bench-ring", description = "Where the runs go (default: ${DEFAULT-VALUE}).")
        Path runsDir;

        @Override
        public Integer call() throws Exception {
            Path dir = runsDir.resolve(java.time.LocalDateTime.now().format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
            List<Object> results = new ArrayList<>();
            io.ringtmp.cli.bench.PeerReference reference = peer != null ? io.ringtmp.cli.bench.PeerReference.load(peer, peerResults) : null;
            if (single) {
                // One node with every core: what the ring's K processes share.
                results.add(io.ringtmp.cli.bench.RingBench.run(workload, 1, "1f1b", 1, 0, "auto", steps, warmup, Runtime.getRuntime().availableProcessors(),
                        dir, LaunchCommand.nodeCommand(), null, trace, replicaEvery, !noTls, System.out));
            }
            for (int k : nodes) {
                io.ringtmp.launch.EmulationConfig emu = io.ringtmp.launch.EmulationConfig.capsCpu(nodeCpu)
                        ? new io.ringtmp.launch.EmulationConfig(k, 0, nodeCpu, 0) : null;
                for (String s : schedules) {
                    results.add(io.ringtmp.cli.bench.RingBench.run(workload, k, s, microbatches, s.equals("gpipe") ? 0 : inflight, partition, steps, warmup, 1, dir, LaunchCommand.nodeCommand(),
                            emu, trace, replicaEvery, !noTls, System.out));
                }
                if (peer != null && workload == io.ringtmp.train.Workload.W1) {
                    List<String> args = io.ringtmp.cli.bench.RingBench.ddpArgs(k, peerIters);
                    double r = io.ringtmp.cli.bench.RingBench.ddpPeer(peer, args, System.out);
                    io.ringtmp.cli.bench.PeerCheck check = reference.check("ddp_allreduce.py", args, r);
                    System.out.println(check.line("ddp_allreduce W1 " + k + " processes"));
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("peer", "ddp_allreduce");
                    row.put("procs", k);
                    row.put("samplesPerSec", Double.isNaN(r) ? null : r);
                    row.put("peerCheck", check.toMap());
                    results.add(row);
                    for (Object o : results) {
                        if (o instanceof io.ringtmp.cli.bench.RingBench.Result res && res.nodes() == k) {
                            System.out.println(check.ratioAllowed()
                                    ? String.format(Locale.ROOT, "ring %s on %d nodes / DDP: %.2f", res.schedule(), k, res.samplesPerSec() / r)
                                    : "ring " + res.schedule() + " on " + k + " nodes / DDP: no ratio (" + check.noRatioReason() + ")");
                        }
                    }
                }
            }
            new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter()
                    .writeValue(Files.createDirectories(dir).resolve("results.json").toFile(), results);
            System.out.println("results: " + dir.resolve("results.json"));
            return 0;
        }
    }

    /** {@code ringtmp bench compute}. */
    @Command(name = "compute", mixinStandardHelpOptions = true,
            description = {"Training samples/s of W1 and W2 at each thread count, each in a fresh JVM, "
                    + "optionally alternating with the PyTorch peer (--peer) and printing the ratio.",
                    "Lines read like 'W1 threads=2: 23456.7 samples/s'."})
    static final class Compute implements Callable<Integer> {
        @Option(names = "--workload", defaultValue = "all", description = "W1, W2 or all (default: ${DEFAULT-VALUE}).")
        String workload;

        @Option(names = "--threads", split = ",", description = "Thread counts (default: 1,2).")
        List<Integer> threads;

        @Option(names = "--iters", defaultValue = "0", description = "Timed updates (0: the workload's default, W1 600, W2 10).")
        int iters;

        @Option(names = "--rounds", defaultValue = "1", description = "Repeat everything this many times, alternating with the peer.")
        int rounds;

        @Option(names = "--peer", description = "Directory of the PyTorch peer scripts (e.g. ../shared/peers/pytorch): run them alternately and print ratios.")
        Path peer;

        @Option(names = "--peer-results", description = "The peer's published figures to check its runs against "
                + "(default: results.md in the --peer directory); a peer below 80%% of its figure gets no ratio.")
        Path peerResults;

        @Option(names = "--runs-dir", defaultValue = "runs/bench-compute", description = "Where results.json goes, in a folder per run (default: ${DEFAULT-VALUE}).")
        Path runsDir;

        @Option(names = "--gemm", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "Also measure sgemm GFLOP/s at every training shape and the training step's share of it (default: on; --no-gemm skips).")
        boolean gemm;

        @Option(names = "--openblas-coretype", description = "Run RingTMP's side with this OPENBLAS_CORETYPE (e.g. SkylakeX; 'unset' removes it) instead of the environment's.")
        String coretype;

        @Option(names = "--in-process", hidden = true, description = "Run one workload in this JVM (used by the parent run).")
        boolean inProcess;

        @Override
        public Integer call() throws Exception {
            List<io.ringtmp.train.Workload> ws = workload.equalsIgnoreCase("all")
                    ? TrainingBench.WORKLOADS
                    : List.of(io.ringtmp.train.Workload.valueOf(workload.toUpperCase(Locale.ROOT)));
            List<Integer> ts = threads == null ? List.of(1, 2) : threads;
            if (inProcess) {
                for (io.ringtmp.train.Workload w : ws) {
                    for (int t : ts) {
                        TrainingBench.Result r = TrainingBench.run(w, t, iters);
                        System.out.println(r.line());
                        for (String k : Blas.kernelChoices()) {
                            if (k.contains(" threads=" + t + ":")) {
                                System.out.println("kernel " + k);
                            }
                        }
                        System.out.printf(Locale.ROOT, "%s threads=%d: peak RSS %.0f MiB, must hold %.0f MiB (parameters, gradients, momentum, activations, data): %.2fx%n",
                                w, t, r.peakRssBytes() / 1048576.0, r.mustHoldBytes() / 1048576.0, (double) r.peakRssBytes() / r.mustHoldBytes());
                        if (gemm) {
                            List<GemmBench.Result> rs = GemmBench.measure(List.copyOf(new java.util.LinkedHashSet<>(TrainingBench.gemms(w).gemms())), t);
                            rs.forEach(x -> System.out.println(x.line()));
                            double rate = GemmBench.stepRate(TrainingBench.gemms(w), rs);
                            System.out.println(GemmBench.stepLine(TrainingBench.gemms(w), t, rate));
                            System.out.printf(Locale.ROOT, "%s threads=%d: training step %.1f GFLOP/s = %.0f%% of the sgemm rate at the same shapes%n",
                                    w, t, r.stepGflops(), 100 * r.stepGflops() / rate);
                        }
                    }
                }
                return 0;
            }
            System.out.println(Blas.describe());
            if (coretype != null) {
                System.out.println("RingTMP's runs use OPENBLAS_CORETYPE=" + coretype + "; the peer keeps the environment's");
            }
            if (peer != null && !Files.isRegularFile(peer.resolve("w1_throughput.py"))) {
                throw new IllegalArgumentException("--peer " + peer + ": no w1_throughput.py there");
            }
            io.ringtmp.cli.bench.PeerReference reference = peer != null ? io.ringtmp.cli.bench.PeerReference.load(peer, peerResults) : null;
            List<Map<String, Object>> results = new ArrayList<>();
            for (int round = 1; round <= rounds; round++) {
                if (rounds > 1) {
                    System.out.println("round " + round);
                }
                for (io.ringtmp.train.Workload w : ws) {
                    for (int t : ts) {
                        Double ours = parseRate(runChild(w, t), w.name() + " threads=" + t + ":");
                        Map<String, Object> row = new LinkedHashMap<>();
                        row.put("round", round);
                        row.put("workload", w.name());
                        row.put("threads", t);
                        row.put("samplesPerSec", ours);
                        if (peer != null) {
                            List<String> args = List.of("--threads", Integer.toString(t));
                            Double theirs = parseRate(runPeer(w, args), w.name() + " pytorch threads=" + t + ":");
                            io.ringtmp.cli.bench.PeerCheck check = reference.check(peerScript(w), args, theirs == null ? Double.NaN : theirs);
                            System.out.println(check.line(w.name() + " " + t + (t == 1 ? " thread" : " threads")));
                            Double ratio = ours != null && check.ratioAllowed() ? ours / check.measured() : null;
                            if (ratio != null) {
                                System.out.printf(Locale.ROOT, "%s threads=%d: ratio ringtmp/pytorch %.2f%n", w, t, ratio);
                            } else if (ours != null) {
                                System.out.printf(Locale.ROOT, "%s threads=%d: no ratio (%s)%n", w, t, check.noRatioReason());
                            }
                            row.put("peerSamplesPerSec", theirs);
                            row.put("ratio", ratio);
                            row.put("peerCheck", check.toMap());
                        }
                        results.add(row);
                    }
                }
            }
            Path out = Files.createDirectories(runsDir.resolve(java.time.LocalDateTime.now()
                    .format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")))).resolve("results.json");
            new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(out.toFile(), results);
            System.out.println("results: " + out);
            return 0;
        }

        private static String peerScript(io.ringtmp.train.Workload w) {
            return w == io.ringtmp.train.Workload.W1 ? "w1_throughput.py" : "w2_throughput.py";
        }

        private List<String> runChild(io.ringtmp.train.Workload w, int t) throws IOException, InterruptedException {
            List<String> cmd = new ArrayList<>();
            cmd.add(ProcessHandle.current().info().command().orElse("java"));
            cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add(Main.class.getName());
            cmd.addAll(List.of("bench", "compute", "--in-process", "--workload", w.name(), "--threads", Integer.toString(t),
                    "--iters", Integer.toString(iters), gemm ? "--gemm" : "--no-gemm"));
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.environment().put("OPENBLAS_NUM_THREADS", "1");
            if ("unset".equals(coretype)) {
                pb.environment().remove("OPENBLAS_CORETYPE");
            } else if (coretype != null) {
                pb.environment().put("OPENBLAS_CORETYPE", coretype);
            }
            return run(pb);
        }

        private List<String> runPeer(io.ringtmp.train.Workload w, List<String> args) throws IOException, InterruptedException {
            return run(io.ringtmp.cli.bench.Peers.script(peer, peerScript(w), args.toArray(String[]::new)));
        }

        private static List<String> run(ProcessBuilder pb) throws IOException, InterruptedException {
            pb.redirectErrorStream(true);
            Process p = pb.start();
            List<String> lines = new ArrayList<>();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (!line.startsWith("WARNING: Using incubator")) {
                        System.out.println(line);
                        lines.add(line);
                    }
                }
            }
            int rc = p.waitFor();
            if (rc != 0) {
                System.out.println("(" + String.join(" ", pb.command()) + " exited with " + rc + ")");
            }
            return lines;
        }

        private static Double parseRate(List<String> lines, String prefix) {
            Pattern p = Pattern.compile(Pattern.quote(prefix) + "\\s*([0-9.]+) samples/s");
            for (String l : lines) {
                Matcher m = p.matcher(l);
                if (m.find()) {
                    return Double.parseDouble(m.group(1));
                }
            }
            return null;
        }
    }
}
