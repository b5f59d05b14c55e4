package io.ringtmp.ps;

import io.ringtmp.nn.Parameter;
import io.ringtmp.nn.optim.LrSchedule;
import io.ringtmp.nn.optim.Optimizer;
import io.ringtmp.nn.optim.OptimizerConfig;
import io.ringtmp.tensor.Rng;
import io.ringtmp.tensor.Tensor;
import io.ringtmp.train.Checkpoint;
import io.ringtmp.train.CheckpointException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A shard against one optimiser over the same elements: sharding and chunking change nothing;
 * a shard saved and restored goes on as if it had never stopped.
 */
class ServerShardTest {
    private static final int N = 50;
    private static final KeyRanges RANGES = new KeyRanges(new int[]{20, 30}, 2, 7);
    private static final OptimizerConfig MOMENTUM = OptimizerConfig.sgd(0.9, false, 1e-3);

    private static Tensor random(Rng rng, int n) {
        Tensor t = Tensor.zeros(n);
        for (int i = 0; i < n; i++) {
            t.set(i, (float) rng.nextGaussian());
        }
        return t;
    }

    private static ServerShard shard(int server, Tensor whole, Consistency c, int workers, OptimizerConfig opt) {
        return new ServerShard(RANGES, server, whole.rows(RANGES.from(server), RANGES.to(server)).copy(), opt, c, workers);
    }

    /** Pushes {@code grad}'s range of server s as worker w; returns whether the push completed. */
    private static boolean push(ServerShard sh, int s, int w, long step, Tensor grad, LrSchedule lr) {
        boolean done = false;
        for (KeyRanges.Chunk c : RANGES.chunks(s)) {
            done = sh.accept(w, step, c.index(), grad.rows(c.from(), c.to()).copy(), lr);
        }
        return done;
    }

    @Test
    void retire_bspWaitsForEveryLiveWorkersPart_aspForAsManyPushesAsLiveWorkers() {
        LrSchedule lr = LrSchedule.parse("constant", 0.1, 10);
        Tensor g = random(new Rng(5), N);
        ServerShard bsp = shard(0, random(new Rng(4), N), Consistency.BSP, 3, MOMENTUM);
        push(bsp, 0, 0, 0, g, lr);
        push(bsp, 0, 1, 0, g, lr); // worker 1 pushed step 0, then died
        assertEquals(0, bsp.retire(1, lr), "worker 2's part is still missing");
        assertEquals(0, bsp.optimizerSteps(0));
        push(bsp, 0, 2, 0, g, lr);
        assertEquals(1, bsp.optimizerSteps(0), "the update of step 0 holds the three parts summed");
        push(bsp, 0, 0, 1, g, lr);
        assertEquals(1, bsp.optimizerSteps(0));
        push(bsp, 0, 2, 1, g, lr);
        assertEquals(2, bsp.optimizerSteps(0), "step 1 waits for the two live workers only");
        assertEquals(2, bsp.liveWorkers());
        assertThrows(IllegalArgumentException.class, () -> bsp.accept(1, 2, 0, Tensor.zeros(1), lr), "a retired worker's push is refused");

        ServerShard done = shard(0, random(new Rng(4), N), Consistency.BSP, 2, MOMENTUM);
        push(done, 0, 0, 0, g, lr);
        assertEquals(RANGES.chunks(0).size(), done.retire(1, lr), "every chunk waited for the dead worker only: updated at once");
        assertThrows(IllegalArgumentException.class, () -> done.retire(0, lr), "the last live worker");

        ServerShard asp = shard(0, random(new Rng(4), N), Consistency.ASP, 3, MOMENTUM);
        push(asp, 0, 0, 0, g, lr);
        asp.retire(2, lr);
        push(asp, 0, 0, 1, g, lr);
        assertEquals(1, asp.optimizerSteps(0), "asp: as many pushes as live workers, from whichever");
    }

