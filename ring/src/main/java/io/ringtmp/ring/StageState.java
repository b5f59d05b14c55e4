package io.ringtmp.ring;

import io.ringtmp.nn.Parameter;
import io.ringtmp.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A copy of one stage's training state at a step: the weights forwards use now, the optimiser's
 * state and step count, by name, with the stage's layer range. What a buddy replica carries,
 * and what a member keeps of its own stage to roll back to. A stage made of several ranges
 * (after a takeover) restores from one state per range ({@link #restore}): names are the whole
 * model's, so they match whatever the cut.
 *
 * @param owner          the node whose stage it is
 * @param step           mini-batches applied
 * @param from           first layer
 * @param to             one past the last layer
 * @param optimizerSteps the optimiser's update count (Adam's bias correction)
 * @param tensors        weights by parameter name; optimiser state as {@code m1.NAME}, {@code m2.NAME}
 */
record StageState(int owner, long step, int from, int to, long optimizerSteps, Map<String, Tensor> tensors) {
    StageState {
        tensors = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    /**
     * Copies {@code stage}'s state now: its current weights (async's newest version, not a
     * stash) and its optimiser state. Call between updates, when the gradients are consumed.
     */
    static StageState of(int owner, long step, int from, int to, Stage stage) {
        return of(owner, step, from, to, stage, Map.of());
    }

    /**
     * As {@link #of(int, long, int, int, Stage)}, copying into {@code reuse}'s tensors where one
     * of the same name and shape is there (an old snapshot no one reads any more): a stage's
     * state is large (W2B's: 150 MB), and a fresh copy per snapshot keeps the collector busy.
     */
    static StageState of(int owner, long step, int from, int to, Stage stage, Map<String, Tensor> reuse) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        List<Parameter> params = stage.layers().parameters();
        List<Tensor> weights = stage.currentWeights();
        for (int i = 0; i < params.size(); i++) {
            t.put(params.get(i).name(), copy(weights.get(i), reuse.get(params.get(i).name())));
        }
        List<Tensor> state = stage.optimizer().state();
        int perParam = params.isEmpty() ? 0 : state.size() / params.size();
        for (int k = 0; k < perParam; k++) {
            for (int i = 0; i < params.size(); i++) {
                String name = "m" + (k + 1) + "." + params.get(i).name();
                t.put(name, copy(state.get(k * params.size() + i), reuse.get(name)));
            }
        }
        return new StageState(owner, step, from, to, stage.optimizer().steps(), t);
    }

    private static Tensor copy(Tensor src, Tensor into) {
        if (into == null || !into.sameShape(src)) {
            return src.copy();
        }
        into.copyFrom(src);
        return into;
    }

    /** Float count of every tensor. */
    long floats() {
        long n = 0;
        for (Tensor x : tensors.values()) {
            n += x.size();
        }
        return n;
    }

    /**
     * Loads {@code parts} (together covering the stage's layers, all of one step) into a fresh
     * {@code stage}: its parameters and optimiser state.
     *
     * @throws IllegalStateException when a part lacks a tensor the stage has, or a shape differs
     */
    static void restore(Stage stage, List<StageState> parts) {
        List<Parameter> params = stage.layers().parameters();
        List<Tensor> state = stage.optimizer().state();
        int perParam = params.isEmpty() ? 0 : state.size() / params.size();
        for (int i = 0; i < params.size(); i++) {
            String name = params.get(i).name();
            params.get(i).value().copyFrom(find(parts, name));
            for (int k = 0; k < perParam; k++) {
                state.get(k * params.size() + i).copyFrom(find(parts, "m" + (k + 1) + "." + name));
            }
        }
        stage.optimizer().restoreSteps(parts.stream().mapToLong(StageState::optimizerSteps).max().orElse(0));
    }

    private static Tensor find(List<StageState> parts, String name) {
        for (StageState p : parts) {
            Tensor t = p.tensors().get(name);
            if (t != null) {
                return t;
            }
        }
        throw new IllegalStateException("no replica or snapshot holds " + name + " (parts: " + parts.stream()
                .map(p -> "node " + p.owner() + " [" + p.from() + "," + p.to() + ") step " + p.step()).toList() + ")");
    }
}
