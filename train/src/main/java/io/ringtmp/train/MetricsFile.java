package io.ringtmp.train;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a run's metrics as JSON lines: one {@code "event":"start"} line with the config and
 * provenance, one {@code "step"} line per update, one {@code "epoch"} line per epoch, one
 * {@code "end"} line. Field meanings are in docs/metrics.md. Flushed at each epoch and at close ({@link JsonLines}).
 */
public final class MetricsFile implements TrainListener, AutoCloseable {
    private final JsonLines out;

    public MetricsFile(Path path, Map<String, Object> start) {
        out = new JsonLines(path, "ringtmp");
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
        out.write(m, flush);
    }

    @Override
    public void close() {
        out.close();
    }
}
