package io.ringtmp.ps;

import io.ringtmp.nn.Parameter;
import io.ringtmp.nn.optim.LrSchedule;
import io.ringtmp.nn.optim.Optimizer;
import io.ringtmp.nn.optim.OptimizerConfig;
import io.ringtmp.tensor.Rng;
import io.ringtmp.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A shard against one optimiser over the same elements: sharding and chunking change nothing. */
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
}
