package io.ringtmp.launch;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** A process the tests start, whose stdout lines can be awaited with a deadline. Closing kills it. */
final class Child implements AutoCloseable {
    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final StringBuilder transcript = new StringBuilder();
    private final Thread reader;

    private Child(Process process) {
        this.process = process;
        this.reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    synchronized (transcript) {
                        transcript.append(line).append('\n');
                    }
                    lines.add(line);
                }
            } catch (IOException e) {
                // The process ended.
            }
        }, "child-stdout-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    static Child start(List<String> command) throws IOException {
        return new Child(new ProcessBuilder(command).redirectErrorStream(true).start());
    }

    /** As {@link #start(List)}, in {@code directory}. */
    static Child start(List<String> command, Path directory) throws IOException {
        return new Child(new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true).start());
    }

    /** A JVM running {@code mainClass} from the test classpath, small and quick to start. */
    static List<String> java(Class<?> mainClass, String... args) {
        return java(List.of(), mainClass, args);
    }

    /** As {@link #java(Class, String...)}, with {@code jvmOptions} overriding the defaults. */
    static List<String> java(List<String> jvmOptions, Class<?> mainClass, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(List.of("-Xmx64m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /**
     * As {@link #java(Class, String...)}, for a child that runs as another user (e.g.
     * {@code nobody}): the checkout, or the Maven repository in a home folder, may be private
     * (mode 0700), so every classpath entry is copied into {@code dir}, a fresh folder that
     * everyone may read; the child should also run there ({@link #start(List, Path)}).
     */
    static List<String> javaReadableByAll(Path dir, Class<?> mainClass, String... args) throws IOException {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        List<String> entries = new ArrayList<>();
        int i = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path from = Path.of(entry);
            if (!Files.exists(from)) {
                continue;
            }
            Path to = dir.resolve(i++ + "-" + from.getFileName());
            copyReadable(from, to);
            entries.add(to.toString());
        }
        List<String> cmd = java(mainClass, args);
        int cp = cmd.indexOf("-cp");
        cmd.set(cp + 1, String.join(File.pathSeparator, entries));
        return cmd;
    }

    private static void copyReadable(Path from, Path to) throws IOException {
        var dirMode = PosixFilePermissions.fromString("rwxr-xr-x");
        var fileMode = PosixFilePermissions.fromString("rw-r--r--");
        try (Stream<Path> tree = Files.walk(from)) {
            for (Path p : (Iterable<Path>) tree::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                    Files.setPosixFilePermissions(target, dirMode);
                } else {
                    Files.copy(p, target);
                    Files.setPosixFilePermissions(target, fileMode);
                }
            }
        }
    }

    Process process() {
        return process;
    }

    /** The first line starting with {@code prefix}, waiting at most {@code timeoutMs}; fails with the transcript otherwise. */
    String await(String prefix, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (true) {
            long left = deadline - System.nanoTime();
            String line = left > 0 ? lines.poll(Math.min(left, 100_000_000), TimeUnit.NANOSECONDS) : null;
            if (line != null && line.startsWith(prefix)) {
                return line;
            }
            if (left <= 0 || (line == null && !process.isAlive() && lines.isEmpty())) {
                throw new AssertionError("no line starting with '" + prefix + "' within " + timeoutMs + " ms; exit "
                        + (process.isAlive() ? "-" : process.exitValue()) + "; output:\n" + transcript());
            }
        }
    }

    /** Waits (bounded) until the child's output is read to its end: after waitFor(), the reader may still be behind. */
    String fullTranscript() throws InterruptedException {
        reader.join(10_000);
        return transcript();
    }

    String transcript() {
        synchronized (transcript) {
            return transcript.toString();
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
    }
}
