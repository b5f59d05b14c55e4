package io.ringtmp.train;

import io.ringtmp.data.Dataset;
import io.ringtmp.data.EpochOrder;
import io.ringtmp.data.TrainTest;
import io.ringtmp.nn.Activations;
import io.ringtmp.nn.ModelSpec;
import io.ringtmp.nn.Parameter;
import io.ringtmp.nn.Sequential;
import io.ringtmp.nn.SoftmaxCrossEntropy;
import io.ringtmp.nn.optim.LrSchedule;
import io.ringtmp.nn.optim.Optimizer;
import io.ringtmp.nn.optim.OptimizerConfig;
import io.ringtmp.tensor.Blas;
import io.ringtmp.tensor.Rng;
import io.ringtmp.tensor.Tensor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The single-node reference trainer: every distributed mode is checked against it.
 *
 * <p>Data order: update {@code s} (0-based) belongs to epoch {@code e = s / stepsPerEpoch} and
 * takes positions {@code [i·B, (i+1)·B)} of {@code EpochOrder(derive(seed, "data"), N)
 * .permutation(e)} with {@code i = s mod stepsPerEpoch}, where {@code stepsPerEpoch = N / B}
 * (the last partial batch is dropped). Weights come from {@code ModelSpec.build(derive(seed,
 * "model"))}. Each update is forward, mean softmax cross-entropy, backward, one optimiser step
 * at {@code schedule.lr(s)} (which zeroes the gradients).
 *
 * <pre>{@code
 * Trainer t = new Trainer(config, data);
 * t.addListener(myListener);
 * t.run();                      // to the end of config.epochs(), or config.maxSteps()
 * t.saveCheckpoint(dir);
 * }</pre>
 * Confined to the thread that calls it; listeners run on that thread.
 */
public final class Trainer {
    private final TrainConfig config;
    private final TrainTest data;
    private final Sequential model;
    private final Optimizer optimizer;
    private final LrSchedule schedule;
    private final EpochOrder order;
    private final int stepsPerEpoch;
    private final List<TrainListener> listeners = new ArrayList<>();
    private final Activations acts;
    private final Tensor x;
    private final int[] y;
    private final Tensor dLogits;
    private long step;
    private int orderEpoch = -1;
    private int[] permutation;
    private volatile boolean stopRequested;

    public Trainer(TrainConfig config, TrainTest data) {
        this.config = config;
        this.data = data;
        Dataset train = data.train();
        ModelSpec spec = config.model();
        if (spec.input() != train.featureSize()) {
            throw new IllegalArgumentException("model takes " + spec.input() + " input features but data set "
                    + train.name() + " has " + train.featureSize());
        }
        if (spec.outputSize() != train.numClasses()) {
            throw new IllegalArgumentException("model has " + spec.outputSize() + " outputs but data set "
                    + train.name() + " has " + train.numClasses() + " classes");
        }
        this.stepsPerEpoch = train.size() / config.batchSize();
        if (stepsPerEpoch == 0) {
            throw new IllegalArgumentException("batch size " + config.batchSize() + " exceeds the " + train.size()
                    + " training samples of " + train.name());
        }
        Blas.setThreads(config.threads());
        this.model = spec.build(Rng.derive(config.seed(), "model"));
        // Time (or read from the cache) every product shape of a step now, before training runs.
        model.prepareKernels(config.batchSize());
        this.optimizer = Optimizer.create(config.optimizer(), model.parameters());
        // The schedule spans the configured epochs; --max-steps only stops early, it does not reshape the schedule.
        this.schedule = LrSchedule.parse(config.schedule(), config.lr(), (long) config.epochs() * stepsPerEpoch);
        this.order = new EpochOrder(Rng.derive(config.seed(), "data"), train.size());
        int b = config.batchSize();
        this.acts = model.newActivations(b);
        this.x = Tensor.zeros(b, train.featureSize());
        this.y = new int[b];
        this.dLogits = Tensor.zeros(b, model.outputSize());
    }

    public void addListener(TrainListener l) {
        listeners.add(l);
    }

    public Sequential model() {
        return model;
    }

    public Optimizer optimizer() {
        return optimizer;
    }

    public TrainConfig config() {
        return config;
    }

    /** Updates done so far. */
    public long step() {
        return step;
    }

    public int stepsPerEpoch() {
        return stepsPerEpoch;
    }

    /** Updates the whole run will make. */
    public long totalSteps() {
        long all = (long) config.epochs() * stepsPerEpoch;
        return config.maxSteps() > 0 ? Math.min(all, config.maxSteps()) : all;
    }

    /** Asks {@link #run} to stop after the current update (callable from any thread, e.g. a signal handler). */
    public void requestStop() {
        stopRequested = true;
    }