    @Test
    void bsp_threeWorkersThreeSteps_equalsOneOptimizerOverTheSummedGradients() {
        for (OptimizerConfig opt : List.of(MOMENTUM, OptimizerConfig.adam(0.9, 0.999, 1e-8, 0))) {
            Rng rng = new Rng(3);
            Tensor w0 = random(rng, N);
            Parameter ref = new Parameter("ref", w0.copy(), Tensor.zeros(N));
            Optimizer refOpt = Optimizer.create(opt, List.of(ref));
            ServerShard[] shards = {shard(0, w0, Consistency.BSP, 3, opt), shard(1, w0, Consistency.BSP, 3, opt)};
            LrSchedule lr = LrSchedule.parse("step:1:0.5", 0.1, 3);
            for (int step = 0; step < 3; step++) {
                for (int w = 0; w < 3; w++) {
                    Tensor g = random(rng, N);
                    ref.grad().addInPlace(g);
                    for (int s = 0; s < 2; s++) {
                        assertTrue(push(shards[s], s, w, step, g, lr));
                    }
                }
                refOpt.step(lr.lr(step));
            }
            for (int s = 0; s < 2; s++) {
                float[] expected = ref.value().rows(RANGES.from(s), RANGES.to(s)).toArray();
                float[] got = shards[s].valuesCopy().toArray();
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(expected[i], got[i], 1e-6f, opt.kind() + " server " + s + " key " + i);
                }
                assertEquals(3L * RANGES.chunks(s).size(), shards[s].updates(), "one update per chunk and step");
            }
        }
    }

    @Test
    void asp_theNextWPushesFromAnyWorkers_makeOneUpdate() {
        Rng rng = new Rng(4);
        Tensor w0 = random(rng, N);
        Parameter ref = new Parameter("ref", w0.copy(), Tensor.zeros(N));
        Optimizer refOpt = Optimizer.create(MOMENTUM, List.of(ref));
        ServerShard sh = shard(1, w0, Consistency.ASP, 2, MOMENTUM);
        LrSchedule lr = LrSchedule.parse("constant", 0.05, 1);
        // Worker 0 runs two steps ahead of worker 1: its pushes of steps 0 and 1 make the first update.
        int[][] pushes = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
        for (int k = 0; k < pushes.length; k++) {
            Tensor g = random(rng, N);
            ref.grad().addInPlace(g);
            push(sh, 1, pushes[k][0], pushes[k][1], g, lr);
            if (k % 2 == 1) {
                refOpt.step(0.05);
            }
        }
        assertEquals(2L * RANGES.chunks(1).size(), sh.updates());
        assertArrayEquals(ref.value().rows(RANGES.from(1), RANGES.to(1)).toArray(), sh.valuesCopy().toArray(), 1e-6f);
    }

    @Test
    void chunksOutOfOrder_wrongSizes_andMixedBspSteps_areRefusedNamingThem() {
        Tensor w0 = Tensor.zeros(N);
        ServerShard sh = shard(0, w0, Consistency.BSP, 2, MOMENTUM);
        LrSchedule lr = LrSchedule.parse("constant", 0.1, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sh.accept(0, 0, 1, Tensor.zeros(7), lr));
        assertTrue(e.getMessage().contains("expected chunk 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> sh.accept(0, 0, 0, Tensor.zeros(3), lr));
        assertTrue(e.getMessage().contains("3 floats") && e.getMessage().contains("holds " + RANGES.chunks(0).get(0).size()), e.getMessage());
        assertFalse(sh.accept(0, 0, 0, Tensor.zeros(RANGES.chunks(0).get(0).size()), lr));
        e = assertThrows(IllegalArgumentException.class, () -> sh.accept(1, 1, 0, Tensor.zeros(RANGES.chunks(0).get(0).size()), lr));
        assertTrue(e.getMessage().contains("still being summed"), e.getMessage());
    }

    /** The same W pushes of a step to every shard in {@code shards} (all of server s's range). */
    private static void bspStep(List<ServerShard> shards, int s, int workers, long step, Rng rng, LrSchedule lr) {
        for (int w = 0; w < workers; w++) {
            Tensor g = random(rng, N);
            for (ServerShard sh : shards) {
                push(sh, s, w, step, g, lr);
            }
        }
    }

    /** Writes and reads back {@code sh} as a checkpoint file, so that the test covers the file format too. */
    private static Checkpoint roundTrip(ServerShard sh, Path file) {
        Checkpoint.write(file, sh.toCheckpoint(Map.of("step", 3)));
        return Checkpoint.read(file);
    }

    @Test
    void checkpoint_restoredIntoAFreshShard_goesOnBitForBitAsTheOriginal_sgdMomentumAndAdam(@TempDir Path dir) {
        for (OptimizerConfig opt : List.of(MOMENTUM, OptimizerConfig.adam(0.9, 0.999, 1e-8, 1e-3))) {
            Tensor w0 = random(new Rng(5), N);
            // A cosine rate: the rate of an update depends on the restored step counter.
            LrSchedule lr = LrSchedule.parse("cosine", 0.1, 8);
            ServerShard original = shard(1, w0, Consistency.BSP, 2, opt);
            Rng before = new Rng(6);
            for (long step = 0; step < 3; step++) {
                bspStep(List.of(original), 1, 2, step, before, lr);
            }
            Path f = dir.resolve(opt.kind() + ".rtck");
            ServerShard restored = new ServerShard(RANGES, 1, Tensor.zeros(RANGES.size(1)), opt, Consistency.BSP, 2);
            restored.restore(roundTrip(original, f), f.toString());
            assertArrayEquals(original.valuesCopy().toArray(), restored.valuesCopy().toArray());
            assertEquals(original.updates(), restored.updates());
            for (int c = 0; c < original.chunkCount(); c++) {
                assertEquals(3, restored.optimizerSteps(c), "chunk " + c);
            }
            // The control: the same values without the optimiser state and step counters go elsewhere.
            ServerShard valuesOnly = new ServerShard(RANGES, 1, original.valuesCopy(), opt, Consistency.BSP, 2);
            Rng after = new Rng(7);
            for (long step = 3; step < 6; step++) {
                bspStep(List.of(original, restored, valuesOnly), 1, 2, step, after, lr);
            }
            assertArrayEquals(original.valuesCopy().toArray(), restored.valuesCopy().toArray(), 0f, opt.kind() + ": bit for bit");
            assertArrayEquals(original.optimizerState().get(0).toArray(), restored.optimizerState().get(0).toArray(), 0f);
            float drift = original.valuesCopy().maxAbsDiff(valuesOnly.valuesCopy());
            assertTrue(drift > 1e-3f, opt.kind() + ": without its state a shard drifts by " + drift);
        }
    }

    @Test
    void checkpoint_underAsp_keepsAPartlySummedUpdate(@TempDir Path dir) {
        Rng rng = new Rng(8);
        Tensor w0 = random(rng, N);
        LrSchedule lr = LrSchedule.parse("constant", 0.05, 1);
        ServerShard original = shard(0, w0, Consistency.ASP, 2, MOMENTUM);
        push(original, 0, 0, 0, random(rng, N), lr);
        push(original, 0, 0, 1, random(rng, N), lr); // W = 2 pushes: one update
        push(original, 0, 1, 0, random(rng, N), lr); // one push of the next update
        Path f = dir.resolve("asp.rtck");
        ServerShard restored = new ServerShard(RANGES, 0, Tensor.zeros(RANGES.size(0)), MOMENTUM, Consistency.ASP, 2);
        restored.restore(roundTrip(original, f), f.toString());
        Tensor g = random(rng, N);
        push(original, 0, 1, 1, g, lr);
        push(restored, 0, 1, 1, g, lr);
        assertEquals(2L * RANGES.chunks(0).size(), restored.updates(), "the restored partial sum completed an update");
        assertArrayEquals(original.valuesCopy().toArray(), restored.valuesCopy().toArray(), 0f);
    }

    @Test
    void restore_ofAnotherChunkingOrOptimiser_orIntoAShardThatTookPushes_isRefusedNamingIt() {
        Tensor w0 = random(new Rng(9), N);
        Checkpoint momentum = shard(0, w0, Consistency.BSP, 2, MOMENTUM).toCheckpoint(Map.of());
        KeyRanges fives = new KeyRanges(new int[]{20, 30}, 2, 5);
        ServerShard otherChunks = new ServerShard(fives, 0, Tensor.zeros(fives.size(0)), MOMENTUM, Consistency.BSP, 2);
        CheckpointException e = assertThrows(CheckpointException.class, () -> otherChunks.restore(momentum, "f.rtck"));
        assertTrue(e.getMessage().startsWith("f.rtck holds chunks of [6, 6, 6, 7] floats, this shard has chunks of [5, 5, 5, 5, 5]"),
                e.getMessage());
        for (OptimizerConfig other : List.of(OptimizerConfig.adam(0.9, 0.999, 1e-8, 0), OptimizerConfig.sgd(0, false, 0))) {
            ServerShard sh = new ServerShard(RANGES, 0, Tensor.zeros(RANGES.size(0)), other, Consistency.BSP, 2);
            e = assertThrows(CheckpointException.class, () -> sh.restore(momentum, "f.rtck"));
            assertTrue(e.getMessage().contains("optimiser state"), other + ": " + e.getMessage());
        }
        ServerShard used = shard(0, w0, Consistency.BSP, 2, MOMENTUM);
        used.accept(0, 0, 0, Tensor.zeros(RANGES.chunks(0).get(0).size()), LrSchedule.parse("constant", 0.1, 1));
        assertThrows(IllegalStateException.class, () -> used.restore(momentum, "f.rtck"));
        CheckpointException notShard = assertThrows(CheckpointException.class,
                () -> shard(0, w0, Consistency.BSP, 2, MOMENTUM).restore(new Checkpoint(Map.of(), Map.of()), "g.rtck"));
        assertTrue(notShard.getMessage().contains("g.rtck has no chunkSizes"), notShard.getMessage());
    }
}
