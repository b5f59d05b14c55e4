package io.ringtmp.cli;

import io.ringtmp.launch.EmulationConfig;
import io.ringtmp.launch.Launcher;
import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.Modes;
import io.ringtmp.node.SpecException;
import io.ringtmp.node.TrainingOptions;
import io.ringtmp.ring.RingOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code ringtmp launch}: N node processes on this machine, optionally as emulated devices. */
@Command(name = "launch", mixinStandardHelpOptions = true,
        description = {"Start N node processes on this machine (127.0.0.1, or emulated devices with --emulate), "
                + "prefix their output with the node id, and print the run's summary.",
                "Modes: ring (RingTMP: one pipeline stage per node), ps (parameter server: --servers S --workers W "
                        + "--consistency bsp|asp|ssp [--staleness s]), linktest (every node streams tensors to its successor; "
                        + "MB/s and latency per link)."})
public final class LaunchCommand implements Callable<Integer> {
    @Option(names = "--nodes", defaultValue = "4", description = "Node processes (default: ${DEFAULT-VALUE}).")
    int nodes;

    @Option(names = "--mode", defaultValue = "ring", description = "What the nodes run: ring, ps or linktest (default: ${DEFAULT-VALUE}).")
    String mode;

    // ---- training (ring, ps); unset options take the defaults in docs/cluster-spec.md

    @CommandLine.Mixin
    TrainingFlags training;

    @Option(names = "--checkpoint-every", description = "Also checkpoint every N mini-batches (default: 0, only at the end).")
    Long checkpointEvery;

    // ---- ring

    @Option(names = "--schedule", description = "ring: gpipe, 1f1b or async (default: 1f1b).")
    String schedule;

    @Option(names = "--microbatches", description = "ring: microbatches per mini-batch; must divide --batch (default: 4).")
    Integer microbatches;

    @Option(names = "--inflight", description = "ring: credits, microbatches in the pipe at most (default: microbatches for gpipe, nodes for 1f1b, twice the nodes for async).")
    Integer inflight;

    @Option(names = "--partition", description = "ring: auto or manual:N,N,... layers per stage (default: auto).")
    String partition;

    @Option(names = "--profile", description = "ring: measure (time layers at start-up) or estimate (from FLOPs) (default: measure).")
    String profile;

    @Option(names = "--eval-batch", description = "ring: rows per evaluation batch (default: 500).")
    Integer evalBatch;

    @Option(names = "--replica-every", description = "ring: every this many steps each stage streams its state to its buddy, which takes "
            + "the stage over if its node dies; 0 turns failover off (default: " + RingOptions.DEFAULT_REPLICA_EVERY + ").")
    Integer replicaEvery;

    @Option(names = "--trace", description = "ring: every node writes its timeline (forwards, backwards, updates, waits) as "
            + "trace-node-<id>.json, a Chrome trace, into the run directory.")
    boolean trace;

    @Option(names = "--sizes", description = "linktest: tensor sizes (default: 4KiB,64KiB,512KiB,4MiB).")
    String sizes;

    @Option(names = "--seconds", description = "linktest: seconds of streaming per size (default: 2).")
    Double seconds;

    @Option(names = "--pings", description = "linktest: round trips timed per link (default: 200).")
    Integer pings;

    // ---- parameter server (--mode ps): nodes = --servers + --workers; see docs/parameter-server.md ----
    @Option(names = "--servers", description = "ps: server nodes, each holding one key range of the parameters (default: 1).")
    Integer servers;

    @Option(names = "--workers", description = "ps: worker nodes, each with the whole model and batch/workers rows of every batch (default: --nodes minus --servers).")
    Integer workers;

    @Option(names = "--consistency", description = "ps: bsp, asp or ssp (default: bsp).")
    String consistency;

    @Option(names = "--staleness", description = "ps with ssp: how many steps a worker may run ahead of the slowest (default: 2).")
    Integer staleness;
    // ---- end parameter server ----

    @Option(names = "--runs-dir", defaultValue = "runs", description = "Where run directories go (default: ${DEFAULT-VALUE}).")
    Path runsDir;

