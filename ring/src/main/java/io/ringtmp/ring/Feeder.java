package io.ringtmp.ring;

import io.ringtmp.data.EpochOrder;
import io.ringtmp.data.TrainTest;
import io.ringtmp.tensor.Rng;
import io.ringtmp.tensor.Tensor;

import java.nio.file.Path;

/**
 * Node 0's side of the pipeline: the data order (a function of the seed, epoch by epoch), the
 * credits that bound the microbatches in flight, and the boundaries where the pipe must drain
 * (an epoch's end for its evaluation, a checkpoint, the run's end).
 *
 * <p>Microbatch {@code g} is microbatch {@code g mod M} of mini-batch {@code g / M}; its rows are
 * taken from the epoch's permutation in order. Threads: the loop's.
 */
final class Feeder {
    private final TrainTest data;
    private final EpochOrder order;
    private final int m;
    private final int rows;
    private final int batchSize;
    private final int inflight;
    private final long stepsPerEpoch;
    private final long startStep;
    private final long totalSteps;
    private final Path checkpointDir;
    private final long checkpointEvery;
    private final Tensor[] slotInputs;
    private int[] permutation;
    private int permutationEpoch = -1;
    private long nextG;
    private int credits;
    private long boundaryHandled = -1;
    private double epochLoss;
    private long epochSamples;

    /** @param startStep the step to start from: 0, a checkpoint's, or after a repair the rollback step (the data order is the seed's) */
    Feeder(TrainTest data, long seed, int m, int rows, int batchSize, int inflight, int slots, RingPlan plan, long startStep, Path checkpointDir,
           long checkpointEvery) {
        this.data = data;
        this.order = new EpochOrder(Rng.derive(seed, "data"), data.train().size());
        this.m = m;
        this.rows = rows;
        this.batchSize = batchSize;
        this.inflight = inflight;
        this.stepsPerEpoch = plan.stepsPerEpoch();
        this.startStep = startStep;
        this.totalSteps = plan.totalSteps();
        this.checkpointDir = checkpointDir;
        this.checkpointEvery = checkpointEvery;
        this.slotInputs = new Tensor[slots];
        for (int s = 0; s < slots; s++) {
            slotInputs[s] = Tensor.zeros(rows, data.train().featureSize());
        }
        this.nextG = startStep * m;
        this.credits = inflight;
    }

    TrainTest data() {
        return data;
    }

    /** The next microbatch to start. */
    long nextMicrobatch() {
        return nextG;
    }

    /** Whether a microbatch can start now, on a stage that has completed {@code stepsDone} mini-batches. */
    boolean canStart(SchedulePolicy policy, long stepsDone) {
        if (credits == 0 || nextG >= totalSteps * m) {
            return false;
        }
        long s = nextG / m;
        if (!policy.mayForward(s, stepsDone)) {
            return false; // the flush: mini-batch s+1 starts after this stage's update of s
        }
        return !(nextG % m == 0 && needsBoundary(s) && boundaryHandled < s);
    }

    /** Whether the pipe must drain before step s (or at the end) for an evaluation, a checkpoint or the finish. */
    private boolean needsBoundary(long s) {
        return s == totalSteps || (s > startStep && (s % stepsPerEpoch == 0 || checkpointAt(s)));
    }

    /** Whether a periodic checkpoint falls on step s. */
    boolean checkpointAt(long s) {
        return checkpointDir != null && checkpointEvery > 0 && s % checkpointEvery == 0;
    }

    /** The boundary step the pipe has reached and must drain at, or -1. */
    long boundaryDue(long stepsDone) {
        if (nextG % m != 0) {
            return -1;
        }
        long s = nextG / m;
        return needsBoundary(s) && boundaryHandled < s && stepsDone == s ? s : -1;
    }

    /** Whether every credit is back and nothing is in flight. */
    boolean drained(int outstanding) {
        return outstanding == 0 && credits == inflight;
    }

    void boundaryHandled(long s) {
        boundaryHandled = s;
    }

    boolean epochEnd(long s) {
        return s % stepsPerEpoch == 0 || s == totalSteps;
    }

    /**
     * Takes a credit and gathers the next microbatch's rows into the input of {@code slot}.
     *
     * @param y receives the microbatch's labels
     * @return the microbatch's input
     */
    Tensor start(int slot, int[] y) {
        long g = nextG++;
        long s = g / m;
        int mb = (int) (g % m);
        int epoch = (int) (s / stepsPerEpoch);
        if (epoch != permutationEpoch) {
            permutation = order.permutation(epoch);
            permutationEpoch = epoch;
        }
        credits--;
        Tensor x = slotInputs[slot];
        data.train().gatherInto(permutation, (int) ((s % stepsPerEpoch) * batchSize + (long) mb * rows), rows, x, y);
        return x;
    }

    /** The last stage finished a microbatch's loss and backward (its credit came round); the earlier stages' backwards may still run. */
    void credit(RingPayloads.Credit c) {
        credits++;
        epochLoss += c.loss();
        epochSamples += c.rows();
    }

    /** The epoch's mean training loss so far, and starts the next epoch's. */
    double takeEpochLoss() {
        double l = epochSamples == 0 ? Double.NaN : epochLoss / epochSamples;
        epochLoss = 0;
        epochSamples = 0;
        return l;
    }

    /** The state for a stall report. */
    String state() {
        return "next microbatch " + nextG + ", credits " + credits + ", boundary handled " + boundaryHandled;
    }
}
