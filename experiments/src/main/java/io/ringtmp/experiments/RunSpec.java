package io.ringtmp.experiments;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One run of an experiment: its settings, seed and repetition. The {@link #key()} names the run
 * in the results file, so that {@code --resume} can tell which runs are done: it is the settings
 * in their order, then the seed and the repetition.
 *
 * @param settings   what the run varies and what it holds fixed (values: strings, numbers, booleans)
 * @param seed       the run's seed (data and initialisation)
 * @param repetition 0-based repetition of the same settings
 */
public record RunSpec(Map<String, Object> settings, long seed, int repetition) {
    public RunSpec {
        if (repetition < 0) {
            throw new IllegalArgumentException("repetition must be >= 0, got " + repetition);
        }
        settings = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(settings));
    }

    /** e.g. {@code system=ring,mode=gpipe,nodes=2,...,seed=1,rep=0}. */
    public String key() {
        return settings.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(","))
                + ",seed=" + seed + ",rep=" + repetition;
    }

    /** A setting as a string; throws naming it when absent. */
    public String string(String name) {
        Object v = settings.get(name);
        if (v == null) {
            throw new IllegalArgumentException("run " + key() + " has no setting " + name);
        }
        return v.toString();
    }

    public int integer(String name) {
        return Integer.parseInt(string(name));
    }

    public double number(String name) {
        return Double.parseDouble(string(name));
    }
}
