package io.ringtmp.launch;

import io.ringtmp.launch.internal.Shell;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The emulated cluster on this machine, with real namespaces, qdiscs, cgroups and processes.
 * Every test skips, saying why, where it cannot run (not root, no usable {@code ip netns}).
 * Each test uses its own run tag, so tests of other checkouts running alongside are not touched.
 */
@Timeout(value = 45, unit = TimeUnit.SECONDS)
class EmulatedClusterIT {
    private static final AtomicInteger SEQ = new AtomicInteger();
    private static String skipReason;

    @BeforeAll
    static void probe() {
        if (!EmulatedCluster.isRoot()) {
            skipReason = "the emulated cluster needs root (network namespaces, tc, cgroups); running as non-root";
            return;
        }
        if (Shell.which("ip").isEmpty() || Shell.which("tc").isEmpty()) {
            skipReason = "the emulated cluster needs 'ip' and 'tc' (iproute2), not found on PATH or in /sbin";
            return;
        }
        String ns = "rtmp-probe" + Long.toString(ProcessHandle.current().pid(), 36) + "-0";
        Shell.Result add = Shell.run(List.of("ip", "netns", "add", ns));
        Shell.run(List.of("ip", "netns", "del", ns));
        if (!add.ok()) {
            skipReason = "'ip netns add' does not work here: " + add.output().strip();
        }
    }

    @BeforeEach
    void needEmulation() {
        assumeTrue(skipReason == null, skipReason);
    }

    private static String newTag() {
        return "t" + Long.toString(ProcessHandle.current().pid(), 36) + "x" + SEQ.incrementAndGet();
    }

    private static String run(String... cmd) {
        return Shell.run(List.of(cmd)).orThrow("test command");
    }

    /** Everything of {@code tag} still on the machine: namespaces, host links, cgroups. */
    private static List<String> remains(String tag, List<Path> groups) {
        List<String> found = new ArrayList<>();
        for (String line : run("ip", "netns", "list").split("\n")) {
            if (line.startsWith("rtmp-" + tag + "-")) {
                found.add("netns " + line);
            }
        }
        for (String line : run("ip", "-o", "link").split("\n")) {
            if (line.contains("rtmp")) {
                found.add("host link " + line);
            }
        }
        for (Path g : groups) {
            if (Files.exists(g)) {
                found.add("cgroup " + g);
            }
        }
        return found;
    }

    @Test
    void create_threeNodes_everythingExistsWhileOpenAndNothingAfterClose() throws IOException {
        String tag = newTag();
        // A heterogeneous cluster: node 1 has twice the CPU of the others.
        EmulationConfig cfg = new EmulationConfig(3, 40, List.of(0.25, 0.5, 0.25), 128L << 20);
        List<Path> groups = new ArrayList<>();
        try (EmulatedCluster c = EmulatedCluster.create(tag, cfg)) {
            String namespaces = run("ip", "netns", "list");
            String hub = "rtmp-" + tag + "-hub";
            assertTrue(namespaces.contains(hub), namespaces);
            for (int i = 0; i < 3; i++) {
                String ns = c.namespace(i);
                assertEquals("rtmp-" + tag + "-" + i, ns);
                assertTrue(namespaces.contains(ns), namespaces);
                assertTrue(run("ip", "-n", ns, "-4", "addr", "show", "dev", "eth0").contains(c.address(i) + "/24"));
                assertTrue(run("ip", "-n", ns, "link", "show", "lo").contains("UP"));
                assertTrue(run("ip", "-n", hub, "link", "show", "p" + i).contains("master br0"));
                assertTrue(run("tc", "-n", ns, "qdisc", "show", "dev", "eth0").contains("tbf"));
                assertTrue(run("tc", "-n", hub, "qdisc", "show", "dev", "p" + i).contains("rate 40Mbit"));
                List<Path> dirs = c.cgroupDirs(i);
                groups.addAll(dirs);
                assertEquals(i == 1 ? "5000" : "2500", read(dirs.get(0).resolve("cpu.cfs_quota_us")));
                assertEquals("10000", read(dirs.get(0).resolve("cpu.cfs_period_us")));
                assertEquals(Long.toString(cfg.memoryLimitBytes()), read(dirs.get(1).resolve("memory.limit_in_bytes")));
                if (Files.isDirectory(Path.of("/sys/fs/cgroup/cpuset"))) {
                    // 0.25 + 0.5 + 0.25 cores fit on the first CPU the launcher may use: all three are pinned to it.
                    assertEquals(3, dirs.size(), dirs.toString());
                    String first = read(dirs.get(2).getParent().resolve("cpuset.cpus")).split("[,-]")[0];
                    assertEquals(first, read(dirs.get(2).resolve("cpuset.cpus")));
                    assertEquals(Optional.of(first), c.cpusOf(i));
                } else {
                    assertEquals(2, dirs.size(), dirs.toString());
                }
            }
        }
        assertEquals(List.of(), remains(tag, groups));
    }

