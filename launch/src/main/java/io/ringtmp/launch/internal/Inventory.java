package io.ringtmp.launch.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Names of everything an emulated cluster creates, how to find them again, and who owns them.
 *
 * <p>Every namespace and cgroup is named {@code rtmp-<tag>-<suffix>}, where the tag is made of
 * lower-case letters and digits only, so the tag of any object can be read back from its name.
 * The creating JVM writes its pid and start time to {@code /run/ringtmp/<tag>.owner}; objects
 * whose owner is still alive are never reported as leftovers, so a cleanup cannot tear down a
 * cluster that another launcher is using. Stateless; any thread.
 */
public final class Inventory {
    public static final String PREFIX = "rtmp-";
    public static final String HUB_SUFFIX = "hub";
    private static final Pattern TAG = Pattern.compile("[a-z0-9]{1,16}");
    private static final Path OWNER_DIR = Path.of("/run/ringtmp");
    private static final List<String> CONTROLLERS = List.of("cpu", "memory", "cpuset");

    private Inventory() {
    }

    /** Checks a run tag: 1 to 16 lower-case letters or digits (it becomes part of file and namespace names). */
    public static String checkTag(String tag) {
        if (tag == null || !TAG.matcher(tag).matches()) {
            throw new IllegalArgumentException("runTag must be 1 to 16 lower-case letters or digits, got '" + tag + "'");
        }
        return tag;
    }

    public static String nodeName(String tag, int node) {
        return PREFIX + tag + "-" + node;
    }

    public static String hubName(String tag) {
        return PREFIX + tag + "-" + HUB_SUFFIX;
    }

    /** The tag inside a name {@code rtmp-<tag>-<suffix>}, or empty if the name is not ours. */
    public static Optional<String> tagOf(String name) {
        if (!name.startsWith(PREFIX)) {
            return Optional.empty();
        }
        int dash = name.lastIndexOf('-');
        if (dash <= PREFIX.length() - 1) {
            return Optional.empty();
        }
        String tag = name.substring(PREFIX.length(), dash);
        return TAG.matcher(tag).matches() ? Optional.of(tag) : Optional.empty();
    }

    /** Network namespaces named {@code rtmp-*}, as {@code ip netns list} shows them. */
    public static List<String> namespaces(String ip) {
        Shell.Result r = Shell.run(List.of(ip, "netns", "list"));
        List<String> names = new ArrayList<>();
        if (r.ok()) {
            for (String line : r.output().split("\n")) {
                String name = line.strip().split(" ", 2)[0];
                if (tagOf(name).isPresent()) {
                    names.add(name);
                }
            }
        }
        return names;
    }

    /** cgroup directories named {@code rtmp-*} in the cpu, memory and cpuset hierarchies, deepest first. */
    public static List<Path> cgroups() {
        List<Path> dirs = new ArrayList<>();
        for (String c : CONTROLLERS) {
            CgroupV1.find(c).ifPresent(g -> g.findGroups(PREFIX).stream()
                    .filter(p -> tagOf(p.getFileName().toString()).isPresent()).forEach(dirs::add));
        }
        dirs.sort((a, b) -> Integer.compare(b.getNameCount(), a.getNameCount()));
        return dirs;
    }

    /** Tags that have a namespace or cgroup on this machine. */
    public static Set<String> tagsInUse(String ip) {
        Set<String> tags = new LinkedHashSet<>();
        namespaces(ip).forEach(n -> tagOf(n).ifPresent(tags::add));
        cgroups().forEach(p -> tagOf(p.getFileName().toString()).ifPresent(tags::add));
        return tags;
    }

    /** Records this JVM as the owner of {@code tag}'s objects. */
    public static void writeOwner(String tag) {
        ProcessHandle self = ProcessHandle.current();
        long startMs = self.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
        try {
            Files.createDirectories(OWNER_DIR);
            Files.writeString(OWNER_DIR.resolve(tag + ".owner"), self.pid() + " " + startMs + "\n");
        } catch (IOException e) {
            // Without the file, a concurrent cleanup may treat this cluster as a leftover; setup still works.
            System.getLogger(Inventory.class.getName()).log(System.Logger.Level.WARNING,
                    "cannot record the owner of emulated cluster " + tag + ": " + e.getMessage());
        }
    }

    public static void deleteOwner(String tag) {
        try {
            Files.deleteIfExists(OWNER_DIR.resolve(tag + ".owner"));
        } catch (IOException e) {
            // A stale owner file names a dead process and is ignored.
        }
    }

    /** Whether the JVM that created {@code tag}'s objects is still running (same pid and start time). */
    public static boolean ownerAlive(String tag) {
        try {
            String[] f = Files.readString(OWNER_DIR.resolve(tag + ".owner")).strip().split(" ");
            long pid = Long.parseLong(f[0]);
            long startMs = Long.parseLong(f[1]);
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                    .map(h -> h.info().startInstant().map(Instant::toEpochMilli).orElse(0L) == startMs)
                    .orElse(false);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
