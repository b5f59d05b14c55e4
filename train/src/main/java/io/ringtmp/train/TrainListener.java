package io.ringtmp.train;

/**
 * Receives a run's progress. Called on the training thread; implementations must be quick and
 * must not throw (a listener that fails is the listener's bug, not the run's).
 */
public interface TrainListener {
    /** One update done. */
    default void onStep(StepEvent e) {
    }

    /** One epoch done and evaluated. */
    default void onEpoch(EpochEvent e) {
    }

    /**
     * @param step        updates done so far (1-based count)
     * @param epoch       the epoch this update belongs to, 1-based as in every metrics file (docs/metrics.md)
     * @param loss        mean loss of the batch
     * @param samples     samples in the batch
     * @param computeNs   time of the forward, backward and update
     */
    record StepEvent(long step, int epoch, double loss, int samples, long computeNs) {
    }

    /**
     * @param epoch          the epoch, 1-based as in every metrics file (docs/metrics.md)
     * @param step           updates done so far
     * @param trainLoss      mean loss over the epoch's batches
     * @param testLoss       mean loss on the test set
     * @param testAccuracy   fraction of test samples classified correctly
     * @param samplesPerSec  training throughput over the epoch (evaluation excluded)
     * @param seconds        wall time of the epoch's training
     */
    record EpochEvent(int epoch, long step, double trainLoss, double testLoss, double testAccuracy,
                      double samplesPerSec, double seconds) {
    }
}