    @Test
    void create_exceptionInsideTry_nothingLeft() {
        String tag = newTag();
        List<Path> groups = new ArrayList<>();
        assertThrows(IllegalStateException.class, () -> {
            try (EmulatedCluster c = EmulatedCluster.create(tag, new EmulationConfig(2, 10, 0.5, 0))) {
                groups.addAll(c.cgroupDirs(0));
                groups.addAll(c.cgroupDirs(1));
                throw new IllegalStateException("boom");
            }
        });
        assertFalse(groups.isEmpty());
        assertEquals(List.of(), remains(tag, groups));
    }

    @Test
    void create_tagInUse_refusedAndFirstClusterUntouched() {
        String tag = newTag();
        try (EmulatedCluster c = EmulatedCluster.create(tag, EmulationConfig.uncapped(1))) {
            EmulationException e = assertThrows(EmulationException.class, () -> EmulatedCluster.create(tag, EmulationConfig.uncapped(1)));
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
            assertTrue(run("ip", "netns", "list").contains(c.namespace(0)));
            assertFalse(EmulatedCluster.leftovers().stream().anyMatch(l -> l.contains(tag)), "a live cluster is not a leftover");
        }
    }

    @Test
    void wrap_awkwardArguments_reachTheCommandUnchanged() throws Exception {
        List<String> args = List.of("a b", "it's", "$HOME", "`id`", "\"q\"", "x;y", "*", "-n", "");
        try (EmulatedCluster c = EmulatedCluster.create(newTag(), new EmulationConfig(1, 0, 0.5, 0))) {
            List<String> cmd = new ArrayList<>(List.of("/usr/bin/printf", "<%s>\\n"));
            cmd.addAll(args);
            try (Child p = Child.start(c.wrap(0, cmd))) {
                assertEquals(0, p.process().waitFor());
                StringBuilder expected = new StringBuilder();
                args.forEach(a -> expected.append('<').append(a).append(">\n"));
                assertEquals(expected.toString(), p.fullTranscript());
            }
        }
    }

    @Test
    void nodes_tcpEchoAcrossTheBridge_hostAddressesAndRoutesUnchanged() throws Exception {
        String before = hostNetwork();
        // Memory and CPU capped too: node JVMs start and talk with the flags jvmOptions() gives them.
        try (EmulatedCluster c = EmulatedCluster.create(newTag(), new EmulationConfig(2, 0, 0.5, 96L << 20))) {
            List<String> opts = c.config().jvmOptions(0);
            try (Child server = Child.start(c.wrap(1, Child.java(opts, NetProbe.class, "echo", c.address(1), "7000")))) {
                server.await("READY", 20_000);
                try (Child client = Child.start(c.wrap(0, Child.java(opts, NetProbe.class, "ping", c.address(1), "7000", "hello ring")))) {
                    assertEquals("ECHO hello ring", client.await("ECHO", 20_000));
                }
            }
            assertEquals(before, hostNetwork(), "the host's addresses, links and routes while the cluster is up");
        }
        assertEquals(before, hostNetwork(), "the host's addresses, links and routes after close");
    }

