package io.ringtmp.cli.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Checks the peer figures of a benchmark against the peer's own {@code results.md} (or another
 * file of that format): one per benchmark run, made where the peer directory is known. Without
 * the file, on another machine kind, or for a command the file has no row for, every check is
 * {@link PeerCheck.Status#UNCHECKED} and says why.
 */
public final class PeerReference {
    private final Path peerDir;
    private final PeerResults results;
    private final String unusable;
    private final Map<String, Map<String, String>> defaults = new HashMap<>();

    private PeerReference(Path peerDir, PeerResults results, String unusable) {
        this.peerDir = peerDir;
        this.results = results;
        this.unusable = unusable;
    }

    /** The reference for the peer in {@code peerDir}: {@code resultsFile}, or {@code peerDir/results.md} when null. */
    public static PeerReference load(Path peerDir, Path resultsFile) throws IOException {
        return load(peerDir, resultsFile, Runtime.getRuntime().availableProcessors(), hasAvx512());
    }

    /** As {@link #load(Path, Path)}, for a machine with {@code cores} cores, with or without AVX-512. */
    static PeerReference load(Path peerDir, Path resultsFile, int cores, boolean avx512) throws IOException {
        Path file = resultsFile != null ? resultsFile : peerDir.resolve("results.md");
        if (!Files.isRegularFile(file)) {
            return new PeerReference(peerDir, null, "no " + file + " to compare with");
        }
        PeerReference ref = new PeerReference(peerDir, null, null);
        PeerResults r = PeerResults.read(file, ref.defaultsFor(file));
        Optional<String> other = r.otherMachine(cores, avx512);
        return new PeerReference(peerDir, r, other.orElse(null));
    }

    /** The check of {@code measured} samples/s from {@code script args...}. */
    public PeerCheck check(String script, List<String> args, double measured) {
        PeerCommand cmd = PeerCommand.of(script, args, defaults(script));
        if (unusable != null) {
            return PeerCheck.of(cmd.toString(), measured, Double.NaN, unusable);
        }
        return results.find(cmd)
                .map(row -> PeerCheck.of(cmd.toString(), measured, row.median(), results.source() + ", row '" + row.label() + "', median of "
                        + row.runs().size() + " runs"))
                .orElseGet(() -> PeerCheck.of(cmd.toString(), measured, Double.NaN, results.source() + " has no row for " + cmd));
    }

    /** Every script's defaults, read lazily from the peer directory (results.md names them). */
    private Map<String, Map<String, String>> defaultsFor(Path file) throws IOException {
        Map<String, Map<String, String>> all = new HashMap<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("`(\\w+\\.py)").matcher(line);
            while (m.find()) {
                all.computeIfAbsent(m.group(1), this::defaults);
            }
        }
        return all;
    }

    private Map<String, String> defaults(String script) {
        return defaults.computeIfAbsent(script, s -> {
            try {
                return PeerResults.scriptDefaults(peerDir.resolve(s));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    private static boolean hasAvx512() {
        try {
            return Files.readString(Path.of("/proc/cpuinfo")).contains(" avx512f");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
