package io.ringtmp.train;

import io.ringtmp.data.Synthetic;
import io.ringtmp.data.TrainTest;
import io.ringtmp.nn.ModelSpec;
import io.ringtmp.nn.Parameter;
import io.ringtmp.nn.optim.OptimizerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerTest {
    private static final TrainTest BLOBS = Synthetic.blobsSplit(3, 2000, 400, 20, 4, 1.0);

    private static TrainConfig config(String model, String optimizer) {
        return new TrainConfig(ModelSpec.parse(model), 2, 32, 0.05, OptimizerConfig.parse(optimizer, 0.9, 1e-4),
                "cosine", 11, 1, 0);
    }

    private static void assertSameWeights(Trainer a, Trainer b) {
        List<Parameter> pa = a.model().parameters(), pb = b.model().parameters();
        for (int i = 0; i < pa.size(); i++) {
            assertEquals(0f, pa.get(i).value().maxAbsDiff(pb.get(i).value()), pa.get(i).name());
        }
    }

    @Test
    void sameConfig_sameWeights() {
        Trainer a = new Trainer(config("mlp:20-16-4?dropout=0.2", "adam").withMaxSteps(30), BLOBS);
        Trainer b = new Trainer(config("mlp:20-16-4?dropout=0.2", "adam").withMaxSteps(30), BLOBS);
        a.run();
        b.run();
        assertSameWeights(a, b);
    }

    @Test
    void run_learnsBlobs_andReportsEveryEpoch() {
        Trainer t = new Trainer(config("mlp:20-32-4", "sgd"), BLOBS);
        List<TrainListener.EpochEvent> epochs = new ArrayList<>();
        List<Long> steps = new ArrayList<>();
        t.addListener(new TrainListener() {
            @Override
            public void onStep(StepEvent e) {
                steps.add(e.step());
            }

            @Override
            public void onEpoch(EpochEvent e) {
                epochs.add(e);
            }
        });
        Trainer.Evaluation ev = t.run();
        assertEquals(2, epochs.size());
        assertEquals(2 * (2000 / 32), steps.size());
        assertTrue(ev.accuracy() > 0.9, "accuracy " + ev.accuracy());
        assertTrue(epochs.get(1).trainLoss() < epochs.get(0).trainLoss());
    }

    @Test
    void checkpointThenResume_givesTheSameWeightsAsAnUninterruptedRun(@TempDir Path dir) {
        TrainConfig cfg = config("mlp:20-16-4", "nesterov");
        Trainer whole = new Trainer(cfg.withMaxSteps(80), BLOBS);
        whole.run();

        Trainer first = new Trainer(cfg.withMaxSteps(50), BLOBS);
        first.run();
        first.saveCheckpoint(dir);
        Trainer second = new Trainer(cfg.withMaxSteps(80), BLOBS);
        second.restoreCheckpoint(dir);
        assertEquals(50, second.step());
        second.run();
        assertSameWeights(whole, second);
    }

    @Test
    void checkpoint_adamState_roundTrips(@TempDir Path dir) {
        TrainConfig cfg = config("mlp:20-8-4", "adam");
        Trainer whole = new Trainer(cfg.withMaxSteps(40), BLOBS);
        whole.run();
        Trainer first = new Trainer(cfg.withMaxSteps(25), BLOBS);
        first.run();
        first.saveCheckpoint(dir);
        Trainer second = new Trainer(cfg.withMaxSteps(40), BLOBS);
        second.restoreCheckpoint(dir);
        second.run();
        assertSameWeights(whole, second);
    }

    @Test
    void corruptCheckpoint_isRefusedNamingTheFile(@TempDir Path dir) throws IOException {
        Trainer t = new Trainer(config("mlp:20-8-4", "sgd").withMaxSteps(5), BLOBS);
        t.run();
        Path file = t.saveCheckpoint(dir);
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x40;
        Files.write(file, bytes);
        CheckpointException e = assertThrows(CheckpointException.class, () -> t.restoreCheckpoint(dir));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("corrupt"), e.getMessage());

        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        e = assertThrows(CheckpointException.class, () -> t.restoreCheckpoint(dir));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void checkpointOfAnotherModel_isRefused(@TempDir Path dir) {
        Trainer t = new Trainer(config("mlp:20-8-4", "sgd").withMaxSteps(5), BLOBS);
        t.run();
        t.saveCheckpoint(dir);
        Trainer other = new Trainer(config("mlp:20-9-4", "sgd"), BLOBS);
        CheckpointException e = assertThrows(CheckpointException.class, () -> other.restoreCheckpoint(dir));
        assertTrue(e.getMessage().contains("another model"), e.getMessage());
    }

    @Test
    void modelThatDoesNotFitTheData_isRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Trainer(config("mlp:784-8-4", "sgd"), BLOBS));
        assertTrue(e.getMessage().contains("784") && e.getMessage().contains("20"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Trainer(config("mlp:20-8-10", "sgd"), BLOBS));
        assertTrue(e.getMessage().contains("10 outputs") && e.getMessage().contains("4 classes"), e.getMessage());
    }

    @Test
    void checkpointWrite_isAtomic_noTempFilesLeft(@TempDir Path dir) throws IOException {
        Trainer t = new Trainer(config("mlp:20-8-4", "sgd").withMaxSteps(3), BLOBS);
        t.run();
        t.saveCheckpoint(dir);
        t.saveCheckpoint(dir);
        try (var files = Files.list(dir)) {
            assertEquals(List.of(Checkpoint.FILE_NAME), files.map(p -> p.getFileName().toString()).toList());
        }
    }
}
