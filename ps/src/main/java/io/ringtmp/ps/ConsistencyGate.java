package io.ringtmp.ps;

import io.ringtmp.node.Time;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.function.IntToLongFunction;
import java.util.function.LongPredicate;

/**
 * A server's clocks and the rule of its {@link Consistency}: which pulls it may answer now.
 *
 * <p>The clock of worker w is the number of its pushes this server has received in full (and
 * applied, or added to the step's sum under BSP), plus the start step of a run resumed from a
 * checkpoint. A pull of step t — the parameters worker w computes step t with — may be
 * answered when:
 * <ul>
 *   <li>bsp: every clock is at least t (all W pushes of step t-1 are in: the step's update is applied);</li>
 *   <li>ssp with staleness s: every clock is at least t - s;</li>
 *   <li>asp: always;</li>
 *   <li>any consistency, for t ≥ totalSteps (the final weights): every clock is totalSteps.</li>
 * </ul>
 * A pull that may not be answered yet is parked; {@link #releasable()} hands back the parked
 * pulls that became answerable, in the order they came, with how long each waited.
 *
 * <p>Streaming (bsp only): a parked pull of step t may also be answered chunk by chunk, before
 * the whole step is in: {@link #releasableChunks} hands back chunk c of it as soon as the
 * server's chunk c holds the parameters of step t (its update from all W pushes of step t-1 is
 * applied), for the steps the caller allows (not the final weights, nor a step the server must
 * checkpoint before it sends any of it). Chunks of one pull go out in chunk order; a pull whose
 * chunks are all handed back is no longer parked, and one that {@link #releasable()} then hands
 * back whole says in {@link Release#fromChunk()} which chunks are still to send.
 *
 * <p>Usage, on the server's event loop: {@code request(w, t)} for each PULL, {@code pushed(w, t)}
 * for each complete PUSH, then answer everything {@code releasableChunks(...)} (bsp, after each
 * chunk of a push) and {@code releasable()} return. Not thread-safe: confined to the server's
 * event-loop thread.
 */
public final class ConsistencyGate {
    /**
     * A pull that may be answered now, how long it was parked (0 when it never was), and the
     * first of its chunks not yet handed back by {@link #releasableChunks} (0 when none was).
     */
    public record Release(int worker, long step, long waitedNs, int fromChunk) {
        /** A release of the whole pull. */
        public Release(int worker, long step, long waitedNs) {
            this(worker, step, waitedNs, 0);
        }
    }

    /** Chunk {@code chunk} of worker {@code worker}'s pull of {@code step}, which may be sent now. */
    public record ChunkRelease(int worker, long step, int chunk) {
    }

    private static final class Parked {
        final int worker;
        final long step;
        final long sinceNs;
        /** Chunks handed back so far by releasableChunks: 0 .. sent-1. */
        int sent;

        Parked(int worker, long step, long sinceNs) {
            this.worker = worker;
            this.step = step;
            this.sinceNs = sinceNs;
        }
    }

    private final Consistency consistency;
    private final int staleness;
    private final long startStep;
    private final long totalSteps;
    private final long[] clocks;
    /** Workers failed over: their clocks no longer count. */
    private final boolean[] retired;
    private final Time time;
    private final List<Parked> parked = new ArrayList<>();

    /**
     * @param staleness  ssp's bound (ignored otherwise)
     * @param workers    W
     * @param totalSteps steps every worker makes; a pull of this step waits for all of them
     */
    public ConsistencyGate(Consistency consistency, int staleness, int workers, long totalSteps, Time time) {
        this(consistency, staleness, workers, 0, totalSteps, time);
    }

    /**
     * A gate whose workers start at {@code startStep} (a resumed run: the step of the servers'
     * checkpoint), so every clock starts there: each worker's first push is of that step.
     *
     * @param startStep  0 ≤ startStep ≤ totalSteps
     * @param totalSteps steps every worker makes in all, counted from 0
     */
    public ConsistencyGate(Consistency consistency, int staleness, int workers, long startStep, long totalSteps, Time time) {
        if (workers < 1) {
            throw new IllegalArgumentException("workers must be at least 1, got " + workers);
        }
        if (staleness < 0) {
            throw new IllegalArgumentException("staleness must be >= 0, got " + staleness);
        }
        if (totalSteps < 0) {
            throw new IllegalArgumentException("totalSteps must be >= 0, got " + totalSteps);
        }
        if (startStep < 0 || startStep > totalSteps) {
            throw new IllegalArgumentException("startStep must be in 0.." + totalSteps + " (the run's steps), got " + startStep);
        }
        this.consistency = consistency;
        this.staleness = staleness;
        this.startStep = startStep;
        this.totalSteps = totalSteps;
        this.clocks = new long[workers];
        Arrays.fill(clocks, startStep);
        this.retired = new boolean[workers];
        this.time = time;
    }

    public long totalSteps() {
        return totalSteps;
    }

