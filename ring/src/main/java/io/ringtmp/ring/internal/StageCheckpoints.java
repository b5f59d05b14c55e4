package io.ringtmp.ring.internal;

import io.ringtmp.nn.ModelSpec;
import io.ringtmp.nn.Parameter;
import io.ringtmp.ring.RingOptions;
import io.ringtmp.ring.Stage;
import io.ringtmp.tensor.Tensor;
import io.ringtmp.train.Checkpoint;
import io.ringtmp.train.CheckpointException;
import io.ringtmp.train.Provenance;
import io.ringtmp.train.StepCheckpoints;
import io.ringtmp.train.TrainConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-stage checkpoints of a ring run: {@code DIR/stage-<k>/step-<s>.rtck}, each the stage's
 * weights, optimiser state and step, with its layer range in the header. A stage keeps its
 * two newest: a save goes round the ring one node after another, so when node k has written
 * step s, every node holds s or the one before it, and a resume finds a step all stages share.
 */
public final class StageCheckpoints {

    /** A saved stage: its step and layer range. */
    public record Saved(long step, int from, int to, Path file) {
    }

    private StageCheckpoints() {
    }

    public static Path file(Path dir, int stage, long step) {
        return StepCheckpoints.file(dir.resolve("stage-" + stage), step);
    }

    public static void save(Path dir, int stageId, int stages, long step, Stage stage, TrainConfig config, RingOptions opts,
                            int from, int to) {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("kind", "ring-stage");
        h.put("stage", stageId);
        h.put("stages", stages);
        h.put("from", from);
        h.put("to", to);
        h.put("step", step);
        h.put("optimizerSteps", stage.optimizer().steps());
        h.put("model", config.model().toJson());
        h.put("seed", config.seed());
        h.put("batchSize", config.batchSize());
        h.put("optimizer", config.optimizer().kind().name());
        h.put("schedule", opts.schedule().id());
        h.put("microbatches", opts.microbatches());
        h.put("provenance", Provenance.current());
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (Parameter p : stage.layers().parameters()) {
            t.put(p.name(), p.value());
        }
        List<Tensor> state = stage.optimizer().state();
        for (int i = 0; i < state.size(); i++) {
            t.put("optimizer." + i, state.get(i));
        }
        Checkpoint.write(file(dir, stageId, step), new Checkpoint(h, t));
        // By name: reading every saved file back to prune them would read the stage's weights twice per save.
        StepCheckpoints.keepNewest(dir.resolve("stage-" + stageId), 2);
    }

    /** Stage {@code stageId}'s checkpoints in {@code dir}, oldest first (none when the directory is absent). */
    public static List<Saved> list(Path dir, int stageId) {
        if (dir == null) {
            return List.of();
        }
        Path d = dir.resolve("stage-" + stageId);
        List<Saved> out = new ArrayList<>();
        for (long step : StepCheckpoints.steps(d)) {
            Path f = StepCheckpoints.file(d, step);
            try {
                Checkpoint cp = Checkpoint.read(f);
                out.add(new Saved(((Number) cp.header().get("step")).longValue(), ((Number) cp.header().get("from")).intValue(),
                        ((Number) cp.header().get("to")).intValue(), f));
            } catch (CheckpointException e) {
                // A torn or foreign file is not a resumable step; the others may be.
                System.out.println("stage " + stageId + ": skipping " + f + ": " + e.getMessage());
            }
        }
        out.sort(Comparator.comparingLong(Saved::step));
        return out;
    }

    /** Restores the stage's weights and optimiser state from its checkpoint of {@code step}. */
    public static void restore(Path dir, int stageId, long step, Stage stage, TrainConfig config, int from, int to) {
        Path f = file(dir, stageId, step);
        Checkpoint cp = Checkpoint.read(f);
        String savedModel = String.valueOf(cp.header().get("model"));
        if (!ModelSpec.fromJson(savedModel, f.toString()).equals(config.model())) {
            throw new CheckpointException(f + " holds another model: " + savedModel);
        }
        if (((Number) cp.header().get("from")).intValue() != from || ((Number) cp.header().get("to")).intValue() != to) {
            throw new CheckpointException(f + " holds layers [" + cp.header().get("from") + ", " + cp.header().get("to")
                    + "), this stage has [" + from + ", " + to + ")");
        }
        if (!config.optimizer().kind().name().equals(cp.header().get("optimizer"))) {
            throw new CheckpointException(f + " was made with optimizer " + cp.header().get("optimizer") + ", this run uses "
                    + config.optimizer().kind().name());
        }
        for (Parameter p : stage.layers().parameters()) {
            cp.restoreInto(p.name(), p.value());
        }
        List<Tensor> state = stage.optimizer().state();
        for (int i = 0; i < state.size(); i++) {
            cp.restoreInto("optimizer." + i, state.get(i));
        }
        stage.optimizer().restoreSteps(((Number) cp.header().get("optimizerSteps")).longValue());
    }
}
