package io.ringtmp.cli;

import io.ringtmp.data.DataSources;
import io.ringtmp.data.TrainTest;
import io.ringtmp.nn.ModelSpec;
import io.ringtmp.nn.optim.OptimizerConfig;
import io.ringtmp.tensor.Blas;
import io.ringtmp.train.Checkpoint;
import io.ringtmp.train.MetricsFile;
import io.ringtmp.train.TrainConfig;
import io.ringtmp.train.TrainListener;
import io.ringtmp.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code ringtmp train}: trains a model; {@code --mode local} is the single-node reference trainer. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train a model. --mode local runs the single-node reference trainer.")
public final class TrainCommand implements Callable<Integer> {
    /** Where training runs. */
    enum Mode { local }

    @Option(names = "--mode", defaultValue = "local", description = "Where to train: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Mode mode;

    @Option(names = "--model", defaultValue = "mlp:784-512-512-10",
            description = "Model: a shorthand like mlp:784-512-512-10?act=relu&dropout=0.1 or a JSON file (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--data", defaultValue = "mnist",
            description = "Data: mnist (fetched if missing), fashion-mnist style DIR of IDX files, or synthetic:teacher?n=...|synthetic:blobs?... (default: ${DEFAULT-VALUE}).")
    String data;

    @Option(names = "--epochs", defaultValue = "3", description = "Passes over the training set (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch", defaultValue = "128", description = "Samples per update (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--lr", defaultValue = "0.05", description = "Base learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--optimizer", defaultValue = "sgd", description = "sgd, nesterov or adam (default: ${DEFAULT-VALUE}).")
    String optimizer;

    @Option(names = "--momentum", defaultValue = "0.9", description = "SGD momentum (default: ${DEFAULT-VALUE}).")
    double momentum;

    @Option(names = "--weight-decay", defaultValue = "0", description = "L2 weight decay (default: ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--schedule", defaultValue = "constant",
            description = "Learning-rate schedule: constant, step:EVERY:GAMMA or cosine[:MIN_FRACTION] (default: ${DEFAULT-VALUE}).")
    String schedule;

    @Option(names = "--seed", defaultValue = "1", description = "Run seed: weights, data order, dropout (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--threads", description = "Compute threads (default: all cores).")
    Integer threads;

    @Option(names = "--max-steps", defaultValue = "0", description = "Stop after this many updates (0: no limit).")
    long maxSteps;

    @Option(names = "--metrics", description = "Write metrics as JSON lines to this file.")
    Path metrics;

    @Option(names = "--checkpoint", description = "Directory for checkpoints (written after every epoch and at the end).")
    Path checkpoint;

    @Option(names = "--resume", description = "Continue from the checkpoint in --checkpoint.")
    boolean resume;

    @Option(names = "--data-dir", defaultValue = "datasets",
            description = "Where named data sets are fetched to (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Override
    public Integer call() {
        PrintStream out = System.out;
        if (resume && checkpoint == null) {
            throw new IllegalArgumentException("--resume needs --checkpoint DIR");
        }
        int t = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        ModelSpec spec = ModelSpec.parse(model);
        TrainConfig config = new TrainConfig(spec, epochs, batch, lr, OptimizerConfig.parse(optimizer, momentum, weightDecay),
                schedule, seed, t, maxSteps);
        TrainTest sets = DataSources.open(data, dataDir, msg -> out.println(msg));
        Trainer trainer = new Trainer(config, sets);
        out.println(Blas.describe());
        out.printf(Locale.ROOT, "model %s: %,d parameters; data %s: %,d train, %,d test; %d updates of %d%n",
                model, trainer.model().parameterCount(), data, sets.train().size(), sets.test().size(),
                trainer.totalSteps(), batch);
        if (resume) {
            if (!Files.exists(checkpoint.resolve(Checkpoint.FILE_NAME))) {
                throw new IllegalArgumentException("--resume: no checkpoint in " + checkpoint);
            }
            trainer.restoreCheckpoint(checkpoint);
            out.printf("resumed from %s at update %d%n", checkpoint, trainer.step());
        }
        Map<String, Object> start = new LinkedHashMap<>();
        start.put("mode", mode.name());
        start.put("config", config);
        start.put("data", data);
        MetricsFile mf = metrics == null ? null : new MetricsFile(metrics, start);
        if (mf != null) {
            trainer.addListener(mf);
        }
        if (checkpoint != null) {
            trainer.addListener(new TrainListener() {
                @Override
                public void onEpoch(EpochEvent e) {
                    trainer.saveCheckpoint(checkpoint);
                }
            });
        }
        Thread shutdown = new Thread(trainer::requestStop, "ringtmp-stop");
        Runtime.getRuntime().addShutdownHook(shutdown);
        Trainer.Evaluation result;
        try (ProgressListener progress = new ProgressListener(out, trainer.totalSteps(), trainer.step())) {
            trainer.addListener(progress);
            result = trainer.run();
        }
        if (checkpoint != null) {
            out.println("checkpoint: " + trainer.saveCheckpoint(checkpoint));
        }
        out.printf(Locale.ROOT, "final test accuracy %.4f (loss %.4f) after %d updates%n",
                result.accuracy(), result.loss(), trainer.step());
        if (mf != null) {
            mf.end(Map.of("testAccuracy", result.accuracy(), "testLoss", result.loss(), "steps", trainer.step()));
            mf.close();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdown);
        } catch (IllegalStateException ignored) {
            // Already shutting down.
        }
        return 0;
    }
}