    /** The step every worker started at: 0, or the step a resumed run restarted from. */
    public long startStep() {
        return startStep;
    }

    /** Pushes received in full from {@code worker}. */
    public long clock(int worker) {
        return clocks[worker];
    }

    /** The slowest live worker's clock. */
    public long minClock() {
        long m = Long.MAX_VALUE;
        for (int w = 0; w < clocks.length; w++) {
            if (!retired[w]) {
                m = Math.min(m, clocks[w]);
            }
        }
        return m;
    }

    /**
     * Worker {@code worker} died: its clock no longer holds anyone back (the bsp barrier and the
     * ssp bound shrink to the live workers) and its parked pulls are dropped.
     */
    public void retire(int worker) {
        checkWorker(worker);
        retired[worker] = true;
        parked.removeIf(p -> p.worker == worker);
    }

    /** Whether every live worker has pushed all {@link #totalSteps()} steps. */
    public boolean allDone() {
        return minClock() >= totalSteps;
    }

    /** Whether a pull of {@code step} may be answered now. */
    public boolean ready(long step) {
        long min = minClock();
        if (step >= totalSteps) {
            return min >= totalSteps;
        }
        return switch (consistency) {
            case BSP -> min >= step;
            case SSP -> min >= step - staleness;
            case ASP -> true;
        };
    }

    /**
     * Records worker {@code worker}'s complete push of {@code step}; pushes come in step order,
     * one per step.
     *
     * @throws IllegalStateException when the step is not the worker's next one
     */
    public void pushed(int worker, long step) {
        checkWorker(worker);
        if (step != clocks[worker]) {
            throw new IllegalStateException("worker " + worker + " pushed step " + step + ", expected step " + clocks[worker]);
        }
        if (step >= totalSteps) {
            throw new IllegalStateException("worker " + worker + " pushed step " + step + " of a run of " + totalSteps + " steps");
        }
        clocks[worker]++;
    }

    /** Parks worker {@code worker}'s pull of {@code step} until {@link #releasable()} hands it back. */
    public void request(int worker, long step) {
        checkWorker(worker);
        if (step < 0) {
            throw new IllegalArgumentException("worker " + worker + " pulled step " + step);
        }
        parked.add(new Parked(worker, step, time.nanoTime()));
    }

    /** The parked pulls that may be answered now, in the order they were requested; they are no longer parked. */
    public List<Release> releasable() {
        if (parked.isEmpty()) {
            return List.of();
        }
        List<Release> out = new ArrayList<>();
        long now = time.nanoTime();
        for (Iterator<Parked> it = parked.iterator(); it.hasNext(); ) {
            Parked p = it.next();
            if (ready(p.step)) {
                out.add(new Release(p.worker, p.step, now - p.sinceNs, p.sent));
                it.remove();
            }
        }
        return out;
    }

    /**
     * Bsp: the chunks of parked pulls that may be sent now, ahead of the whole step: for each
     * parked pull of a step t below {@link #totalSteps()} that {@code streamable} allows, its
     * next chunks c in order while {@code chunkStep(c)} is t. Chunk by chunk, interleaved over
     * the pulls. A pull whose last chunk is handed back is no longer parked. Under asp and ssp,
     * nothing.
     *
     * @param chunks     the server's chunk count
     * @param chunkStep  the step whose parameters chunk c holds now (under bsp: the updates it has made)
     * @param streamable whether step t may go out chunk by chunk (false for a step the server
     *                   must checkpoint before it sends any of it)
     * @throws IllegalStateException when a chunk already holds a step past a parked pull's: its
     *                               worker pushed a step it had not pulled in full
     */
    public List<ChunkRelease> releasableChunks(int chunks, IntToLongFunction chunkStep, LongPredicate streamable) {
        if (consistency != Consistency.BSP || parked.isEmpty()) {
            return List.of();
        }
        List<ChunkRelease> out = new ArrayList<>();
        for (int c = 0; c < chunks; c++) {
            long holds = chunkStep.applyAsLong(c);
            for (Parked p : parked) {
                if (p.sent != c || p.step >= totalSteps || !streamable.test(p.step)) {
                    continue;
                }
                if (holds > p.step) {
                    throw new IllegalStateException("bsp: chunk " + c + " holds step " + holds + " while worker " + p.worker
                            + "'s pull of step " + p.step + " waits for it");
                }
                if (holds == p.step) {
                    out.add(new ChunkRelease(p.worker, p.step, c));
                    p.sent++;
                }
            }
        }
        parked.removeIf(p -> p.sent == chunks);
        return out;
    }

    /** Pulls parked now. */
    public int parkedCount() {
        return parked.size();
    }

    private void checkWorker(int worker) {
        if (worker < 0 || worker >= clocks.length) {
            throw new IllegalArgumentException("worker must be in 0.." + (clocks.length - 1) + ", got " + worker);
        }
        if (retired[worker]) {
            throw new IllegalArgumentException("worker " + worker + " was failed over");
        }
    }
}
