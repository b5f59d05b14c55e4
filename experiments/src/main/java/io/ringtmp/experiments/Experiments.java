package io.ringtmp.experiments;

import java.util.List;

/** The experiments by name. */
public final class Experiments {
    private Experiments() {
    }

    /** Every experiment, in the order {@code all} runs them. */
    public static List<Experiment> all() {
        return List.of(new IdleExperiment(), new ProgressExperiment(), new ScalingExperiment(), new ResilienceExperiment(), new CapacityExperiment());
    }

    /** An experiment's name, or {@code all}. */
    public static List<Experiment> named(String name) {
        if (name.equals("all")) {
            return all();
        }
        for (Experiment e : all()) {
            if (e.name().equals(name)) {
                return List.of(e);
            }
        }
        throw new IllegalArgumentException("experiment must be " + String.join(", ", all().stream().map(Experiment::name).toList())
                + " or all, got " + name);
    }
}
