package io.ringtmp.cli;

import io.ringtmp.node.TrainingOptions;
import io.ringtmp.train.TrainConfig;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The training options of {@code train} and {@code launch}, one spelling each: a picocli mixin.
 * An option left out takes the default a cluster spec gives it ({@link TrainingOptions},
 * docs/cluster-spec.md), so the same flags mean the same run on one node and on many.
 */
final class TrainingFlags {
    @Option(names = "--model", defaultValue = "mlp:784-512-512-10",
            description = "Model: a shorthand like mlp:784-512-512-10?act=relu&dropout=0.1 or a JSON file (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--data", defaultValue = "mnist",
            description = "Data: mnist (fetched if missing), a directory of IDX files, or synthetic:teacher?n=...|synthetic:blobs?... (default: ${DEFAULT-VALUE}).")
    String data;

    @Option(names = "--epochs", description = "Passes over the training set (default: 3).")
    Integer epochs;

    @Option(names = "--batch", description = "Samples per mini-batch, one update each (default: 128).")
    Integer batch;

    @Option(names = "--lr", description = "Base learning rate (default: 0.05).")
    Double lr;

    @Option(names = "--optimizer", description = "sgd, nesterov or adam (default: sgd; a parameter server under asp or ssp: nesterov).")
    String optimizer;

    @Option(names = "--momentum", description = "SGD momentum (default: 0.9).")
    Double momentum;

    @Option(names = "--weight-decay", description = "L2 weight decay (default: 0).")
    Double weightDecay;

    @Option(names = "--lr-schedule", description = "Learning-rate schedule: constant, step:EVERY:GAMMA or cosine[:MIN_FRACTION] (default: constant).")
    String lrSchedule;

    @Option(names = "--seed", description = "Run seed: weights, data order, dropout (default: 1).")
    Long seed;

    @Option(names = "--threads", description = "Compute threads (train: default all cores; launch: per node, default 1).")
    Integer threads;

    @Option(names = "--max-steps", description = "Stop after this many mini-batches (default: 0, no limit).")
    Long maxSteps;

    @Option(names = "--data-dir", description = "Where named data sets are fetched to (default: datasets).")
    Path dataDir;

    @Option(names = "--checkpoint-dir", description = "Where checkpoints go (train: after every epoch and at the end; launch: every node "
            + "its part, stage-<i>/ for the ring, server-<s>/ for ps, at the end and every --checkpoint-every mini-batches).")
    Path checkpointDir;

    @Option(names = "--resume", description = "Continue from the newest checkpoint in --checkpoint-dir.")
    boolean resume;

    /** The options given, as a spec's training options (paths made absolute: nodes may run elsewhere). */
    Map<String, String> options() {
        Map<String, String> o = new LinkedHashMap<>();
        put(o, TrainingOptions.EPOCHS, epochs);
        put(o, TrainingOptions.BATCH, batch);
        put(o, TrainingOptions.LR, lr);
        put(o, TrainingOptions.OPTIMIZER, optimizer);
        put(o, TrainingOptions.MOMENTUM, momentum);
        put(o, TrainingOptions.WEIGHT_DECAY, weightDecay);
        put(o, TrainingOptions.LR_SCHEDULE, lrSchedule);
        put(o, TrainingOptions.SEED, seed);
        put(o, TrainingOptions.THREADS, threads);
        put(o, TrainingOptions.MAX_STEPS, maxSteps);
        put(o, TrainingOptions.DATA_DIR, dataDir == null ? null : dataDir.toAbsolutePath());
        put(o, TrainingOptions.CHECKPOINT_DIR, checkpointDir == null ? null : checkpointDir.toAbsolutePath());
        if (resume) {
            if (checkpointDir == null) {
                throw new IllegalArgumentException("--resume needs --checkpoint-dir DIR");
            }
            o.put(TrainingOptions.RESUME, "true");
        }
        return o;
    }

    /** The run's training configuration on one node, {@code defaultThreads} unless --threads says otherwise. */
    TrainConfig config(int defaultThreads) {
        return TrainingOptions.config(model, options(), defaultThreads);
    }

    /** Where named data sets are. */
    Path dataDir() {
        return dataDir == null ? Path.of("datasets") : dataDir;
    }

    private static void put(Map<String, String> o, String key, Object value) {
        if (value != null) {
            o.put(key, value.toString());
        }
    }
}
