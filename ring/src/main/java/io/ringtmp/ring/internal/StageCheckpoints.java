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
import java.util.function.Consumer;

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

    /**
     * Stage {@code stageId}'s checkpoints in {@code dir}, oldest first (none when the directory is
     * absent). A file that cannot be read (torn by a crash mid-write, say) is left where it is and
     * skipped with a line to {@code say}: the resume goes on from the newest step every stage has.
     */
    public static List<Saved> list(Path dir, int stageId, Consumer<String> say) {
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
                say.accept("stage " + stageId + ": skipping " + f + ", which cannot be read (" + e.getMessage()
                        + "); an older checkpoint is used");
            }
        }
        out.sort(Comparator.comparingLong(Saved::step));
        return out;
    }

    /**
     * Restores the stage's weights and optimiser state from its checkpoint of {@code step}.
     *
     * @throws CheckpointException naming the field when the file is of another run: another model,
     *                             layer range, optimiser, seed, batch, schedule or node count
     */
    public static void restore(Path dir, int stageId, int stages, long step, Stage stage, TrainConfig config, RingOptions opts,
                               int from, int to) {
        Path f = file(dir, stageId, step);
        Checkpoint cp = Checkpoint.read(f);
        String savedModel = String.valueOf(cp.header().get("model"));
        if (!ModelSpec.fromJson(savedModel, f.toString()).equals(config.model())) {
            throw new CheckpointException(f + " holds another model: " + savedModel);
        }
        same(f, cp, "stages", stages, "node count");
        same(f, cp, "seed", config.seed(), "seed");
        same(f, cp, "batchSize", config.batchSize(), "batch");
        same(f, cp, "schedule", opts.schedule().id(), "schedule");
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

    /** The header's {@code key} must be {@code expected}: a resume goes on with the run that saved it, not another. */
    private static void same(Path f, Checkpoint cp, String key, Object expected, String what) {
        Object saved = cp.header().get(key);
        boolean equal = saved instanceof Number n && expected instanceof Number e ? n.longValue() == e.longValue()
                : String.valueOf(saved).equals(String.valueOf(expected));
        if (!equal) {
            throw new CheckpointException(f + " was saved by a run with " + what + " " + saved + ", this run has " + what + " " + expected
                    + ": a resume needs the run's own checkpoints (resume with the same settings, or start afresh with another checkpoint directory)");
        }
    }
}
