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
import picocli.CommandLine;
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

    @CommandLine.Mixin
    TrainingFlags training;

    @Option(names = "--metrics", description = "Write metrics as JSON lines to this file.")
    Path metrics;

    @Override
    public Integer call() {
        PrintStream out = System.out;
        int threads = Runtime.getRuntime().availableProcessors();
        TrainConfig config = training.config(threads);
        Path checkpoint = training.checkpointDir;
        boolean resume = training.resume;
        String model = training.model;
        String data = training.data;
        int batch = config.batchSize();
        TrainTest sets = DataSources.open(data, training.dataDir(), msg -> out.println(msg));
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
