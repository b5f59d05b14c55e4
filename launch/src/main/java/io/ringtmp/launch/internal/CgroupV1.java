package io.ringtmp.launch.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * One cgroup v1 controller hierarchy (cpu, memory, cpuset). Our groups are created below the cgroup this
 * JVM itself sits in, so whatever limits the launcher already lives under (a CI job's memory cap)
 * still hold for the nodes. Stateless apart from the two paths; any thread.
 */
public final class CgroupV1 {
    private final String controller;
    private final Path mount;
    private final Path own;

    private CgroupV1(String controller, Path mount, Path own) {
        this.controller = controller;
        this.mount = mount;
        this.own = own;
    }

    /** The hierarchy that carries {@code controller}, if it is mounted as cgroup v1. */
    public static Optional<CgroupV1> find(String controller) {
        Optional<Path> mount = mountOf(controller);
        if (mount.isEmpty()) {
            return Optional.empty();
        }
        String relative = "/";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
                String[] f = line.split(":", 3);
                if (f.length == 3 && List.of(f[1].split(",")).contains(controller)) {
                    relative = f[2];
                }
            }
        } catch (IOException e) {
            // Not in any group we can name: use the hierarchy's root.
        }
        Path own = mount.get().resolve(relative.substring(1));
        if (!Files.isDirectory(own)) {
            own = mount.get();
        }
        return Optional.of(new CgroupV1(controller, mount.get(), own));
    }

    private static Optional<Path> mountOf(String controller) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
                String[] f = line.split(" ");
                if (f.length >= 4 && f[2].equals("cgroup") && List.of(f[3].split(",")).contains(controller)) {
                    return Optional.of(Path.of(f[1]));
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    public String controller() {
        return controller;
    }

    /** Where the hierarchy is mounted, e.g. /sys/fs/cgroup/cpu. */
    public Path mount() {
        return mount;
    }

    /** The directory of a group named {@code name} below our own cgroup. */
    public Path groupDir(String name) {
        return own.resolve(name);
    }

    /** Creates the group (or keeps an existing one) and returns its directory. */
    public Path create(String name) {
        Path dir = groupDir(name);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create cgroup " + dir + ": " + e.getMessage(), e);
        }
        return dir;
    }

    /** Reads a control file of a group, stripped. */
    public static String read(Path dir, String file) {
        try {
            return Files.readString(dir.resolve(file), StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + dir.resolve(file) + ": " + e.getMessage(), e);
        }
    }

    /** Writes one value into a control file of a group. */
    public static void write(Path dir, String file, String value) {
        try {
            Files.writeString(dir.resolve(file), value, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + value + " to " + dir.resolve(file) + ": " + e.getMessage(), e);
        }
    }

    /** The processes in a group; empty when the group is gone. */
    public static List<Long> procs(Path dir) {
        List<Long> pids = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(dir.resolve("cgroup.procs"))) {
                if (!line.isBlank()) {
                    pids.add(Long.parseLong(line.strip()));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // Gone or unreadable: nothing to kill.
        }
        return pids;
    }

    /** Directories named {@code rtmp-*} anywhere in the hierarchy, a few levels deep. */
    public List<Path> findGroups(String prefix) {
        try (Stream<Path> s = Files.find(mount, 4, (p, a) -> a.isDirectory()
                && p.getFileName() != null && p.getFileName().toString().startsWith(prefix))) {
            return s.toList();
        } catch (IOException | UncheckedIOException e) {
            return List.of();
        }
    }

    /**
     * Removes a group once its tasks are gone, retrying until {@code deadlineNs}: a task that was
     * just killed leaves its cgroup a moment after the signal. Returns whether the directory is gone.
     */
    public static boolean remove(Path dir, long deadlineNs) {
        while (true) {
            try {
                Files.deleteIfExists(dir);
                return true;
            } catch (IOException e) {
                if (System.nanoTime() > deadlineNs) {
                    return !Files.exists(dir);
                }
                Processes.sleepQuietly(20);
            }
        }
    }
}
