package io.ringtmp.experiments;

import java.util.List;
import java.util.Map;

/**
 * An experiment: a named list of runs per {@link Profile} and how to run one. The {@link Harness}
 * calls {@link #runs} once, then {@link #run} for each run not already in the results file, one
 * at a time, on the calling thread.
 *
 * <pre>{@code
 * new Harness(outDir, context, System.out).run(new IdleExperiment(), Profile.QUICK, true);
 * }</pre>
 */
public interface Experiment {
    /** The name: the results file is {@code <name>.jsonl}. */
    String name();

    /** The runs of {@code profile}, in the order to run them; keys are distinct. */
    List<RunSpec> runs(Profile profile);

    /**
     * Runs {@code run}: the measured figures (numbers, strings, lists or maps of them). A failed
     * run throws; the harness records the failure and goes on.
     */
    Outcome run(RunSpec run, RunContext context) throws Exception;

    /**
     * What one run measured.
     *
     * @param figures  the measured figures
     * @param emulated whether the nodes ran on emulated devices
     * @param note     what differs from the settings (e.g. "not root: ran unemulated"), or "" when nothing
     */
    record Outcome(Map<String, Object> figures, boolean emulated, String note) {
        public Outcome {
            figures = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(figures));
            note = note == null ? "" : note;
        }
    }
}
