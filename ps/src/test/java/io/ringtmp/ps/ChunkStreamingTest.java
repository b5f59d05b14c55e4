package io.ringtmp.ps;

import io.ringtmp.nn.Parameter;
import io.ringtmp.nn.optim.LrSchedule;
import io.ringtmp.nn.optim.Optimizer;
import io.ringtmp.nn.optim.OptimizerConfig;
import io.ringtmp.node.FakeTime;
import io.ringtmp.tensor.Rng;
import io.ringtmp.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongPredicate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bsp streaming with a real shard and gate, as the server's loop drives them: chunk c of a pull
 * of step t goes out only once the shard's chunk c has applied the W pushes of step t-1, and it
 * then holds exactly the single-node optimiser's values of step t.
 */
class ChunkStreamingTest {
    private static final int N = 50;
    /** One server, chunks of 7: 8 chunks, the last of 1. */
    private static final KeyRanges RANGES = new KeyRanges(new int[]{20, 30}, 1, 7);
    private static final OptimizerConfig MOMENTUM = OptimizerConfig.sgd(0.9, false, 1e-3);
    private static final LongPredicate ALL = t -> true;
    private final FakeTime time = new FakeTime();
    private final LrSchedule lr = LrSchedule.parse("constant", 0.1, 10);

    private static Tensor random(Rng rng, int n) {
        Tensor t = Tensor.zeros(n);
        for (int i = 0; i < n; i++) {
            t.set(i, (float) rng.nextGaussian());
        }
        return t;
    }

    private static List<ConsistencyGate.ChunkRelease> chunks(int worker, long step, int from, int to) {
        List<ConsistencyGate.ChunkRelease> out = new ArrayList<>();
        for (int c = from; c < to; c++) {
            out.add(new ConsistencyGate.ChunkRelease(worker, step, c));
        }
        return out;
    }

    /** Pushes chunks [from, to) of {@code grad} as worker w; returns whether its push completed. */
    private boolean push(ServerShard sh, int w, long step, Tensor grad, int from, int to) {
        boolean done = false;
        for (int c = from; c < to; c++) {
            KeyRanges.Chunk ch = RANGES.chunks(0).get(c);
            done = sh.accept(w, step, c, grad.rows(ch.from(), ch.to()).copy(), lr);
        }
        return done;
    }

    @Test
    void bsp_twoWorkers_chunkGoesOutOnlyOnceBothPushesOfItAreApplied_withTheTrainersValues() {
        int chunks = RANGES.chunkCount();
        assertEquals(8, chunks);
        Rng rng = new Rng(5);
        Tensor w0 = random(rng, N);
        Parameter ref = new Parameter("ref", w0.copy(), Tensor.zeros(N));
        Optimizer refOpt = Optimizer.create(MOMENTUM, List.of(ref));
        ServerShard shard = new ServerShard(RANGES, 0, w0.copy(), MOMENTUM, Consistency.BSP, 2);
        ConsistencyGate gate = new ConsistencyGate(Consistency.BSP, 0, 2, 3, time);

        gate.request(0, 0);
        gate.request(1, 0);
        List<ConsistencyGate.ChunkRelease> first = gate.releasableChunks(chunks, shard::optimizerSteps, ALL);
        assertEquals(2 * chunks, first.size(), "the initial values need no push");
        assertEquals(new ConsistencyGate.ChunkRelease(1, 0, 0), first.get(1), "chunk by chunk, interleaved over the pulls");
        assertEquals(0, gate.parkedCount());
        assertTrue(gate.releasable().isEmpty(), "nothing is sent twice");

        for (long step = 0; step < 2; step++) {
            long next = step + 1;
            // Standing requests: both workers pull step+1 before they push step.
            gate.request(0, next);
            gate.request(1, next);
            Tensor g0 = random(rng, N), g1 = random(rng, N);
            ref.grad().addInPlace(g0);
            ref.grad().addInPlace(g1);
            refOpt.step(lr.lr(step));

            assertTrue(push(shard, 0, step, g0, 0, chunks));
            gate.pushed(0, step);
            assertTrue(gate.releasableChunks(chunks, shard::optimizerSteps, ALL).isEmpty(),
                    "worker 1 has pushed no chunk of step " + step + ": no chunk is updated");
            assertTrue(gate.releasable().isEmpty());

            push(shard, 1, step, g1, 0, 2);
            List<ConsistencyGate.ChunkRelease> early = gate.releasableChunks(chunks, shard::optimizerSteps, ALL);
            assertEquals(List.of(new ConsistencyGate.ChunkRelease(0, next, 0), new ConsistencyGate.ChunkRelease(1, next, 0),
                    new ConsistencyGate.ChunkRelease(0, next, 1), new ConsistencyGate.ChunkRelease(1, next, 1)), early,
                    "step " + next + ": exactly the chunks both workers have pushed");
            for (int c = 0; c < 2; c++) {
                KeyRanges.Chunk ch = RANGES.chunks(0).get(c);
                assertArrayEquals(ref.value().rows(ch.from(), ch.to()).toArray(), shard.chunkValues(c).toArray(), 1e-6f,
                        "a released chunk holds the values of step " + next);
            }
            assertTrue(gate.releasableChunks(chunks, shard::optimizerSteps, ALL).isEmpty(), "chunk 2 is not in yet");

            push(shard, 1, step, g1, 2, 5);
            assertEquals(List.of(new ConsistencyGate.ChunkRelease(0, next, 2), new ConsistencyGate.ChunkRelease(1, next, 2),
                            new ConsistencyGate.ChunkRelease(0, next, 3), new ConsistencyGate.ChunkRelease(1, next, 3),
                            new ConsistencyGate.ChunkRelease(0, next, 4), new ConsistencyGate.ChunkRelease(1, next, 4)),
                    gate.releasableChunks(chunks, shard::optimizerSteps, ALL));
            assertTrue(push(shard, 1, step, g1, 5, chunks));
            gate.pushed(1, step);
            List<ConsistencyGate.ChunkRelease> rest = gate.releasableChunks(chunks, shard::optimizerSteps, ALL);
            assertEquals(6, rest.size());
            assertEquals(new ConsistencyGate.ChunkRelease(1, next, chunks - 1), rest.get(5));
            assertEquals(0, gate.parkedCount());
            assertTrue(gate.releasable().isEmpty(), "a pull streamed in full is not answered again");
            assertArrayEquals(ref.value().toArray(), shard.valuesCopy().toArray(), 1e-6f);
        }
    }

