package io.ringtmp.train;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a run's metrics as JSON lines: one {@code "event":"start"} line with the config and
 * provenance, one {@code "step"} line per update, one {@code "epoch"} line per epoch, one
 * {@code "end"} line. Field meanings are in docs/metrics.md. Flushed at each epoch and at close.
 */
public final class MetricsFile implements TrainListener, AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path path;
    private final BufferedWriter out;

    public MetricsFile(Path path, Map<String, Object> start) {
        this.path = path;
        try {
            Path parent = path.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            out = Files.newBufferedWriter(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write metrics to " + path + ": " + e.getMessage(), e);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", "start");
        m.putAll(start);
        m.put("provenance", Provenance.current());
        write(m, true);
    }

    @Override
    public void onStep(StepEvent e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", "step");
        m.put("step", e.step());
        m.put("epoch", e.epoch());
        m.put("loss", e.loss());
        m.put("samples", e.samples());
        m.put("computeMs", e.computeNs() / 1e6);
        write(m, false);
    }

    @Override
    public void onEpoch(EpochEvent e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", "epoch");
        m.put("epoch", e.epoch());
        m.put("step", e.step());
        m.put("trainLoss", e.trainLoss());
        m.put("testLoss", e.testLoss());
        m.put("testAccuracy", e.testAccuracy());
        m.put("samplesPerSec", e.samplesPerSec());
        m.put("seconds", e.seconds());
        write(m, true);
    }

    /** Writes the closing line and closes the file. */
    public void end(Map<String, Object> summary) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", "end");
        m.putAll(summary);
        write(m, true);
    }

    private void write(Map<String, Object> m, boolean flush) {
        try {
            out.write(JSON.writeValueAsString(m));
            out.newLine();
            if (flush) {
                out.flush();
            }
        } catch (IOException e) {
            // A full disk must not kill training; say so once on stderr.
            System.err.println("ringtmp: cannot write metrics to " + path + ": " + e.getMessage());
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            System.err.println("ringtmp: cannot close metrics file " + path + ": " + e.getMessage());
        }
    }
}
