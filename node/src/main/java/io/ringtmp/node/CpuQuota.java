package io.ringtmp.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalDouble;

/**
 * The share of one core that a CFS quota grants this process's cgroup (cgroup v1
 * {@code cpu.cfs_quota_us / cpu.cfs_period_us}, or v2 {@code cpu.max}), as the emulated cluster
 * sets it per node with {@code --node-cpu}. Empty when there is no quota or it cannot be read
 * (no cgroup file system, another OS).
 *
 * <p>Why a node needs it: a pass timed under a quota is throttled whenever it outlasts the
 * quota left in the current period, so short layers time at full speed and long ones at the
 * quota's rate; a profile from wall times then weighs layers wrongly. Timed in CPU time and
 * divided by this share, every layer is timed at the rate the quota sustains.
 */
public final class CpuQuota {
    /**
     * System property with the quota in cores, set by whoever placed the process in its cgroup
     * when the process cannot see it: the emulated cluster runs nodes under {@code ip netns
     * exec}, which remounts /sys without the cgroup mounts.
     */
    public static final String PROPERTY = "ringtmp.cpuQuota";

    private CpuQuota() {
    }

    /** This process's quota, in cores (e.g. 0.5): {@link #PROPERTY}, else its cgroup's; empty when there is none. */
    public static OptionalDouble share() {
        String p = System.getProperty(PROPERTY);
        if (p != null) {
            try {
                double v = Double.parseDouble(p);
                if (v > 0 && Double.isFinite(v)) {
                    return OptionalDouble.of(v);
                }
            } catch (NumberFormatException e) {
                // Not a number: fall back to the cgroup.
            }
        }
        return read(Path.of("/proc/self/cgroup"), Path.of("/proc/self/mountinfo"));
    }

    /** Reads the quota from a {@code /proc/<pid>/cgroup} and a {@code mountinfo} file. */
    static OptionalDouble read(Path cgroupFile, Path mountinfo) {
        try {
            List<String> groups = Files.readAllLines(cgroupFile, StandardCharsets.UTF_8);
            List<String> mounts = Files.readAllLines(mountinfo, StandardCharsets.UTF_8);
            for (String g : groups) {
                // hierarchy-id:controllers:path; v2 is "0::path".
                String[] f = g.split(":", 3);
                if (f.length < 3) {
                    continue;
                }
                boolean v2 = f[0].equals("0") && f[1].isEmpty();
                if (!v2 && !List.of(f[1].split(",")).contains("cpu")) {
                    continue;
                }
                Path dir = groupDir(mounts, v2, f[2]);
                if (dir == null) {
                    continue;
                }
                OptionalDouble s = v2 ? v2Share(dir) : v1Share(dir);
                if (s.isPresent()) {
                    return s;
                }
            }
        } catch (IOException | RuntimeException e) {
            // No readable cgroup information: no quota this process can know of.
        }
        return OptionalDouble.empty();
    }

    /** The directory of cgroup {@code path} under the matching mount, or null. */
    private static Path groupDir(List<String> mounts, boolean v2, String path) {
        for (String m : mounts) {
            // id parent major:minor root mount-point options [optional...] - fstype source super-options
            int dash = m.indexOf(" - ");
            if (dash < 0) {
                continue;
            }
            String[] pre = m.substring(0, dash).split(" ");
            String[] post = m.substring(dash + 3).split(" ");
            if (pre.length < 5 || post.length < 3) {
                continue;
            }
            boolean match = v2 ? post[0].equals("cgroup2")
                    : post[0].equals("cgroup") && List.of(post[2].split(",")).contains("cpu");
            if (!match) {
                continue;
            }
            String root = pre[3];
            if (!path.startsWith(root)) {
                continue;
            }
            String rel = path.substring(root.length()).replaceFirst("^/+", "");
            return Path.of(pre[4]).resolve(rel);
        }
        return null;
    }

    private static OptionalDouble v1Share(Path dir) throws IOException {
        Path q = dir.resolve("cpu.cfs_quota_us"), p = dir.resolve("cpu.cfs_period_us");
        if (!Files.exists(q) || !Files.exists(p)) {
            return OptionalDouble.empty();
        }
        long quota = Long.parseLong(Files.readString(q).trim());
        long period = Long.parseLong(Files.readString(p).trim());
        return quota > 0 && period > 0 ? OptionalDouble.of((double) quota / period) : OptionalDouble.empty();
    }

    private static OptionalDouble v2Share(Path dir) throws IOException {
        Path max = dir.resolve("cpu.max");
        if (!Files.exists(max)) {
            return OptionalDouble.empty();
        }
        String[] f = Files.readString(max).trim().split("\\s+");
        if (f.length != 2 || f[0].equals("max")) {
            return OptionalDouble.empty();
        }
        long quota = Long.parseLong(f[0]), period = Long.parseLong(f[1]);
        return quota > 0 && period > 0 ? OptionalDouble.of((double) quota / period) : OptionalDouble.empty();
    }
}