    private static String hostNetwork() {
        return run("ip", "-o", "addr") + run("ip", "-o", "link").replaceAll("state \\S+", "")
                + run("ip", "route", "show", "table", "all");
    }

    @ParameterizedTest
    @ValueSource(doubles = {40, 100})
    void link_cappedRate_measuredWithinTwentyPercent(double mbit) throws Exception {
        try (EmulatedCluster c = EmulatedCluster.create(newTag(), new EmulationConfig(2, mbit, 0, 0))) {
            try (Child sink = Child.start(c.wrap(1, Child.java(NetProbe.class, "sink", c.address(1), "7001", "500", "2000")))) {
                sink.await("READY", 20_000);
                try (Child source = Child.start(c.wrap(0, Child.java(NetProbe.class, "source", c.address(1), "7001")))) {
                    double measured = Double.parseDouble(sink.await("MBIT", 20_000).split(" ")[1]);
                    System.out.printf(Locale.ROOT, "link cap %.0f Mbit/s: measured %.2f Mbit/s of TCP payload (%.1f%%)%n",
                            mbit, measured, 100 * measured / mbit);
                    assertTrue(measured > 0.8 * mbit && measured < 1.2 * mbit,
                            "asked " + mbit + " Mbit/s, measured " + measured);
                }
            }
        }
    }

    @Test
    void cpu_quarterCore_busyLoopUsesAboutAQuarterOfACore() throws Exception {
        try (EmulatedCluster c = EmulatedCluster.create(newTag(), new EmulationConfig(1, 0, 0.25, 0))) {
            try (Child spin = Child.start(c.wrap(0, List.of("/bin/sh", "-c", "while :; do :; done")))) {
                long pid = spin.process().pid();
                awaitNamespace(pid, c.namespace(0));
                Path cpuGroup = c.cgroupDirs(0).get(0);
                assertTrue(read(cpuGroup.resolve("cgroup.procs")).lines().anyMatch(l -> l.equals(Long.toString(pid))),
                        "the wrapped process is in the node's cpu cgroup");
                if (c.cpusOf(0).isPresent()) {
                    String allowed = Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream()
                            .filter(l -> l.startsWith("Cpus_allowed_list:")).findFirst().orElseThrow();
                    assertEquals(c.cpusOf(0).get(), allowed.substring(allowed.indexOf(':') + 1).strip(),
                            "the wrapped process runs only on the node's CPUs");
                }
                long ticksPerSecond = Long.parseLong(run("getconf", "CLK_TCK").strip());
                long t0 = System.nanoTime();
                long cpu0 = cpuTicks(pid);
                Thread.sleep(2_000); // the measurement interval, not a wait for something to settle
                long cpu1 = cpuTicks(pid);
                long t1 = System.nanoTime();
                double share = (cpu1 - cpu0) / (double) ticksPerSecond / ((t1 - t0) / 1e9);
                System.out.printf(Locale.ROOT, "cpu cap 0.25 cores: busy loop used %.3f of a core%n", share);
                assertTrue(share > 0.15 && share < 0.40, "asked 0.25 of a core, measured " + share);
            }
        }
    }

    /** Waits until {@code pid} has entered {@code ns} (the wrapper execs into it a moment after start). */
    private static void awaitNamespace(long pid, String ns) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        String seen = "";
        while (System.nanoTime() < deadline) {
            seen = Shell.run(List.of("ip", "netns", "identify", Long.toString(pid))).output().strip();
            if (seen.equals(ns)) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("process " + pid + " is in namespace '" + seen + "', expected " + ns);
    }

