package io.ringtmp.experiments;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Where the results came from: the machine (cores, CPU model from {@code /proc/cpuinfo}), the
 * commit (from {@code git rev-parse HEAD}, "unknown" without git) and whether this process may
 * emulate devices (root, from {@code /proc/self/status}).
 *
 * @param cores    the cores this JVM may use
 * @param cpuModel the first {@code model name} of /proc/cpuinfo, or "unknown"
 */
public record Machine(int cores, String cpuModel) {
    /** This machine. */
    public static Machine detect() {
        return new Machine(Runtime.getRuntime().availableProcessors(), cpuModel(Path.of("/proc/cpuinfo")));
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cores", cores);
        m.put("cpuModel", cpuModel);
        return m;
    }

    /**
     * The 1-minute load average of {@code /proc/loadavg}, or -1 where it cannot be read: on a
     * shared machine, how busy it was when a run began (other builds slow the runs down).
     */
    public static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg"), StandardCharsets.UTF_8).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The first {@code model name} line of a cpuinfo file, or "unknown". */
    static String cpuModel(Path cpuinfo) {
        try {
            for (String line : Files.readAllLines(cpuinfo, StandardCharsets.UTF_8)) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException e) {
            return "unknown";
        }
        return "unknown";
    }

    /** The commit checked out in the working directory, with "-dirty" when it has changes; "unknown" without git. */
    public static String commit() {
        String head = git(List.of("git", "rev-parse", "HEAD"));
        if (head == null || head.isBlank()) {
            return "unknown";
        }
        String status = git(List.of("git", "status", "--porcelain", "--untracked-files=no"));
        return head.trim() + (status != null && !status.isBlank() ? "-dirty" : "");
    }

    private static String git(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(false).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return null;
            }
            return p.exitValue() == 0 ? out : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Whether this process runs as root (effective uid 0): what the emulated cluster needs. */
    public static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.UTF_8)) {
                if (line.startsWith("Uid:")) {
                    String[] f = line.substring(4).trim().split("\\s+");
                    return f.length > 1 && f[1].equals("0");
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }
}
