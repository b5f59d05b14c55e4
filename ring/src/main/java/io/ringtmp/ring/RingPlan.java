package io.ringtmp.ring;

import java.util.List;

/**
 * What node 0 decides at start-up and every node follows: where the model is cut and which
 * steps the run covers; or, with {@code error} set, why the ring cannot start (then the other
 * fields are empty).
 *
 * @param error         why the ring cannot start, or null
 * @param cuts          layer index where each stage starts, and the model's layer count last
 * @param resumeStep    the step every stage resumes from (0 for a fresh run)
 * @param stepsPerEpoch mini-batches per epoch (node 0 reads the data; the others learn it here)
 * @param scheduleSteps the steps the learning-rate schedule spans (the configured epochs)
 * @param totalSteps    the run's last step
 * @param stageMs       predicted time per microbatch of each stage
 * @param stageBytes    predicted memory of each stage
 * @param describe      one line per stage, as node 0 prints the partition
 * @param layerSeconds  each layer's time per microbatch on a node of speed 1 (what the partitioner
 *                      priced), so that survivors re-balance after a takeover alike
 * @param speeds        each node's speed, by id
 * @param layerBytes    each layer's predicted memory under the run's memory model, so that the
 *                      survivors check a takeover's merged stages against the budgets
 * @param budgets       each node's memory budget, by id
 */
record RingPlan(String error, List<Integer> cuts, long resumeStep, long stepsPerEpoch, long scheduleSteps, long totalSteps,
                List<Double> stageMs, List<Long> stageBytes, String describe, List<Double> layerSeconds, List<Double> speeds,
                List<Long> layerBytes, List<Long> budgets) {
    RingPlan {
        layerBytes = layerBytes == null ? List.of() : List.copyOf(layerBytes); // a plan from a build without memory figures
        budgets = budgets == null ? List.of() : List.copyOf(budgets);
    }

    static RingPlan failed(String error) {
        return new RingPlan(error, List.of(), 0, 0, 0, 0, List.of(), List.of(), "", List.of(), List.of(), List.of(), List.of());
    }

    boolean ok() {
        return error == null;
    }

    /** The stages' lines, as the launcher shows the partition. */
    List<String> stageLines() {
        return describe.strip().lines().map(String::strip).toList();
    }
}
