package io.ringtmp.ps.internal;

import io.ringtmp.nn.ModelSpec;
import io.ringtmp.nn.optim.LrSchedule;
import io.ringtmp.nn.optim.OptimizerConfig;
import io.ringtmp.ps.Consistency;
import io.ringtmp.ps.KeyRanges;
import io.ringtmp.ps.PsOptions;
import io.ringtmp.ps.ServerShard;
import io.ringtmp.tensor.Rng;
import io.ringtmp.tensor.Tensor;
import io.ringtmp.train.CheckpointException;
import io.ringtmp.train.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The servers' checkpoint files, the resume step the workers choose and the message that carries the servers' steps. */
class ShardCheckpointsTest {
    private static final ModelSpec MODEL = ModelSpec.parse("mlp:8-6-3");
    private static final TrainConfig CONFIG = new TrainConfig(MODEL, 2, 12, 0.05, OptimizerConfig.sgd(0.9, false, 0), "constant",
            5, 1, 0);
    private static final PsOptions TWO_SERVERS = new PsOptions(2, 2, Consistency.BSP, 0, 10);

    private static KeyRanges ranges(PsOptions o) {
        return new KeyRanges(KeyRanges.parameterSizes(MODEL), o.servers(), o.chunkFloats());
    }

    /** Server {@code server}'s shard after {@code steps} bsp steps of 2 workers with seeded gradients. */
    private static ServerShard trained(KeyRanges r, int server, int steps) {
        ServerShard sh = new ServerShard(r, server, r.initialValues(MODEL, 5, server), CONFIG.optimizer(), Consistency.BSP, 2);
        Rng rng = new Rng(17);
        LrSchedule lr = LrSchedule.parse("constant", 0.05, 1);
        for (int step = 0; step < steps; step++) {
            for (int w = 0; w < 2; w++) {
                for (KeyRanges.Chunk c : r.chunks(server)) {
                    Tensor g = Tensor.zeros(c.size());
                    for (int i = 0; i < c.size(); i++) {
                        g.set(i, (float) rng.nextGaussian());
                    }
                    sh.accept(w, step, c.index(), g, lr);
                }
            }
        }
        return sh;
    }

