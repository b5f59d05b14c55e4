package io.ringtmp.launch;

import io.ringtmp.node.ClusterCertificates;
import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.NodeSpec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Starts the N node processes of a run on this machine, optionally each in an emulated device
 * ({@link EmulatedCluster}), prefixes their output with their id, waits for them, and prints
 * the run's summary from their metrics files.
 *
 * <p>Writes {@code runs/<time>-<run id>/cluster.json} (mode 0600: it holds the run's secret) and
 * the nodes write their metrics beside it; {@link #launch} returns that directory with the exit
 * code: 0 when every node exited 0, else the first non-zero code. Ctrl-C sends SIGTERM to every node, waits for them to write their final
 * metrics, and tears the emulation down.
 */
public final class Launcher {
    /**
     * @param nodes            how many node processes
     * @param mode             what they run
     * @param modeOptions      the mode's options
     * @param model            model description, for training modes (may be null)
     * @param data             data source, for training modes (may be null)
     * @param runsDir          parent directory of run directories
     * @param nodeCommand      the command that starts one node, before {@code --spec F --id i}
     *                         (e.g. {@code java ... io.ringtmp.cli.Main node})
     * @param emulation        emulated devices, or null to run on loopback
     * @param heartbeatMs      heartbeat interval (0: the spec's default)
     * @param failureTimeoutMs silence after which a neighbour is failed (0: the spec's default)
     * @param progressBar      for a terminal: show the run's progress (training: the partition, a
     *                         bar per epoch and the accuracy after each; link test: one bar) and send
     *                         the nodes' output to {@code node-<i>.log} in the run directory;
     *                         otherwise print the nodes' lines prefixed with {@code [node i]}
     * @param faults           faults to inject while the run goes ({@link Fault}; none: an empty list)
     * @param tls              mutual TLS between the nodes, under a throwaway CA made for the run
     *                         ({@code certs/} in the run directory, owner-only); false: plaintext
     *                         links, authenticated by the run's secret only ({@code --no-tls})
     */
    public record Options(int nodes, ClusterSpec.Mode mode, Map<String, String> modeOptions, String model, String data,
                          Path runsDir, List<String> nodeCommand, EmulationConfig emulation, int heartbeatMs,
                          int failureTimeoutMs, boolean progressBar, List<Fault> faults, boolean tls) {
        public Options {
            if (nodes < 1) {
                throw new IllegalArgumentException("--nodes must be >= 1, got " + nodes);
            }
            faults = List.copyOf(faults);
            for (Fault f : faults) {
                if (f.node() >= nodes || f.peer() >= nodes) {
                    throw new IllegalArgumentException("--fault " + f + ": the cluster has nodes 0.." + (nodes - 1));
                }
                if (f.kind() == Fault.Kind.CUT && emulation == null) {
                    throw new IllegalArgumentException("--fault " + f + ": cutting a link needs an emulated cluster (--emulate)");
                }
            }
        }

        /** A run without faults, with TLS (the default). */
        public Options(int nodes, ClusterSpec.Mode mode, Map<String, String> modeOptions, String model, String data,
                       Path runsDir, List<String> nodeCommand, EmulationConfig emulation, int heartbeatMs,
                       int failureTimeoutMs, boolean progressBar) {
            this(nodes, mode, modeOptions, model, data, runsDir, nodeCommand, emulation, heartbeatMs, failureTimeoutMs, progressBar,
                    List.of(), true);
        }

        /** A run with TLS (the default). */
        public Options(int nodes, ClusterSpec.Mode mode, Map<String, String> modeOptions, String model, String data,
                       Path runsDir, List<String> nodeCommand, EmulationConfig emulation, int heartbeatMs,
                       int failureTimeoutMs, boolean progressBar, List<Fault> faults) {
            this(nodes, mode, modeOptions, model, data, runsDir, nodeCommand, emulation, heartbeatMs, failureTimeoutMs, progressBar,
                    faults, true);
        }
    }

    /** How long a launch's throwaway node certificates are valid: longer than any run. */
    static final Duration RUN_CERTIFICATE_VALIDITY = Duration.ofDays(30);

    /**
     * What a finished launch leaves: the exit code and the run's directory.
     *
     * @param exitCode 0 when every node exited 0, else the first non-zero code
     * @param dir      {@code <runsDir>/<time>-<run id>}: the spec, the nodes' metrics files,
     *                 {@code summary.json} and (with the progress bar) the node logs
     */
    public record Run(int exitCode, Path dir) {
    }

    /** Port every node listens on inside its own emulated network namespace. */
    static final int EMULATED_PORT = 7070;
    private static final int TAIL_LINES = 5;

    private Launcher() {
    }

    /** Runs the cluster to completion; returns its exit code and run directory. */
    public static Run launch(Options o, PrintStream out) throws IOException, InterruptedException {
        SecureRandom random = new SecureRandom();
        long runId = random.nextLong() & Long.MAX_VALUE;
        byte[] secretBytes = new byte[24];
        random.nextBytes(secretBytes);
        String secret = HexFormat.of().formatHex(secretBytes);
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Path runDir = o.runsDir().resolve(stamp + "-" + Long.toHexString(runId).substring(0, 6));
        Files.createDirectories(runDir);

        EmulatedCluster emu = o.emulation() == null ? null
                : EmulatedCluster.create(Long.toHexString(runId).substring(0, 5), o.emulation());
        List<Process> procs = new ArrayList<>();
        Thread hook = new Thread(() -> stopAll(procs, emu), "ringtmp-launch-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            List<NodeSpec> nodes = new ArrayList<>();
            List<Integer> ports = emu == null ? freePorts(o.nodes()) : List.of();
            for (int i = 0; i < o.nodes(); i++) {
                nodes.add(emu == null ? NodeSpec.of(i, "127.0.0.1", ports.get(i)) : NodeSpec.of(i, emu.address(i), EMULATED_PORT));
            }
            ClusterSpec spec = new ClusterSpec(runId, secret, o.mode(), o.modeOptions(), o.model(), o.data(),
                    o.heartbeatMs(), o.failureTimeoutMs(), runDir.toString(), nodes);
            if (o.tls()) {
                // Throwaway: a CA for this run only, its key beside the certificates in the run directory.
                spec = spec.withTls(ClusterCertificates.issue(spec, runDir.toAbsolutePath().resolve("certs"), null,
                        RUN_CERTIFICATE_VALIDITY, Instant.now()));
            }
            Path specFile = runDir.resolve("cluster.json");
            spec.write(specFile);
            out.printf(Locale.ROOT, "run %s: %d nodes, mode %s%s%n", Long.toHexString(runId),
                    o.nodes(), o.mode().id(), emu == null ? " on 127.0.0.1" : ", emulated (" + describe(o.emulation()) + pinning(emu) + ")");
            out.println("  spec, metrics" + (o.progressBar() ? " and node logs: " : ": ") + runDir);
            out.println("  links: " + (o.tls() ? "mutual TLS 1.3, a CA made for this run (certs/ beside the spec)"
                    : "plaintext, authenticated by the run's secret (--no-tls)"));
            FaultInjector.describe(o.faults(), out);

            List<Thread> pumps = new ArrayList<>();
            int[] starts = new int[o.nodes()];
            java.util.function.IntFunction<Process> startNode = i -> {
                List<String> cmd = new ArrayList<>(o.nodeCommand());
                if (emu != null) {
                    // The JVM cannot see its namespace's cgroup limits: tell it its heap, direct memory and cores.
                    cmd.addAll(1, o.emulation().jvmOptions(i));
                }
                cmd.addAll(List.of("--spec", specFile.toAbsolutePath().toString(), "--id", Integer.toString(i)));
                ProcessBuilder pb = new ProcessBuilder(emu == null ? cmd : emu.wrap(i, cmd));
                pb.redirectErrorStream(true);
                pb.environment().put("OPENBLAS_NUM_THREADS", "1");
                Process p;
                try {
                    p = pb.start();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException("cannot start node " + i + ": " + e.getMessage(), e);
                }
                // A node started again (after --fault kill:N@T+D) logs to node-N.2.log, beside the first one's.
                String log = "node-" + i + (starts[i] > 0 ? "." + (starts[i] + 1) : "") + ".log";
                starts[i]++;
                synchronized (pumps) {
                    pumps.add(o.progressBar() ? pumpToFile(p, runDir.resolve(log)) : pump(p, "[node " + i + "] ", out));
                }
                return p;
            };
            for (int i = 0; i < o.nodes(); i++) {
                Process p = startNode.apply(i);
                synchronized (procs) {
                    procs.add(p);
                }
            }
            boolean training = o.mode() != ClusterSpec.Mode.LINKTEST;
            TrainingView view = o.progressBar() && training ? TrainingView.start(runDir, o.nodes(), out, 0) : null;
            RunProgress bar = o.progressBar() && !training ? RunProgress.start(spec, procs) : null;
            Consumer<String> say = view == null ? line -> {
                synchronized (out) {
                    out.println(line);
                }
            } : view::println;
            FaultInjector faults = new FaultInjector(o.faults(), procs, emu, say, i -> {
                Process p = startNode.apply(i);
                synchronized (procs) {
                    procs.set(i, p);
                }
            });
            faults.start(training ? () -> firstStepWritten(runDir, o.nodes()) : () -> true);
            int code;
            try {
                code = waitAll(procs, spec, say, faults::killed);
            } finally {
                faults.close();
                List<Thread> all;
                synchronized (pumps) {
                    all = new ArrayList<>(pumps);
                }
                for (Thread t : all) {
                    t.join(2000);
                }
                if (view != null) {
                    view.close();
                }
                if (bar != null) {
                    bar.close();
                }
            }
            List<Integer> codes = new ArrayList<>();
            for (Process p : procs) {
                codes.add(p.isAlive() ? -1 : p.exitValue());
            }
            RunSummary.write(spec, runDir, codes, view == null, faults.injected(), out);
            if (o.progressBar()) {
                for (int i = 0; i < codes.size(); i++) {
                    if (codes.get(i) != 0) {
                        tailOfLog(runDir.resolve("node-" + i + ".log"), i, out);
                    }
                }
                out.println("node logs: " + runDir.resolve("node-<i>.log"));
            }
            return new Run(code, runDir);
        } finally {
            stopAll(procs, emu);
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ignored) {
                // Already shutting down: the hook is running.
            }
        }
    }

    /** Whether a node has written a {@code step} event: the training has begun. */
    private static boolean firstStepWritten(Path runDir, int nodes) {
        for (int i = 0; i < nodes; i++) {
            Path f = runDir.resolve("node-" + i + ".jsonl");
            try {
                if (Files.exists(f) && Files.readString(f, StandardCharsets.UTF_8).contains("\"event\":\"step\"")) {
                    return true;
                }
            } catch (IOException e) {
                // Being written: look again.
            }
        }
        return false;
    }

    static String describe(EmulationConfig e) {
        return (e.linkCapped() ? e.linkMbit() + " Mbit/s links" : "uncapped links")
                + ", " + (e.cpuCapped() ? e.describeCpu() + " cores" : "uncapped CPU")
                + ", " + (e.memoryCapped() ? (e.nodeMemBytes() >> 20) + " MiB heap" : "uncapped memory") + " per node";
    }

    /** ", nodes on CPUs 0 0 1 1" when the emulated nodes are pinned, else "". */
    static String pinning(EmulatedCluster emu) {
        if (emu.cpusOf(0).isEmpty()) {
            return "";
        }
        StringBuilder b = new StringBuilder(", nodes on CPUs");
        for (int i = 0; i < emu.nodes(); i++) {
            b.append(' ').append(emu.cpusOf(i).orElseThrow());
        }
        return b.toString();
    }

    /** The last lines of a failed node's log, where it says why. */
    private static void tailOfLog(Path log, int node, PrintStream out) throws IOException {
        if (!Files.exists(log)) {
            return;
        }
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
        out.println("node " + node + ", the end of its log:");
        lines.subList(Math.max(0, lines.size() - TAIL_LINES), lines.size()).forEach(l -> out.println("  " + l));
    }

    private static Thread pumpToFile(Process p, Path file) {
        Thread t = new Thread(() -> {
            try (var in = p.getInputStream()) {
                Files.copy(in, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException ignored) {
                // The process ended.
            }
        }, "ringtmp-pump");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static Thread pump(Process p, String prefix, PrintStream out) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (!line.startsWith("WARNING: Using incubator modules")) {
                        synchronized (out) {
                            out.println(prefix + line);
                        }
                    }
                }
            } catch (IOException ignored) {
                // The process ended.
            }
        }, "ringtmp-pump");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /**
     * Waits for every node; once one fails, the others get time to notice and stop, then are
     * ended. A node {@code killedByFault}, or one that left because the others failed it over
     * (exit 4), is not a node that failed: the others decide (they go on, or stop themselves with
     * exit 3).
     */
    private static int waitAll(List<Process> procs, ClusterSpec spec, Consumer<String> out, java.util.function.IntPredicate killedByFault)
            throws InterruptedException {
        int code = 0;
        long graceNs = -1;
        while (true) {
            boolean running = false;
            for (int i = 0; i < procs.size(); i++) {
                Process p;
                synchronized (procs) {
                    p = procs.get(i); // a node started again after a kill replaces its process
                }
                if (p.isAlive()) {
                    running = true;
                } else if (killedByFault.test(i) || p.exitValue() == io.ringtmp.node.Node.EXIT_FAILED_OVER) {
                    continue; // the survivors went on without it
                } else if (p.exitValue() != 0 && code == 0) {
                    code = p.exitValue();
                    out.accept("node " + i + " exited with " + code);
                    graceNs = System.nanoTime() + (spec.failureTimeoutMs() + 5000L) * 1_000_000L;
                }
            }
            if (!running) {
                return code;
            }
            if (graceNs > 0 && System.nanoTime() > graceNs) {
                out.accept("ending the remaining nodes");
                for (Process p : procs) {
                    p.destroy();
                }
                for (Process p : procs) {
                    if (!p.waitFor(5, TimeUnit.SECONDS)) {
                        p.destroyForcibly();
                    }
                }
                return code;
            }
            Thread.sleep(50);
        }
    }

    private static void stopAll(List<Process> procs, EmulatedCluster emu) {
        List<Process> copy;
        synchronized (procs) {
            copy = new ArrayList<>(procs);
        }
        for (Process p : copy) {
            if (p.isAlive()) {
                p.destroy(); // SIGTERM: the node finishes its step and writes its metrics.
            }
        }
        for (Process p : copy) {
            try {
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        if (emu != null) {
            emu.close();
        }
    }

    /** {@code n} ports free on 127.0.0.1 right now (another process may take one before it is bound). */
    public static List<Integer> freePorts(int n) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            List<Integer> ports = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket();
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress("127.0.0.1", 0));
                sockets.add(s);
                ports.add(s.getLocalPort());
            }
            return ports;
        } finally {
            for (ServerSocket s : sockets) {
                s.close();
            }
        }
    }
}