    @Test
    void bsp_stepThatMayNotStream_goesOutWhole_andAPartlyStreamedPullSaysWhichChunksAreLeft() {
        int chunks = RANGES.chunkCount();
        Rng rng = new Rng(6);
        ServerShard shard = new ServerShard(RANGES, 0, random(rng, N), MOMENTUM, Consistency.BSP, 1);
        ConsistencyGate gate = new ConsistencyGate(Consistency.BSP, 0, 1, 3, time);
        gate.request(0, 0);
        assertEquals(chunks, gate.releasableChunks(chunks, shard::optimizerSteps, ALL).size());

        // Step 1 is to be checkpointed: nothing of it streams, the whole pull waits for the push.
        LongPredicate notOne = t -> t != 1;
        gate.request(0, 1);
        Tensor g = random(rng, N);
        push(shard, 0, 0, g, 0, 3);
        assertTrue(gate.releasableChunks(chunks, shard::optimizerSteps, notOne).isEmpty());
        assertTrue(push(shard, 0, 0, g, 3, chunks));
        assertTrue(gate.releasableChunks(chunks, shard::optimizerSteps, notOne).isEmpty(),
                "all chunks are updated, but the step is for the checkpoint to see first");
        gate.pushed(0, 0);
        assertEquals(List.of(new ConsistencyGate.Release(0, 1, 0, 0)), gate.releasable());

        // Step 2 streams three chunks; the gate then releases the rest of it whole.
        gate.request(0, 2);
        push(shard, 0, 1, g, 0, 3);
        assertEquals(chunks(0, 2, 0, 3), gate.releasableChunks(chunks, shard::optimizerSteps, ALL));
        assertTrue(push(shard, 0, 1, g, 3, chunks));
        gate.pushed(0, 1);
        assertEquals(List.of(new ConsistencyGate.Release(0, 2, 0, 3)), gate.releasable());
        assertEquals(0, gate.parkedCount());
    }

    @Test
    void bsp_finalWeights_neverStream_andAChunkPastThePulledStepIsAProtocolError() {
        int chunks = RANGES.chunkCount();
        Rng rng = new Rng(7);
        ServerShard shard = new ServerShard(RANGES, 0, random(rng, N), MOMENTUM, Consistency.BSP, 1);
        ConsistencyGate gate = new ConsistencyGate(Consistency.BSP, 0, 1, 1, time);
        gate.request(0, 0);
        gate.releasableChunks(chunks, shard::optimizerSteps, ALL);
        gate.request(0, 1); // the final weights of a one-step run
        assertTrue(push(shard, 0, 0, random(rng, N), 0, chunks));
        assertTrue(gate.releasableChunks(chunks, shard::optimizerSteps, ALL).isEmpty(), "the final pull waits for the gate");
        gate.pushed(0, 0);
        assertEquals(1, gate.releasable().size());

        ConsistencyGate stale = new ConsistencyGate(Consistency.BSP, 0, 1, 5, time);
        stale.request(0, 0); // the shard's chunks already hold step 1
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> stale.releasableChunks(chunks, shard::optimizerSteps, ALL));
        assertTrue(e.getMessage().contains("chunk 0 holds step 1 while worker 0's pull of step 0 waits"), e.getMessage());
    }

    @Test
    void aspAndSsp_neverStream() {
        ServerShard shard = new ServerShard(RANGES, 0, random(new Rng(8), N), MOMENTUM, Consistency.ASP, 1);
        for (Consistency c : List.of(Consistency.ASP, Consistency.SSP)) {
            ConsistencyGate gate = new ConsistencyGate(c, 0, 1, 3, time);
            gate.request(0, 0);
            assertTrue(gate.releasableChunks(RANGES.chunkCount(), shard::optimizerSteps, ALL).isEmpty(), c.id());
            assertEquals(List.of(new ConsistencyGate.Release(0, 0, 0)), gate.releasable(), c.id());
        }
    }
}
