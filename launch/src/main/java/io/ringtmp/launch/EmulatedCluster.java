package io.ringtmp.launch;

import io.ringtmp.launch.internal.CgroupV1;
import io.ringtmp.launch.internal.CpuSlices;
import io.ringtmp.launch.internal.Inventory;
import io.ringtmp.launch.internal.Shell;
import io.ringtmp.launch.internal.Subnets;
import io.ringtmp.launch.internal.Teardown;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * N slow devices on a slow network, on one machine: each node in its own network namespace with
 * its own address, a link whose rate {@code tc tbf} caps in both directions, and cgroup v1 limits
 * on CPU and memory, each CPU-capped node pinned to its own slice of the CPUs (cpuset) where the
 * quotas fit. Needs root, {@code ip}, {@code tc} and the cgroup v1 cpu and memory controllers
 * (cpuset where present); see docs/emulation.md for what is and is not emulated.
 *
 * <p>Topology: a hub namespace {@code rtmp-<tag>-hub} holds a bridge; node {@code i} lives in
 * {@code rtmp-<tag>-<i>}, its {@code eth0} paired with port {@code p<i>} on the bridge and
 * addressed {@link #address(int)} in a /24 that no host address or route overlaps. Nothing is
 * created in the host's own network namespace, so the host's addresses and routes never change,
 * and the host cannot reach node addresses: nodes talk to each other, and to the launcher through
 * their standard streams or files.
 *
 * <p>Use: {@link #create}, then start each node's process from {@link #wrap}, then {@link #close}
 * (try-with-resources). Every method may be called from any thread; {@code close} is idempotent
 * and also runs from a JVM shutdown hook, so Ctrl-C (SIGINT) and SIGTERM tear the cluster down
 * as well. Only SIGKILL of the launcher leaves objects behind; {@link #cleanupLeftovers()} removes
 * them later.
 *
 * <pre>{@code
 * try (EmulatedCluster c = EmulatedCluster.create("run1", new EmulationConfig(4, 40, 0.25, 512L << 20))) {
 *     Process p = new ProcessBuilder(c.wrap(0, List.of("java", "-cp", cp, "Node", c.address(0)))).start();
 *     ...
 * }
 * }</pre>
 */
public final class EmulatedCluster implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.ringtmp.launch");
    /** tbf's queue, in time at the link rate: a slow link's buffer, without unbounded bufferbloat. */
    static final int TBF_LATENCY_MS = 50;
    static final long CFS_PERIOD_US = 10_000;

    private final String tag;
    private final EmulationConfig config;
    private final String ip;
    private final String subnetPrefix;
    private final List<Path> cpuGroups = new ArrayList<>();
    private final List<Path> memoryGroups = new ArrayList<>();
    private final List<Path> cpusetGroups = new ArrayList<>();
    private List<String> cpuSets = List.of();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread shutdownHook;

    private EmulatedCluster(String tag, EmulationConfig config, String ip, String subnetPrefix) {
        this.tag = tag;
        this.config = config;
        this.ip = ip;
        this.subnetPrefix = subnetPrefix;
        this.shutdownHook = new Thread(this::teardown, "rtmp-teardown-" + tag);
    }

    /**
     * Builds the cluster. {@code runTag} (1-16 lower-case letters or digits) names everything it
     * creates and must not be in use. Throws {@link EmulationException} with a one-line message
     * when this machine cannot emulate (not root, a tool or controller missing) or a setup step
     * fails; whatever was created by then is removed first.
     */
    public static EmulatedCluster create(String runTag, EmulationConfig cfg) {
        Inventory.checkTag(runTag);
        Objects.requireNonNull(cfg, "cfg");
        Preflight pre = preflight(cfg);
        if (Inventory.tagsInUse(pre.ip).contains(runTag)) {
            throw new EmulationException("--emulate: run tag '" + runTag + "' is in use (namespaces or cgroups rtmp-"
                    + runTag + "-* exist): pick another tag, or run 'ringtmp launch --cleanup' if they are left from a crash");
        }
        EmulatedCluster c = new EmulatedCluster(runTag, cfg, pre.ip, Subnets.choose(pre.ip, runTag));
        Runtime.getRuntime().addShutdownHook(c.shutdownHook);
        Inventory.writeOwner(runTag);
        try {
            c.build(pre);
        } catch (RuntimeException e) {
            c.close();
            throw new EmulationException("--emulate: setting up the emulated cluster failed: " + e.getMessage(), e);
        }
        return c;
    }

    private record Preflight(String ip, String tc, Optional<CgroupV1> cpu, Optional<CgroupV1> memory, Optional<CgroupV1> cpuset) {
    }

    private static Preflight preflight(EmulationConfig cfg) {
        if (!isRoot()) {
            throw new EmulationException("--emulate needs root: run as root or drop --emulate");
        }
        String ip = Shell.which("ip").map(Path::toString).orElseThrow(() ->
                new EmulationException("--emulate needs the 'ip' tool (iproute2): install iproute2 or drop --emulate"));
        String tc = Shell.which("tc").map(Path::toString).orElse(null);
        if (cfg.linkCapped() && tc == null) {
            throw new EmulationException("--emulate with --link-mbit needs the 'tc' tool (iproute2): install iproute2 or drop --link-mbit");
        }
        Optional<CgroupV1> cpu = cfg.cpuCapped() ? CgroupV1.find("cpu") : Optional.empty();
        if (cfg.cpuCapped() && (cpu.isEmpty() || !Files.exists(cpu.get().mount().resolve("cpu.cfs_quota_us")))) {
            throw new EmulationException("--emulate with --node-cpu needs the cgroup v1 cpu controller with CFS quotas"
                    + " mounted (e.g. at /sys/fs/cgroup/cpu): mount it or drop --node-cpu");
        }
        Optional<CgroupV1> memory = cfg.memoryCapped() ? CgroupV1.find("memory") : Optional.empty();
        if (cfg.memoryCapped() && memory.isEmpty()) {
            throw new EmulationException("--emulate with --node-mem needs the cgroup v1 memory controller mounted"
                    + " (e.g. at /sys/fs/cgroup/memory): mount it or drop --node-mem");
        }
        // Pinning each node to its slice of the CPUs is best effort: without the cpuset controller the quotas still hold.
        Optional<CgroupV1> cpuset = cfg.cpuCapped() ? CgroupV1.find("cpuset") : Optional.empty();
        return new Preflight(ip, tc, cpu, memory, cpuset);
    }

    /** Whether this process's effective uid is 0, from /proc/self/status. */
    static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    String[] f = line.substring(4).strip().split("\\s+");
                    return f.length > 1 && f[1].equals("0");
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    private void build(Preflight pre) {
        String mems = null;
        if (pre.cpuset.isPresent()) {
            Path own = pre.cpuset.get().groupDir("");
            mems = CgroupV1.read(own, "cpuset.mems");
            cpuSets = CpuSlices.assign(config.nodeCpu(), CpuSlices.parse(CgroupV1.read(own, "cpuset.cpus")))
                    .orElse(List.of());
        }
        String hub = Inventory.hubName(tag);
        ipRun("create the hub namespace", "netns", "add", hub);
        ipRun("bring up the hub's loopback", "-n", hub, "link", "set", "lo", "up");
        ipRun("create the bridge", "-n", hub, "link", "add", "br0", "type", "bridge");
        ipRun("bring up the bridge", "-n", hub, "link", "set", "br0", "up");
        for (int i = 0; i < config.nodes(); i++) {
            checkNotClosed();
            String ns = namespace(i);
            String port = "p" + i;
            ipRun("create node " + i + "'s namespace", "netns", "add", ns);
            // Both ends are created inside namespaces: nothing ever appears in the host's namespace.
            ipRun("create node " + i + "'s link", "-n", hub, "link", "add", port, "type", "veth",
                    "peer", "name", "eth0", "netns", ns);
            ipRun("attach node " + i + " to the bridge", "-n", hub, "link", "set", port, "master", "br0", "up");
            ipRun("address node " + i, "-n", ns, "addr", "add", address(i) + "/24", "dev", "eth0");
            ipRun("bring up node " + i + "'s link", "-n", ns, "link", "set", "eth0", "up");
            ipRun("bring up node " + i + "'s loopback", "-n", ns, "link", "set", "lo", "up");
            if (config.linkCapped()) {
                // Egress of the node's end caps what it sends; egress of the bridge port caps what it receives.
                shape(pre.tc, ns, "eth0");
                shape(pre.tc, hub, port);
            }
            if (pre.cpu.isPresent()) {
                Path g = pre.cpu.get().create(ns);
                cpuGroups.add(g);
                CgroupV1.write(g, "cpu.cfs_period_us", Long.toString(CFS_PERIOD_US));
                CgroupV1.write(g, "cpu.cfs_quota_us", Long.toString(config.cpuQuotaUs(i)));
            }
            if (!cpuSets.isEmpty()) {
                Path g = pre.cpuset.get().create(ns);
                cpusetGroups.add(g);
                CgroupV1.write(g, "cpuset.mems", mems);  // v1 takes no task before both are set
                CgroupV1.write(g, "cpuset.cpus", cpuSets.get(i));
            }
            if (pre.memory.isPresent()) {
                Path g = pre.memory.get().create(ns);
                memoryGroups.add(g);
                String limit = Long.toString(config.memoryLimitBytes());
                CgroupV1.write(g, "memory.limit_in_bytes", limit);
                if (Files.exists(g.resolve("memory.memsw.limit_in_bytes"))) {
                    // Same limit for memory+swap, so a node cannot spill its excess into swap.
                    CgroupV1.write(g, "memory.memsw.limit_in_bytes", limit);
                }
            }
        }
    }

    private void shape(String tc, String ns, String dev) {
        Shell.run(List.of(tc, "-n", ns, "qdisc", "add", "dev", dev, "root", "tbf",
                "rate", config.linkBitsPerSecond() + "bit", "burst", Long.toString(config.linkBurstBytes()),
                "latency", TBF_LATENCY_MS + "ms")).orThrow("cap " + dev + " in " + ns + " with tc tbf");
    }

    private void ipRun(String what, String... args) {
        checkNotClosed();
        List<String> cmd = new ArrayList<>(args.length + 1);
        cmd.add(ip);
        cmd.addAll(List.of(args));
        Shell.run(cmd).orThrow(what);
    }

    /**
     * Cuts the link between nodes {@code a} and {@code b}: a blackhole route to the other's
     * address in each one's namespace, so that every packet between the two is dropped while
     * both keep their other links (TCP retransmits, and the connection lives on if the cut is
     * healed before it gives up). {@link #heal} undoes it.
     */
    public void cut(int a, int b) {
        ipRun("cut the link " + a + "-" + b + " at node " + a, "-n", namespace(a), "route", "add", "blackhole", address(b) + "/32");
        ipRun("cut the link " + a + "-" + b + " at node " + b, "-n", namespace(b), "route", "add", "blackhole", address(a) + "/32");
    }

    /** Heals a link {@link #cut} before. */
    public void heal(int a, int b) {
        ipRun("heal the link " + a + "-" + b + " at node " + a, "-n", namespace(a), "route", "del", "blackhole", address(b) + "/32");
        ipRun("heal the link " + a + "-" + b + " at node " + b, "-n", namespace(b), "route", "del", "blackhole", address(a) + "/32");
    }

    public String runTag() {
        return tag;
    }

    public EmulationConfig config() {
        return config;
    }

    public int nodes() {
        return config.nodes();
    }

    /** Node {@code node}'s IPv4 address, e.g. {@code 10.173.42.1}; node i has host part i + 1. */
    public String address(int node) {
        checkNode(node);
        return subnetPrefix + "." + (node + 1);
    }

    /** The nodes' subnet, e.g. {@code 10.173.42.0/24}. */
    public String subnet() {
        return subnetPrefix + ".0/24";
    }

    /** The network namespace of node {@code node}, {@code rtmp-<tag>-<node>}. */
    public String namespace(int node) {
        checkNode(node);
        return Inventory.nodeName(tag, node);
    }

    /**
     * The cgroup directories node {@code node}'s processes join, in this order: cpu, memory,
     * cpuset (each only when used; empty when neither CPU nor memory is capped).
     */
    public List<Path> cgroupDirs(int node) {
        checkNode(node);
        List<Path> dirs = new ArrayList<>();
        if (!cpuGroups.isEmpty()) {
            dirs.add(cpuGroups.get(node));
        }
        if (!memoryGroups.isEmpty()) {
            dirs.add(memoryGroups.get(node));
        }
        if (!cpusetGroups.isEmpty()) {
            dirs.add(cpusetGroups.get(node));
        }
        return dirs;
    }

    /**
     * The CPUs node {@code node} is pinned to, as a cpuset list ("0", "0-1"), or empty when the
     * nodes are not pinned (CPU uncapped, no cpuset controller, or quotas that add up to more
     * than the launcher's CPUs); see {@link CpuSlices}.
     */
    public Optional<String> cpusOf(int node) {
        checkNode(node);
        return cpuSets.isEmpty() ? Optional.empty() : Optional.of(cpuSets.get(node));
    }

    /**
     * A command line that runs {@code command} inside node {@code node}'s network namespace and
     * cgroups from its first instruction: a shell puts itself into the cgroups and then execs
     * {@code ip netns exec}, which execs {@code command}. No process is in between, so the pid of
     * the started process is the pid of {@code command}, and signals reach it directly. The
     * arguments travel as positional parameters, never through the shell's parser, so any
     * argument is passed unchanged.
     */
    public List<String> wrap(int node, List<String> command) {
        checkNode(node);
        Objects.requireNonNull(command, "command");
        if (command.isEmpty()) {
            throw new IllegalArgumentException("command must not be empty");
        }
        checkNotClosed();
        StringBuilder script = new StringBuilder();
        for (Path g : cgroupDirs(node)) {
            script.append("echo $$ > ").append(Shell.quote(g.resolve("cgroup.procs").toString())).append(" && ");
        }
        script.append("exec ").append(Shell.quote(ip)).append(" netns exec ").append(Shell.quote(namespace(node))).append(" \"$@\"");
        List<String> wrapped = new ArrayList<>(command.size() + 4);
        wrapped.add("/bin/sh");
        wrapped.add("-c");
        wrapped.add(script.toString());
        wrapped.add("rtmp-node-" + node);
        wrapped.addAll(command);
        return List.copyOf(wrapped);
    }

    /** Also stops a setup that a signal interrupted: the shutdown hook has torn down, so build no further. */
    private void checkNotClosed() {
        if (closed.get()) {
            throw new IllegalStateException("emulated cluster " + tag + " is closed");
        }
    }

    private void checkNode(int node) {
        if (node < 0 || node >= config.nodes()) {
            throw new IllegalArgumentException("node must be in [0, " + config.nodes() + "), got " + node);
        }
    }

    /**
     * Ends every process still running in the nodes' namespaces or cgroups (SIGTERM, then SIGKILL
     * after a second), deletes the namespaces, the hub and the cgroups. Idempotent; never throws:
     * what cannot be removed is logged, and {@link #leftovers()} reports it later.
     */
    @Override
    public void close() {
        if (closed.get()) {
            return;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // The JVM is shutting down and the hook is running or about to: teardown below is idempotent.
        }
        teardown();
    }

    private void teardown() {
        if (closed.compareAndSet(false, true)) {
            Teardown.removeTag(ip, tag);
        }
    }

    /**
     * Namespaces and cgroups named {@code rtmp-*} whose creating JVM is gone (a crashed or
     * SIGKILLed launcher), one line each, e.g. {@code netns rtmp-run1-0}. Clusters whose launcher
     * is still running are not listed. Empty when not root or the tools are missing.
     */
    public static List<String> leftovers() {
        Optional<String> ip = Shell.which("ip").map(Path::toString);
        if (ip.isEmpty()) {
            return List.of();
        }
        List<String> found = new ArrayList<>();
        for (String ns : Inventory.namespaces(ip.get())) {
            if (!Inventory.ownerAlive(Inventory.tagOf(ns).orElseThrow())) {
                found.add("netns " + ns);
            }
        }
        for (Path g : Inventory.cgroups()) {
            if (!Inventory.ownerAlive(Inventory.tagOf(g.getFileName().toString()).orElseThrow())) {
                found.add("cgroup " + g);
            }
        }
        return found;
    }

    /**
     * Removes what {@link #leftovers()} lists, ending any process still inside; returns what was
     * removed, one line each. Throws {@link EmulationException} when not root.
     */
    public static List<String> cleanupLeftovers() {
        if (!isRoot()) {
            throw new EmulationException("--cleanup needs root: run as root");
        }
        Optional<String> ip = Shell.which("ip").map(Path::toString);
        if (ip.isEmpty()) {
            throw new EmulationException("--cleanup needs the 'ip' tool (iproute2): install iproute2");
        }
        List<String> removed = new ArrayList<>();
        for (String tag : Inventory.tagsInUse(ip.get())) {
            if (!Inventory.ownerAlive(tag)) {
                removed.addAll(Teardown.removeTag(ip.get(), tag));
            }
        }
        return removed;
    }

    @Override
    public String toString() {
        return "EmulatedCluster[" + tag + ", " + config + ", subnet " + subnet() + (closed.get() ? ", closed" : "") + "]";
    }
}
