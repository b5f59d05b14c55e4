package io.ringtmp.ring;

import io.ringtmp.nn.ModelSpec;
import io.ringtmp.ring.internal.StageCheckpoints;
import io.ringtmp.tensor.Tensor;
import io.ringtmp.train.Checkpoint;
import io.ringtmp.train.CheckpointException;
import io.ringtmp.train.TrainConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * What a repair falls back to when the replicas cannot make it (two adjacent nodes died before a
 * replica moved on, or no replica step is common to the members): the stages' periodic
 * checkpoints. Each member reads the layers it runs next from the checkpoints of one step, its
 * own and the dead nodes' alike, so the checkpoint directory must hold every node's stage
 * directory: one machine, or storage the nodes share. A step counts when the checkpoints of that
 * step together hold every layer of the range.
 */
final class CheckpointFallback {
    private final Path dir;
    private final int nodes;
    private final TrainConfig config;
    private final java.util.function.Consumer<String> say;

    /**
     * @param dir    the run's checkpoint directory
     * @param nodes  how many nodes the spec has (each may have written a stage directory)
     * @param config the run's configuration (its model is checked against each file's)
     * @param say    where a line about an unreadable file goes
     */
    CheckpointFallback(Path dir, int nodes, TrainConfig config, java.util.function.Consumer<String> say) {
        this.dir = dir;
        this.nodes = nodes;
        this.config = config;
        this.say = say;
    }

    Path dir() {
        return dir;
    }

    /** The steps at which the checkpoints hold every layer of [from, to), oldest first. */
    List<Long> steps(int from, int to) {
        Map<Long, List<StageCheckpoints.Saved>> byStep = saved();
        List<Long> out = new ArrayList<>();
        byStep.forEach((step, files) -> {
            if (covers(files, from, to)) {
                out.add(step);
            }
        });
        return out;
    }

    /**
     * The states of layers [from, to) at {@code step}, one per checkpoint file that holds some of
     * them, the newest file first (where a replay wrote a step again, its newer file wins).
     *
     * @throws CheckpointException when the files of that step no longer hold the range
     */
    List<StageState> parts(long step, int from, int to) {
        List<StageCheckpoints.Saved> files = new ArrayList<>(saved().getOrDefault(step, List.of()));
        if (!covers(files, from, to)) {
            throw new CheckpointException("the checkpoints of step " + step + " in " + dir + " no longer hold layers [" + from + ", " + to + ")");
        }
        files.sort(Comparator.comparing(CheckpointFallback::modified).reversed());
        List<StageState> out = new ArrayList<>();
        for (StageCheckpoints.Saved s : files) {
            if (s.from() < to && s.to() > from) {
                out.add(state(s));
            }
        }
        return out;
    }

    /** Every readable checkpoint of this run's model, by step. */
    private Map<Long, List<StageCheckpoints.Saved>> saved() {
        Map<Long, List<StageCheckpoints.Saved>> byStep = new java.util.TreeMap<>();
        for (int n = 0; n < nodes; n++) {
            for (StageCheckpoints.Saved s : StageCheckpoints.list(dir, n, say)) {
                byStep.computeIfAbsent(s.step(), k -> new ArrayList<>()).add(s);
            }
        }
        return byStep;
    }

    private static boolean covers(List<StageCheckpoints.Saved> files, int from, int to) {
        TreeSet<Integer> missing = new TreeSet<>();
        for (int l = from; l < to; l++) {
            missing.add(l);
        }
        for (StageCheckpoints.Saved s : files) {
            missing.subSet(s.from(), s.to()).clear();
        }
        return missing.isEmpty();
    }

    /** A stage checkpoint as a {@link StageState}: weights by name, optimiser state as {@code mK.NAME}. */
    private StageState state(StageCheckpoints.Saved s) {
        Checkpoint cp = Checkpoint.read(s.file());
        String model = String.valueOf(cp.header().get("model"));
        if (!ModelSpec.fromJson(model, s.file().toString()).equals(config.model())) {
            throw new CheckpointException(s.file() + " holds another model: " + model);
        }
        List<String> params = new ArrayList<>();
        List<Tensor> state = new ArrayList<>();
        cp.tensors().forEach((name, t) -> {
            if (name.startsWith("optimizer.")) {
                state.add(t);
            } else {
                params.add(name);
            }
        });
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (String name : params) {
            t.put(name, cp.tensors().get(name));
        }
        // StageCheckpoints writes the optimiser's state as optimizer.<i>, i = k * params + p: the k-th tensor of parameter p.
        for (int i = 0; i < state.size() && !params.isEmpty(); i++) {
            t.put("m" + (i / params.size() + 1) + "." + params.get(i % params.size()), cp.tensors().get("optimizer." + i));
        }
        long optimizerSteps = ((Number) cp.header().get("optimizerSteps")).longValue();
        return new StageState(((Number) cp.header().get("stage")).intValue(), s.step(), s.from(), s.to(), optimizerSteps, t);
    }

    private static java.nio.file.attribute.FileTime modified(StageCheckpoints.Saved s) {
        try {
            return Files.getLastModifiedTime(s.file());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