    /** utime + stime of a process, in clock ticks. */
    private static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    /** SIGTERM is what a supervisor sends; SIGINT is Ctrl-C. */
    @ParameterizedTest
    @ValueSource(strings = {"TERM", "INT"})
    void signal_launcherWithOpenCluster_tearsEverythingDown(String signal) throws Exception {
        String tag = newTag();
        // A shell without job control starts background commands with SIGINT ignored, their
        // children inherit that, and a JVM started with SIGINT ignored never handles it: a test
        // run from such a shell would send Ctrl-C to a launcher that cannot hear it. The launcher
        // here starts with SIGINT's default action, as at a terminal.
        List<String> cmd = new ArrayList<>(List.of("env", "--default-signal=INT"));
        cmd.addAll(Child.java(NetProbe.class, "cluster", tag));
        try (Child launcher = Child.start(cmd)) {
            long sleeper = Long.parseLong(launcher.await("READY", 30_000).split(" ")[1]);
            assertTrue(run("ip", "netns", "list").contains("rtmp-" + tag + "-0"));
            assertTrue(ProcessHandle.of(sleeper).isPresent(), "the node process runs before SIG" + signal);
            run("kill", "-s", signal, Long.toString(launcher.process().pid()));
            assertTrue(launcher.process().waitFor(20, TimeUnit.SECONDS), "the launcher exits after SIG" + signal);
            assertFalse(ProcessHandle.of(sleeper).map(ProcessHandle::isAlive).orElse(false), "the node process is gone");
        }
        assertEquals(List.of(), cgroupsNamed(tag), "cgroups of the signalled launcher");
        assertEquals(List.of(), remains(tag, List.of()));
    }

    @Test
    void sigkill_launcherWithOpenCluster_leftoversListedAndCleanedUp() throws Exception {
        String tag = newTag();
        long sleeper;
        try (Child launcher = Child.start(Child.java(NetProbe.class, "cluster", tag))) {
            sleeper = Long.parseLong(launcher.await("READY", 30_000).split(" ")[1]);
            launcher.process().destroyForcibly(); // SIGKILL: no shutdown hook runs
            assertTrue(launcher.process().waitFor(10, TimeUnit.SECONDS));
        }
        List<String> left = EmulatedCluster.leftovers().stream().filter(l -> l.contains("rtmp-" + tag + "-")).toList();
        assertTrue(left.contains("netns rtmp-" + tag + "-0") && left.contains("netns rtmp-" + tag + "-hub"), left.toString());
        assertTrue(left.stream().anyMatch(l -> l.startsWith("cgroup ") && l.endsWith("rtmp-" + tag + "-1")), left.toString());

        List<String> removed = EmulatedCluster.cleanupLeftovers();
        assertTrue(removed.containsAll(left), "removed " + removed + ", listed " + left);
        assertFalse(ProcessHandle.of(sleeper).map(ProcessHandle::isAlive).orElse(false), "the orphaned node process is gone");
        assertEquals(List.of(), cgroupsNamed(tag));
        assertEquals(List.of(), remains(tag, List.of()));
    }

    @Test
    void create_notRoot_refusedWithOneLineSayingSo() throws Exception {
        assumeTrue(Shell.which("setpriv").isPresent(), "needs setpriv (util-linux) to run a child as nobody");
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"));
        // The checkout may be private (a clone in root's home or in mktemp -d): nobody reads copies.
        Path readable = Files.createTempDirectory("ringtmp-nobody-");
        try {
            cmd.addAll(Child.javaReadableByAll(readable, NetProbe.class, "cluster", newTag()));
            try (Child child = Child.start(cmd, readable)) {
                assertEquals("EMULATION --emulate needs root: run as root or drop --emulate", child.await("EMULATION", 20_000));
                assertEquals(2, child.process().waitFor());
            }
        } finally {
            deleteTree(readable);
        }
    }

    private static List<Path> cgroupsNamed(String tag) throws IOException {
        List<Path> groups = new ArrayList<>();
        for (String controller : List.of("cpu", "memory", "cpuset")) {
            for (int i = 0; i < 2; i++) {
                String name = "rtmp-" + tag + "-" + i;
                try (var s = Files.find(Path.of("/sys/fs/cgroup", controller), 4,
                        (p, a) -> p.getFileName().toString().equals(name))) {
                    s.forEach(groups::add);
                }
            }
        }
        return groups;
    }

    private static String read(Path p) throws IOException {
        return Files.readString(p).strip();
    }

    private static void deleteTree(Path root) throws IOException {
        try (var s = Files.walk(root)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
