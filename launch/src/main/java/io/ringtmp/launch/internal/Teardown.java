package io.ringtmp.launch.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Removes everything of one run tag: ends the processes inside its namespaces and cgroups,
 * deletes the namespaces (which deletes their veth ends, bridge and qdiscs with them) and then
 * the cgroup directories. Finds the objects by name, so it also cleans up after a setup that
 * stopped half way or a launcher that crashed. Never throws; problems are logged and returned.
 */
public final class Teardown {
    private static final System.Logger LOG = System.getLogger("io.ringtmp.launch");
    /** How long processes get to exit after SIGTERM, and again after SIGKILL. */
    private static final long KILL_GRACE_MS = 1_000;
    /** How long a cgroup may stay busy after its tasks were killed. */
    private static final long RMDIR_WAIT_MS = 3_000;

    private Teardown() {
    }

    /** Removes every namespace and cgroup of {@code tag}; returns what it removed, one line each. */
    public static List<String> removeTag(String ip, String tag) {
        List<String> removed = new ArrayList<>();
        try {
            List<String> namespaces = new ArrayList<>(Inventory.namespaces(ip).stream()
                    .filter(n -> Inventory.tagOf(n).orElse("").equals(tag)).toList());
            // Nodes before the hub: deleting a node namespace takes its veth pair out of the bridge.
            namespaces.sort(Comparator.comparing((String n) -> n.endsWith("-" + Inventory.HUB_SUFFIX)));
            List<Path> groups = Inventory.cgroups().stream()
                    .filter(p -> Inventory.tagOf(p.getFileName().toString()).orElse("").equals(tag)).toList();

            List<Long> pids = new ArrayList<>();
            for (String ns : namespaces) {
                Shell.Result r = Shell.run(List.of(ip, "netns", "pids", ns));
                for (String line : r.output().split("\n")) {
                    if (line.strip().matches("\\d+")) {
                        pids.add(Long.parseLong(line.strip()));
                    }
                }
            }
            groups.forEach(g -> pids.addAll(CgroupV1.procs(g)));
            List<Long> survivors = Processes.terminate(pids, KILL_GRACE_MS);
            if (!survivors.isEmpty()) {
                LOG.log(System.Logger.Level.WARNING, "emulated cluster " + tag + ": processes " + survivors + " survived SIGKILL");
            }

            for (String ns : namespaces) {
                Shell.Result r = Shell.run(List.of(ip, "netns", "del", ns));
                if (r.ok()) {
                    removed.add("netns " + ns);
                } else {
                    LOG.log(System.Logger.Level.WARNING, "cannot delete network namespace " + ns + ": " + r.output().strip());
                }
            }
            long deadline = System.nanoTime() + RMDIR_WAIT_MS * 1_000_000;
            for (Path g : groups) {
                if (CgroupV1.remove(g, deadline)) {
                    removed.add("cgroup " + g);
                } else {
                    LOG.log(System.Logger.Level.WARNING, "cannot remove cgroup " + g + ": tasks " + CgroupV1.procs(g) + " still in it");
                }
            }
            if (groups.stream().noneMatch(Files::exists)) {
                Inventory.deleteOwner(tag);
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "tearing down emulated cluster " + tag + " failed", e);
        }
        return removed;
    }
}
