package io.ringtmp.ps;

import io.ringtmp.nn.Parameter;
import io.ringtmp.nn.optim.LrSchedule;
import io.ringtmp.nn.optim.Optimizer;
import io.ringtmp.nn.optim.OptimizerConfig;
import io.ringtmp.tensor.Tensor;
import io.ringtmp.train.Checkpoint;
import io.ringtmp.train.CheckpointException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One server's key range of the parameters, with its gradients and optimiser state.
 *
 * <p>Each {@link KeyRanges.Chunk chunk} of the range is a {@link Parameter} (values and
 * gradient in arrays of their own) with its own {@link Optimizer}: the
 * optimisers are element-wise, so a chunk is updated exactly as the same elements of the whole
 * model would be, and a chunk can be updated as soon as its gradients are in, while the rest of
 * a push is still on the wire.
 *
 * <p>{@link #accept} takes one chunk of one worker's push. Every W pushes of a chunk are summed
 * into one update, so the servers make the single-node trainer's updates: workers compute
 * B/W rows each with gradients scaled by 1/B, and an update is one batch of B samples, at the
 * schedule's rate for the update's number. Under {@link Consistency#BSP} the W pushes must be
 * of the same step (one per worker), so the update is exactly the trainer's; under asp and ssp
 * they are the next W pushes to arrive, from whichever workers, computed on parameters that may
 * lack the latest updates. A worker's chunks must come in order 0, 1, ... for one step at a
 * time, as they do on one link.
 *
 * <p>{@link #toCheckpoint} and {@link #restore} save and load the whole shard (values,
 * optimiser state and counters, partly summed updates), for checkpoints and resume.
 *
 * <p>Not thread-safe: confined to the server's event-loop thread. Tensors passed to
 * {@code accept} are only read.
 */
public final class ServerShard {
    /** Checkpoint header key: each chunk's size. */
    public static final String CHUNK_SIZES = "chunkSizes";
    /** Checkpoint header key: each chunk's optimiser steps. */
    public static final String OPTIMIZER_STEPS = "optimizerSteps";
    /** Checkpoint header key: pushes summed into each chunk's next update so far. */
    public static final String CONTRIBUTIONS = "contributions";
    /** Checkpoint header key: the step of each chunk's first summed push (bsp checks that the others match). */
    public static final String SUM_STEPS = "sumSteps";
    private final List<KeyRanges.Chunk> chunks;
    private final Tensor[] chunkValues;
    private final Tensor[] chunkGrads;
    private final Optimizer[] optimizers;
    private final Consistency consistency;
    private final int workers;
    private final int[] contributions;
    private final long[] sumStep;
    private final int[] nextChunk;
    private final long[] pushStep;
    /** Workers an update still waits for (not failed over), and how many. */
    private final boolean[] live;
    private int liveWorkers;
    /** bsp: which workers' parts chunk c's current sum holds. */
    private final boolean[][] contributed;
    private long updates;

    /**
     * @param ranges        the layout
     * @param server        which range this is
     * @param initialValues the range's initial weights (taken over, not copied)
     * @param optimizer     the optimiser of every chunk
     * @param consistency   bsp requires the W pushes of an update to be of one step
     * @param workers       W
     */
    public ServerShard(KeyRanges ranges, int server, Tensor initialValues, OptimizerConfig optimizer,
                       Consistency consistency, int workers) {
        if (initialValues.size() != ranges.size(server)) {
            throw new IllegalArgumentException("server " + server + ": initial values hold " + initialValues.size()
                    + " floats, its range " + ranges.size(server));
        }
        if (workers < 1) {
            throw new IllegalArgumentException("workers must be at least 1, got " + workers);
        }
        this.chunks = ranges.chunks(server);
        Tensor flat = initialValues.reshape(initialValues.size());
        this.consistency = consistency;
        this.workers = workers;
        int n = chunks.size();
        this.chunkValues = new Tensor[n];
        this.chunkGrads = new Tensor[n];
        this.optimizers = new Optimizer[n];
        int base = ranges.from(server);
        for (int c = 0; c < n; c++) {
            KeyRanges.Chunk ch = chunks.get(c);
            // Every chunk in arrays of its own, indexed from 0: the optimiser's loops vectorise only
            // then, and no array exceeds a chunk (no humongous allocations for large models).
            Tensor v = flat.rows(ch.from() - base, ch.to() - base).copy();
            Tensor g = Tensor.zeros(ch.size());
            chunkValues[c] = v;
            chunkGrads[c] = g;
            optimizers[c] = Optimizer.create(optimizer, List.of(new Parameter("shard" + server + ".chunk" + c, v, g)));
        }
        this.contributions = new int[n];
        this.sumStep = new long[n];
        this.nextChunk = new int[workers];
        this.pushStep = new long[workers];
        this.live = new boolean[workers];
        java.util.Arrays.fill(live, true);
        this.liveWorkers = workers;
        this.contributed = new boolean[n][workers];
    }

    /**
     * Worker {@code worker} died: from now on an update waits only for the live workers (under
     * bsp, for each chunk, every live worker's part of the step being summed, whatever the dead
     * one had added already; under asp and ssp, as many pushes as there are live workers). The
     * chunks this completes are updated now. Returns how many were.
     *
     * @throws IllegalArgumentException when it was retired already, or is the last live worker
     */
    public int retire(int worker, LrSchedule schedule) {
        if (worker < 0 || worker >= workers || !live[worker]) {
            throw new IllegalArgumentException("worker " + worker + " is not a live worker of this shard");
        }
        if (liveWorkers == 1) {
            throw new IllegalArgumentException("worker " + worker + " is the last live worker");
        }
        live[worker] = false;
        liveWorkers--;
        int done = 0;
        for (int c = 0; c < chunks.size(); c++) {
            if (contributions[c] > 0 && complete(c)) {
                update(c, schedule);
                done++;
            }
        }
        return done;
    }

    /** Whether worker {@code worker} is live (not {@link #retire retired}). */
    public boolean live(int worker) {
        return worker >= 0 && worker < workers && live[worker];
    }

    /** The workers an update waits for now. */
    public int liveWorkers() {
        return liveWorkers;
    }

    /** Whether chunk {@code c}'s sum is complete: every live worker's part in (bsp), or as many pushes as live workers (asp, ssp). */
    private boolean complete(int c) {
        if (consistency != Consistency.BSP) {
            return contributions[c] >= liveWorkers;
        }
        for (int w = 0; w < workers; w++) {
            if (live[w] && !contributed[c][w]) {
                return false;
            }
        }
        return true;
    }

    private void update(int c, LrSchedule schedule) {
        Optimizer o = optimizers[c];
        o.step(schedule.lr(o.steps())); // also zeroes the summed gradient
        contributions[c] = 0;
        java.util.Arrays.fill(contributed[c], false);
        updates++;
    }

    /** A copy of the range's current values, as one flat tensor. */
    public Tensor valuesCopy() {
        int n = 0;
        for (Tensor v : chunkValues) {
            n += v.size();
        }
        float[] out = new float[n];
        int pos = 0;
        for (Tensor v : chunkValues) {
            System.arraycopy(v.data(), v.offset(), out, pos, v.size());
            pos += v.size();
        }
        return Tensor.wrap(out, n);
    }

    /** Chunk {@code c}'s current values (owned by this shard; read them on its thread only). */
    public Tensor chunkValues(int c) {
        return chunkValues[c];
    }

    public int chunkCount() {
        return chunks.size();
    }

    /** Chunk updates applied so far, over all chunks. */
    public long updates() {
        return updates;
    }

    /** The optimiser state of every chunk (momentum, Adam moments), in chunk order. */
    public List<Tensor> optimizerState() {
        List<Tensor> out = new ArrayList<>();
        for (Optimizer o : optimizers) {
            out.addAll(o.state());
        }
        return out;
    }

    /**
     * Updates chunk {@code c}'s optimiser has made (the number its learning rate is looked up by).
     * Under bsp this is the step whose parameters the chunk holds: one update per step, from step
     * 0 or from a restored checkpoint's counts, so it reaches t+1 exactly when the W pushes of
     * step t for this chunk are applied (the servers stream a chunk to the next step's pulls then).
     */
    public long optimizerSteps(int c) {
        return optimizers[c].steps();
    }

    /**
     * The shard as a checkpoint: {@code header} plus, for each chunk c, its values
     * ({@code chunk.<c>}), its optimiser state ({@code chunk.<c>.optimizer.<i>}, in the order of
     * {@link Optimizer#state()}) and, when an update of it is partly summed (asp, ssp: fewer than W
     * pushes in), the sum so far ({@code chunk.<c>.sum}); the header gains the per-chunk counters
     * {@value #CHUNK_SIZES}, {@value #OPTIMIZER_STEPS}, {@value #CONTRIBUTIONS} and
     * {@value #SUM_STEPS}. A worker's push that is half in (some of its chunks accepted) is in the
     * checkpoint as far as it came.
     *
     * <p>Ownership: the checkpoint shares this shard's tensors, so write it before the next
     * {@link #accept}, on the shard's thread.
     */
    public Checkpoint toCheckpoint(Map<String, Object> header) {
        Map<String, Object> h = new LinkedHashMap<>(header);
        List<Integer> sizes = new ArrayList<>();
        List<Long> steps = new ArrayList<>();
        List<Integer> contrib = new ArrayList<>();
        List<Long> sums = new ArrayList<>();
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (int c = 0; c < chunks.size(); c++) {
            sizes.add(chunks.get(c).size());
            steps.add(optimizers[c].steps());
            contrib.add(contributions[c]);
            sums.add(sumStep[c]);
            t.put("chunk." + c, chunkValues[c]);
            List<Tensor> state = optimizers[c].state();
            for (int i = 0; i < state.size(); i++) {
                t.put("chunk." + c + ".optimizer." + i, state.get(i));
            }
            if (contributions[c] > 0) {
                t.put("chunk." + c + ".sum", chunkGrads[c]);
            }
        }
        h.put(CHUNK_SIZES, sizes);
        h.put(OPTIMIZER_STEPS, steps);
        h.put(CONTRIBUTIONS, contrib);
        h.put(SUM_STEPS, sums);
        return new Checkpoint(h, t);
    }

    /**
     * Restores what {@link #toCheckpoint} saved: values, optimiser state and step counters (so
     * momentum, Adam's moments and bias correction, and the learning-rate schedule go on where
     * they were), and partly summed updates. Only on a shard that has taken no push yet.
     *
     * @param source names the checkpoint in error messages (its file)
     * @throws CheckpointException when the checkpoint's chunks or optimiser state do not fit this
     *                             shard, naming {@code source}, what it holds and what this shard has
     * @throws IllegalStateException when this shard has already taken pushes
     */
    public void restore(Checkpoint cp, String source) {
        if (updates != 0 || Arrays.stream(contributions).anyMatch(k -> k != 0) || Arrays.stream(nextChunk).anyMatch(k -> k != 0)) {
            throw new IllegalStateException("restoring " + source + " into a shard that has taken pushes");
        }
        List<Long> sizes = longs(cp, CHUNK_SIZES, source);
        List<Long> expected = chunks.stream().map(ch -> (long) ch.size()).toList();
        if (!sizes.equals(expected)) {
            throw new CheckpointException(source + " holds chunks of " + sizes + " floats, this shard has chunks of " + expected);
        }
        List<Long> steps = longs(cp, OPTIMIZER_STEPS, source);
        List<Long> contrib = longs(cp, CONTRIBUTIONS, source);
        List<Long> sums = longs(cp, SUM_STEPS, source);
        if (steps.size() != chunks.size() || contrib.size() != chunks.size() || sums.size() != chunks.size()) {
            throw new CheckpointException(source + " has counters for " + steps.size() + ", " + contrib.size() + " and "
                    + sums.size() + " chunks, expected " + chunks.size() + " each");
        }
        long total = 0;
        for (int c = 0; c < chunks.size(); c++) {
            List<Tensor> state = optimizers[c].state();
            // One more state tensor than this optimiser keeps means another optimiser made the file.
            if (cp.tensors().containsKey("chunk." + c + ".optimizer." + state.size())
                    || !state.isEmpty() && !cp.tensors().containsKey("chunk." + c + ".optimizer." + (state.size() - 1))) {
                throw new CheckpointException(source + ": chunk " + c + " does not hold the " + state.size()
                        + " optimiser state tensors of " + optimizers[c].config().kind() + " with this run's settings"
                        + " (was it saved with another optimizer or momentum?)");
            }
            long k = contrib.get(c);
            if (k < 0 || k >= workers) {
                throw new CheckpointException(source + ": chunk " + c + " has " + k + " pushes summed, expected 0.." + (workers - 1)
                        + " for " + workers + " workers");
            }
            try {
                cp.restoreInto("chunk." + c, chunkValues[c]);
                for (int i = 0; i < state.size(); i++) {
                    cp.restoreInto("chunk." + c + ".optimizer." + i, state.get(i));
                }
                if (k > 0) {
                    cp.restoreInto("chunk." + c + ".sum", chunkGrads[c]);
                }
            } catch (CheckpointException e) {
                throw new CheckpointException(source + ": " + e.getMessage(), e);
            }
            optimizers[c].restoreSteps(steps.get(c));
            contributions[c] = (int) k;
            sumStep[c] = sums.get(c);
            total += steps.get(c);
        }
        updates = total;
    }

    private static List<Long> longs(Checkpoint cp, String key, String source) {
        if (!(cp.header().get(key) instanceof List<?> list)) {
            throw new CheckpointException(source + " has no " + key + " in its header: not a parameter-server shard");
        }
        List<Long> out = new ArrayList<>();
        for (Object o : list) {
            if (!(o instanceof Number n)) {
                throw new CheckpointException(source + ": " + key + " holds " + o + ", expected numbers");
            }
            out.add(n.longValue());
        }
        return out;
    }

    /**
     * Takes chunk {@code chunk} of worker {@code worker}'s push of step {@code step}.
     *
     * @param grad     its gradient: exactly the chunk's size, read only
     * @param schedule gives the rate of an update from its number (0-based, per chunk)
     * @return true when this was the worker's last chunk of the step: its push is complete
     * @throws IllegalArgumentException when the chunk, step or size is not what the protocol allows, naming both
     */
    public boolean accept(int worker, long step, int chunk, Tensor grad, LrSchedule schedule) {
        if (worker < 0 || worker >= workers) {
            throw new IllegalArgumentException("push from worker " + worker + ", expected 0.." + (workers - 1));
        }
        if (!live[worker]) {
            throw new IllegalArgumentException("push from worker " + worker + ", which was failed over");
        }
        if (chunk != nextChunk[worker]) {
            throw new IllegalArgumentException("worker " + worker + " sent chunk " + chunk + " of step " + step
                    + ", expected chunk " + nextChunk[worker]);
        }
        if (chunk == 0) {
            pushStep[worker] = step;
        } else if (step != pushStep[worker]) {
            throw new IllegalArgumentException("worker " + worker + " sent chunk " + chunk + " of step " + step
                    + " in the middle of its push of step " + pushStep[worker]);
        }
        Tensor target = chunkGrads[chunk];
        if (grad.size() != target.size()) {
            throw new IllegalArgumentException("worker " + worker + ", step " + step + ", chunk " + chunk + ": gradient of "
                    + grad.size() + " floats, the chunk holds " + target.size());
        }
        if (contributions[chunk] == 0) {
            sumStep[chunk] = step;
        } else if (consistency == Consistency.BSP && sumStep[chunk] != step) {
            throw new IllegalArgumentException("bsp: worker " + worker + " pushed step " + step + " for chunk " + chunk
                    + " while step " + sumStep[chunk] + " is still being summed");
        }
        addInto(grad, target, contributions[chunk] == 0);
        contributions[chunk]++;
        contributed[chunk][worker] = true;
        if (complete(chunk)) {
            update(chunk, schedule);
        }
        nextChunk[worker] = chunk + 1 == chunks.size() ? 0 : chunk + 1;
        return nextChunk[worker] == 0;
    }

    /** target (a zero-offset chunk gradient) = src, or += src; the gradient is zero when {@code first}. */
    private static void addInto(Tensor src, Tensor target, boolean first) {
        float[] s = src.data(), t = target.data();
        int so = src.offset(), n = target.size();
        if (first) {
            System.arraycopy(s, so, t, 0, n);
        } else if (so == 0) {
            for (int i = 0; i < n; i++) { // same index in both arrays: the JIT vectorises it
                t[i] += s[i];
            }
        } else {
            for (int i = 0; i < n; i++) {
                t[i] += s[so + i];
            }
        }
    }
}
