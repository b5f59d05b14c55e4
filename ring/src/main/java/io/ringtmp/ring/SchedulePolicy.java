package io.ringtmp.ring;

import io.ringtmp.nn.optim.LrSchedule;

/**
 * The rules that make a {@link Schedule}, in one place for the stage loop ({@link StageLoop}):
 * when a microbatch may start its forward, when the last stage runs its backward, and which
 * update follows a backward. What else tells the schedules apart is their slot counts
 * ({@link RingOptions#slots}): 1f1b is the flushed schedule with K − k slots on stage k, so that
 * a backward is always ready before another forward may start.
 */
sealed interface SchedulePolicy {
    static SchedulePolicy of(Schedule s) {
        return switch (s) {
            case GPIPE -> new Flushed(true);
            case ONE_F_ONE_B -> new Flushed(false);
            case ASYNC -> new Async();
        };
    }

    /** Whether a forward of mini-batch {@code step} may run on a stage that has completed {@code stepsDone} mini-batches. */
    boolean mayForward(long step, long stepsDone);

    /** Whether the last stage holds each microbatch's loss until all M forwards of its mini-batch ran (gpipe). */
    boolean lossAfterAllForwards();

    /** Whether a stage keeps the weight version each forward used for its backward (weight stashing). */
    boolean keepsWeightVersions();

    /**
     * Applies the update due after the backward of microbatch {@code g}, if any.
     *
     * @param backwardsInStep       backwards this stage ran of the current mini-batch, this one included
     * @param completedMicrobatches microbatches this stage completed, this one included
     * @param stepsDone             mini-batches completed before this backward
     * @return the mini-batches completed now ({@code stepsDone} when this backward completed none)
     */
    long afterBackward(Stage stage, LrSchedule lr, long g, int m, int backwardsInStep, long completedMicrobatches, long stepsDone);

    /** Whether {@link #afterBackward} updates after every microbatch (else once per mini-batch). */
    boolean updatesEveryMicrobatch();

    /**
     * gpipe and 1f1b: one update per mini-batch, after its M backwards, at the same weights as the
     * single-node trainer; mini-batch s+1 starts only after this stage's update of s (the flush).
     *
     * @param lossAfterAllForwards gpipe: all forwards of a mini-batch, then all backwards
     */
    record Flushed(boolean lossAfterAllForwards) implements SchedulePolicy {
        @Override
        public boolean mayForward(long step, long stepsDone) {
            return step == stepsDone;
        }

        @Override
        public boolean keepsWeightVersions() {
            return false;
        }

        @Override
        public long afterBackward(Stage stage, LrSchedule lr, long g, int m, int backwardsInStep, long completedMicrobatches,
                                  long stepsDone) {
            if (backwardsInStep < m) {
                return stepsDone;
            }
            stage.step(lr.lr(stepsDone));
            return stepsDone + 1;
        }

        @Override
        public boolean updatesEveryMicrobatch() {
            return false;
        }
    }

    /** async (PipeDream): no flush; an update after every microbatch's backward, with weight stashing. */
    record Async() implements SchedulePolicy {
        @Override
        public boolean mayForward(long step, long stepsDone) {
            return true;
        }

        @Override
        public boolean lossAfterAllForwards() {
            return false;
        }

        @Override
        public boolean keepsWeightVersions() {
            return true;
        }

        @Override
        public long afterBackward(Stage stage, LrSchedule lr, long g, int m, int backwardsInStep, long completedMicrobatches,
                                  long stepsDone) {
            stage.stepKeepingVersions(lr.lr(g / m));
            return completedMicrobatches % m == 0 ? completedMicrobatches / m : stepsDone;
        }

        @Override
        public boolean updatesEveryMicrobatch() {
            return true;
        }
    }
}