    /**
     * Trains from the current step to the end; evaluates on the test set and notifies listeners
     * after each epoch. Returns the last epoch's evaluation (or of the partial epoch when stopped).
     */
    public Evaluation run() {
        long end = totalSteps();
        Evaluation last = null;
        while (step < end && !stopRequested) {
            int epoch = (int) (step / stepsPerEpoch);
            long epochEnd = Math.min(end, (long) (epoch + 1) * stepsPerEpoch);
            double lossSum = 0;
            int batches = 0;
            long t0 = System.nanoTime();
            while (step < epochEnd && !stopRequested) {
                lossSum += trainStep();
                batches++;
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            last = evaluate(data.test());
            TrainListener.EpochEvent ev = new TrainListener.EpochEvent(epoch + 1, step, lossSum / Math.max(1, batches),
                    last.loss(), last.accuracy(), batches * (double) config.batchSize() / seconds, seconds);
            for (TrainListener l : listeners) {
                l.onEpoch(ev);
            }
        }
        return last == null ? evaluate(data.test()) : last;
    }

    /** One update on the next batch; returns its mean loss. */
    public double trainStep() {
        long t0 = System.nanoTime();
        int epoch = (int) (step / stepsPerEpoch);
        int i = (int) (step % stepsPerEpoch);
        if (epoch != orderEpoch) {
            permutation = order.permutation(epoch);
            orderEpoch = epoch;
        }
        int b = config.batchSize();
        data.train().gatherInto(permutation, i * b, b, x, y);
        Tensor logits = model.forward(x, acts, true);
        double loss = SoftmaxCrossEntropy.lossAndGradInto(logits, y, 0, 1f / b, dLogits) / b;
        // The update is fused into the backward pass: each block of a weight gradient is applied
        // (and zeroed) as soon as its product has written it; bit for bit optimizer.step().
        Optimizer.Step update = optimizer.begin(schedule.lr(step));
        model.backward(dLogits, acts, false, update);
        update.finish();
        step++;
        TrainListener.StepEvent ev = new TrainListener.StepEvent(step, epoch + 1, loss, b, System.nanoTime() - t0);
        for (TrainListener l : listeners) {
            l.onStep(ev);
        }
        return loss;
    }

    /** Loss and accuracy of {@code model} on {@code set}, in batches, dropout off. */
    public static Evaluation evaluate(Sequential model, Dataset set, int batch) {
        Activations a = model.newActivations(batch);
        Tensor xb = Tensor.zeros(batch, set.featureSize());
        int[] yb = new int[batch];
        int[] idx = new int[set.size()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        double loss = 0;
        long correct = 0;
        for (int from = 0; from < set.size(); from += batch) {
            int n = Math.min(batch, set.size() - from);
            Tensor xv = xb.rows(0, n);
            set.gatherInto(idx, from, n, xv, yb);
            Tensor logits = model.forward(xv, a, false);
            loss += SoftmaxCrossEntropy.lossAndGradInto(logits, yb, 0, 1f, null);
            correct += SoftmaxCrossEntropy.countCorrect(logits, yb, 0);
        }
        return new Evaluation(loss / Math.max(1, set.size()), set.size() == 0 ? 0 : (double) correct / set.size(), set.size());
    }

    public Evaluation evaluate(Dataset set) {
        return evaluate(model, set, Math.max(config.batchSize(), 500));
    }

    /** Mean loss, accuracy and sample count of an evaluation. */
    public record Evaluation(double loss, double accuracy, int samples) {
    }

    // ---- checkpoints ----

    /** Writes the model, the optimiser state and the step to {@code dir/checkpoint.rtck}, atomically. */
    public Path saveCheckpoint(Path dir) {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("kind", "single-node");
        h.put("model", config.model().toJson());
        h.put("step", step);
        h.put("optimizerSteps", optimizer.steps());
        h.put("seed", config.seed());
        h.put("batchSize", config.batchSize());
        h.put("optimizer", config.optimizer().kind().name());
        h.put("provenance", Provenance.current());
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (Parameter p : model.parameters()) {
            t.put(p.name(), p.value());
        }
        List<Tensor> state = optimizer.state();
        for (int i = 0; i < state.size(); i++) {
            t.put("optimizer." + i, state.get(i));
        }
        Path file = dir.resolve(Checkpoint.FILE_NAME);
        Checkpoint.write(file, new Checkpoint(h, t));
        return file;
    }

    /**
     * Restores weights, optimiser state and step from {@code dir/checkpoint.rtck}. The model and
     * optimiser must match the config's (named in the error otherwise).
     */
    public void restoreCheckpoint(Path dir) {
        Checkpoint cp = Checkpoint.read(dir.resolve(Checkpoint.FILE_NAME));
        String savedModel = String.valueOf(cp.header().get("model"));
        if (!ModelSpec.fromJson(savedModel, "checkpoint").equals(config.model())) {
            throw new CheckpointException("checkpoint in " + dir + " holds another model: " + savedModel);
        }
        if (!config.optimizer().kind().name().equals(cp.header().get("optimizer"))) {
            throw new CheckpointException("checkpoint in " + dir + " was made with optimizer " + cp.header().get("optimizer")
                    + ", this run uses " + config.optimizer().kind().name());
        }
        for (Parameter p : model.parameters()) {
            cp.restoreInto(p.name(), p.value());
        }
        List<Tensor> state = optimizer.state();
        for (int i = 0; i < state.size(); i++) {
            cp.restoreInto("optimizer." + i, state.get(i));
        }
        step = ((Number) cp.header().get("step")).longValue();
        optimizer.restoreSteps(((Number) cp.header().get("optimizerSteps")).longValue());
    }
}