    @Option(names = "--heartbeat-ms", defaultValue = "500", description = "Heartbeat interval (default: ${DEFAULT-VALUE}).")
    int heartbeatMs;

    @Option(names = "--failure-timeout-ms", defaultValue = "5000",
            description = "Silence after which a neighbour is declared failed (default: ${DEFAULT-VALUE}).")
    int failureTimeoutMs;

    @Option(names = "--emulate", description = "Root only: each node in its own network namespace, with the caps below.")
    boolean emulate;

    @Option(names = "--link-mbit", defaultValue = "0", description = "--emulate: link bandwidth cap per node in Mbit/s (0: none).")
    double linkMbit;

    @Option(names = "--node-cpu", defaultValue = "0", split = ",", description = "--emulate: CPU per node in cores, e.g. 0.25, or one value per node"
            + " (a heterogeneous cluster), e.g. 0.25,0.5,0.5,0.5 (0: none).")
    List<Double> nodeCpu;

    @Option(names = "--node-mem", description = "--emulate: heap per node, e.g. 512m or 2g (none by default).")
    String nodeMem;

    @Option(names = "--fault", description = "Inject a fault, e.g. kill:2@20s (SIGKILL node 2 20 s after the run's first step), "
            + "kill:2@20s+15s (and start it again 15 s later: it rejoins the ring), stop:1@15s+10s (SIGSTOP for 10 s), cut:1-2@15s+10s (--emulate: drop every packet between nodes 1 and 2 for 10 s), "
            + "kill:random (a node and a time between 5 and 20 s drawn from --fault-seed); repeat for several.")
    List<String> faults = new ArrayList<>();

    @Option(names = "--fault-seed", defaultValue = "1", description = "Seed of the nodes and times that --fault random draws (default: ${DEFAULT-VALUE}).")
    long faultSeed;

    @Option(names = "--no-tls", negatable = false, description = "Plaintext links between the nodes, authenticated by the run's secret only "
            + "(to compare; by default the nodes talk mutual TLS 1.3 under a CA made for the run, in certs/ of the run directory).")
    boolean noTls;

    @Option(names = "--verbose", description = "Print every node's output (prefixed [node i]) instead of the progress view (partition, a bar per epoch, "
            + "accuracy); always so without a terminal. Without it, each node's output is in node-<i>.log in the run directory.")
    boolean verbose;

    @Option(names = "--cleanup", description = "Remove network namespaces and cgroups left by emulated runs whose launcher was killed, then exit.")
    boolean cleanup;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec command;

    @Override
    public Integer call() throws Exception {
        if (cleanup) {
            List<String> removed = io.ringtmp.launch.EmulatedCluster.cleanupLeftovers();
            System.out.println(removed.isEmpty() ? "nothing left over" : "removed: " + String.join(", ", removed));
            return 0;
        }
        Launcher.Options o;
        try {
            o = options();
        } catch (IllegalArgumentException | SpecException e) {
            // A bad option, or one the mode does not take: a usage error, exit 2, before any process starts.
            throw new CommandLine.ParameterException(command.commandLine(), e.getMessage());
        }
        return Launcher.launch(o, System.out).exitCode();
    }

