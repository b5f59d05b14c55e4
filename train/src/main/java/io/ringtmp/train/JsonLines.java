package io.ringtmp.train;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The one JSON-lines writer of RingTMP's metrics files (the trainer's {@link MetricsFile}, a
 * node's {@code node-<id>.jsonl}): one object per line, buffered, flushed when a line asks for it
 * and otherwise at most every 250 ms, so that a reader following the file (the launcher's
 * progress view) sees it move. A write that fails is said once on stderr: a full disk must not
 * stop training. Thread-safe.
 */
public final class JsonLines implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long FLUSH_EVERY_NS = 250_000_000L;
    private final Path path;
    private final String who;
    private final BufferedWriter out;
    private long lastFlushNs = System.nanoTime();
    private boolean failed;

    /**
     * @param who names the writer in its error lines, e.g. {@code node 3}
     * @throws UncheckedIOException when the file cannot be created
     */
    public JsonLines(Path path, String who) {
        this(path, who, false);
    }

    /**
     * @param append whether to add to an existing file rather than start it afresh
     * @throws UncheckedIOException when the file cannot be created
     */
    public JsonLines(Path path, String who, boolean append) {
        this.path = path;
        this.who = who;
        try {
            Path parent = path.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            out = append ? Files.newBufferedWriter(path, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND) : Files.newBufferedWriter(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(who + ": cannot write metrics to " + path + ": " + e.getMessage(), e);
        }
    }

    public Path path() {
        return path;
    }

    /** Writes {@code line} as one JSON object; {@code flush} forces it to the file at once. */
    public synchronized void write(Map<String, ?> line, boolean flush) {
        try {
            out.write(JSON.writeValueAsString(line));
            out.newLine();
            long now = System.nanoTime();
            if (flush || now - lastFlushNs > FLUSH_EVERY_NS) {
                out.flush();
                lastFlushNs = now;
            }
        } catch (IOException e) {
            if (!failed) {
                failed = true;
                System.err.println(who + ": cannot write metrics to " + path + ": " + e.getMessage());
            }
        }
    }

    @Override
    public synchronized void close() {
        try {
            out.close();
        } catch (IOException e) {
            System.err.println(who + ": cannot close metrics file " + path + ": " + e.getMessage());
        }
    }
}