    private static List<String> names(Path d) throws IOException {
        try (var s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void commonStep_isTheNewestStepInEveryServersList() {
        Path dir = Path.of("ckpt");
        assertEquals(8, ShardCheckpoints.commonStep(dir, List.of(List.of(8L, 12L), List.of(8L))));
        assertEquals(12, ShardCheckpoints.commonStep(dir, List.of(List.of(8L, 12L), List.of(8L, 12L))));
        assertEquals(8, ShardCheckpoints.commonStep(dir, List.of(List.of(4L, 8L), List.of(8L, 12L), List.of(8L, 12L, 16L))));
        assertEquals(12, ShardCheckpoints.commonStep(dir, List.of(List.of(4L, 8L, 12L))), "one server: its newest");
    }

    @Test
    void commonStep_withoutOne_namesTheDirectoryAndEachServersSteps() {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> ShardCheckpoints.commonStep(Path.of("ckpt"), List.of(List.of(16L, 20L), List.of())));
        assertEquals("resume: no step at which every server saved its shard in ckpt (saved steps: server 0: [16, 20]; server 1: [])",
                e.getMessage());
        e = assertThrows(CheckpointException.class,
                () -> ShardCheckpoints.commonStep(Path.of("ckpt"), List.of(List.of(4L, 8L), List.of(12L, 16L))));
        assertTrue(e.getMessage().contains("server 0: [4, 8]; server 1: [12, 16]"), e.getMessage());
    }

    @Test
    void save_keepsTheTwoNewestUnderBspAndThreeUnderAsp(@TempDir Path dir) throws IOException {
        KeyRanges r = ranges(TWO_SERVERS);
        ServerShard sh = trained(r, 1, 1);
        Map<String, Object> id = ShardCheckpoints.identity(CONFIG, TWO_SERVERS, r, 1);
        for (long step : new long[]{4, 8, 12, 16}) {
            ShardCheckpoints.save(dir, 1, step, sh, id, 0, ShardCheckpoints.keep(Consistency.BSP));
        }
        assertEquals(List.of("step-000000012.rtck", "step-000000016.rtck"), names(dir.resolve("server-1")));
        ShardCheckpoints.save(dir, 1, 20, sh, id, 0, ShardCheckpoints.keep(Consistency.ASP));
        ShardCheckpoints.save(dir, 1, 24, sh, id, 0, ShardCheckpoints.keep(Consistency.ASP));
        assertEquals(List.of("step-000000016.rtck", "step-000000020.rtck", "step-000000024.rtck"), names(dir.resolve("server-1")));
        assertEquals(List.of(16L, 20L, 24L), ShardCheckpoints.savedSteps(dir, 1, id, line -> { }));
        assertEquals(List.of(), ShardCheckpoints.savedSteps(dir, 0, ShardCheckpoints.identity(CONFIG, TWO_SERVERS, r, 0), line -> { }));
    }

    @Test
    void saveThenRestore_givesTheSameShard(@TempDir Path dir) {
        KeyRanges r = ranges(TWO_SERVERS);
        ServerShard original = trained(r, 0, 3);
        Map<String, Object> id = ShardCheckpoints.identity(CONFIG, TWO_SERVERS, r, 0);
        ShardCheckpoints.save(dir, 0, 3, original, id, 0, 2);
        ServerShard restored = new ServerShard(r, 0, Tensor.zeros(r.size(0)), CONFIG.optimizer(), Consistency.BSP, 2);
        Path f = ShardCheckpoints.restore(dir, 0, 3, restored, id);
        assertEquals(ShardCheckpoints.file(dir, 0, 3), f);
        assertEquals(dir.resolve("server-0").resolve("step-000000003.rtck"), f);
        assertArrayEquals(original.valuesCopy().toArray(), restored.valuesCopy().toArray(), 0f);
        assertEquals(original.optimizerState().size(), restored.optimizerState().size());
        for (int i = 0; i < original.optimizerState().size(); i++) {
            assertArrayEquals(original.optimizerState().get(i).toArray(), restored.optimizerState().get(i).toArray(), 0f);
        }
        assertEquals(original.updates(), restored.updates());
    }

    @Test
    void savedSteps_ofAnotherLayout_areRefusedNamingTheFileAndBothValues(@TempDir Path dir) {
        KeyRanges two = ranges(TWO_SERVERS);
        ShardCheckpoints.save(dir, 0, 4, trained(two, 0, 1), ShardCheckpoints.identity(CONFIG, TWO_SERVERS, two, 0), 0, 2);
        PsOptions three = new PsOptions(3, 1, Consistency.BSP, 0, 10);
        CheckpointException e = assertThrows(CheckpointException.class, () -> ShardCheckpoints.savedSteps(dir, 0,
                ShardCheckpoints.identity(CONFIG, three, ranges(three), 0), line -> { }));
        assertTrue(e.getMessage().startsWith(ShardCheckpoints.file(dir, 0, 4) + " was saved with servers 2, this run has 3"), e.getMessage());
        PsOptions bigChunks = new PsOptions(2, 2, Consistency.BSP, 0, 1000);
        e = assertThrows(CheckpointException.class, () -> ShardCheckpoints.restore(dir, 0, 4,
                new ServerShard(ranges(bigChunks), 0, Tensor.zeros(ranges(bigChunks).size(0)), CONFIG.optimizer(), Consistency.BSP, 2),
                ShardCheckpoints.identity(CONFIG, bigChunks, ranges(bigChunks), 0)));
        assertTrue(e.getMessage().contains("was saved with chunkFloats 10, this run has 1000"), e.getMessage());
        TrainConfig otherModel = new TrainConfig(ModelSpec.parse("mlp:8-7-3"), 2, 12, 0.05, CONFIG.optimizer(), "constant", 5, 1, 0);
        KeyRanges r7 = new KeyRanges(KeyRanges.parameterSizes(otherModel.model()), 2, 10);
        e = assertThrows(CheckpointException.class, () -> ShardCheckpoints.savedSteps(dir, 0,
                ShardCheckpoints.identity(otherModel, TWO_SERVERS, r7, 0), line -> { }));
        assertTrue(e.getMessage().contains("was saved with model"), e.getMessage());
    }

    @Test
    void savedSteps_skipsATornFile_andSaysSo(@TempDir Path dir) throws IOException {
        KeyRanges r = ranges(TWO_SERVERS);
        Map<String, Object> id = ShardCheckpoints.identity(CONFIG, TWO_SERVERS, r, 0);
        ServerShard sh = trained(r, 0, 1);
        ShardCheckpoints.save(dir, 0, 4, sh, id, 0, 2);
        ShardCheckpoints.save(dir, 0, 8, sh, id, 0, 2);
        Path newest = ShardCheckpoints.file(dir, 0, 8);
        byte[] b = Files.readAllBytes(newest);
        Files.write(newest, java.util.Arrays.copyOf(b, b.length / 2));
        List<String> said = new ArrayList<>();
        assertEquals(List.of(4L), ShardCheckpoints.savedSteps(dir, 0, id, said::add));
        assertEquals(1, said.size());
        assertTrue(said.get(0).contains("skipping " + newest), said.get(0));
    }

    @Test
    void savedSteps_travelAsATypedControlMessage_andAnythingElseIsAProtocolError() {
        PsControl.Saved l = new PsControl.Saved(List.of(8L, 12L), null);
        assertEquals(l, PsControl.CODEC.decode(PsControl.CODEC.message(1, 7, l)));
        PsControl.Saved err = new PsControl.Saved(List.of(), "f was saved with servers 2");
        assertEquals(err, PsControl.CODEC.decode(PsControl.CODEC.message(1, 7, err)));
        assertThrows(io.ringtmp.node.ProtocolException.class, () -> PsControl.CODEC.decode(
                io.ringtmp.transport.Message.control(io.ringtmp.transport.MessageKind.CONTROL, 1, 7, 0, "ps-saved 8,x".getBytes(StandardCharsets.US_ASCII))));
    }
}