    /** The run the options describe, every option checked. */
    private Launcher.Options options() {
        ClusterSpec.Mode m = ClusterSpec.Mode.parse(mode);
        Map<String, String> opts = new LinkedHashMap<>();
        if (sizes != null) {
            opts.put("sizes", sizes);
        }
        if (seconds != null) {
            opts.put("seconds", seconds.toString());
        }
        if (pings != null) {
            opts.put("pings", pings.toString());
        }
        int nodeCount = nodes;
        if (m == ClusterSpec.Mode.PS) {
            nodeCount = psOptions(opts);
        } else if (servers != null || workers != null || consistency != null || staleness != null) {
            throw new IllegalArgumentException("--servers, --workers, --consistency and --staleness need --mode ps");
        }
        boolean trains = m != ClusterSpec.Mode.LINKTEST;
        putTraining(opts); // every option given: the mode's check refuses those it does not take
        // Refuse an option the mode does not take, or a malformed one, before any process starts, naming it (exit 2).
        List<io.ringtmp.node.NodeSpec> probe = new ArrayList<>();
        for (int i = 0; i < Math.max(1, nodeCount); i++) {
            probe.add(io.ringtmp.node.NodeSpec.of(i, "127.0.0.1", 1 + i));
        }
        Modes.of(m).check(new ClusterSpec(1, "option-check-secret-0000", m, opts, trains ? training.model : null, trains ? training.data : null, 0, 0,
                runsDir.toString(), probe));
        if (!emulate && (linkMbit != 0 || EmulationConfig.capsCpu(nodeCpu) || nodeMem != null)) {
            throw new IllegalArgumentException("--link-mbit, --node-cpu and --node-mem need --emulate");
        }
        EmulationConfig emu = emulate ? new EmulationConfig(nodeCount, linkMbit, nodeCpu, nodeMem == null ? 0 : EmulationConfig.parseBytes(nodeMem)) : null;
        // Scrambled: java.util.Random's first draws from small neighbouring seeds (1, 2, 3...) are nearly the same.
        java.util.Random draw = new java.util.Random(io.ringtmp.tensor.Rng.derive(faultSeed, "fault"));
        List<io.ringtmp.launch.Fault> injected = new ArrayList<>();
        for (String f : faults) {
            injected.add(io.ringtmp.launch.Fault.parse(f, nodeCount, draw));
        }
        return new Launcher.Options(nodeCount, m, opts, trains ? training.model : null, trains ? training.data : null, runsDir,
                nodeCommand(), emu, heartbeatMs, failureTimeoutMs, System.console() != null && !verbose, injected, !noTls);
    }

    private void putTraining(Map<String, String> o) {
        o.putAll(training.options());
        put(o, TrainingOptions.CHECKPOINT_EVERY, checkpointEvery);
        put(o, RingOptions.SCHEDULE, schedule);
        put(o, RingOptions.MICROBATCHES, microbatches);
        put(o, RingOptions.INFLIGHT, inflight);
        put(o, RingOptions.PARTITION, partition);
        put(o, RingOptions.PROFILE, profile);
        put(o, RingOptions.EVAL_BATCH, evalBatch);
        put(o, RingOptions.REPLICA_EVERY, replicaEvery);
        if (trace) {
            o.put(RingOptions.TRACE, "true");
        }
    }

    private static void put(Map<String, String> o, String key, Object value) {
        if (value != null) {
            o.put(key, value.toString());
        }
    }

    /** Puts the parameter-server options into {@code opts}; returns the node count, servers + workers. */
    private int psOptions(Map<String, String> opts) {
        int s = servers == null ? 1 : servers;
        int w = workers == null ? nodes - s : workers;
        new io.ringtmp.ps.PsOptions(s, w, io.ringtmp.ps.Consistency.parse(consistency == null ? "bsp" : consistency),
                staleness == null ? 0 : staleness, io.ringtmp.ps.PsOptions.DEFAULT_CHUNK_FLOATS); // checks them, naming the bad one
        opts.put(io.ringtmp.ps.PsOptions.SERVERS, Integer.toString(s));
        if (consistency != null) {
            opts.put(io.ringtmp.ps.PsOptions.CONSISTENCY, consistency);
        }
        if (staleness != null) {
            opts.put(io.ringtmp.ps.PsOptions.STALENESS, staleness.toString());
        }
        return s + w;
    }

    /** This JVM's java binary, flags and class path, running {@code ringtmp node}. */
    static List<String> nodeCommand() {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-Xmx") && !a.startsWith("-agentlib") && !a.startsWith("-javaagent")) {
                cmd.add(a);
            }
        }
        // The launcher itself runs without the Vector API module (no JVM warning on its screen); nodes need it.
        if (cmd.stream().noneMatch(a -> a.startsWith("--add-modules"))) {
            cmd.add("--add-modules=jdk.incubator.vector");
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.add("node");
        return cmd;
    }
}
