package io.ringtmp.node;

import io.ringtmp.nn.ModelSpec;
import io.ringtmp.nn.optim.OptimizerConfig;
import io.ringtmp.train.TrainConfig;

import java.nio.file.Path;
import java.util.Map;

/**
 * The training options of a cluster spec (its {@code options} map, as strings), shared by every
 * training mode so that a ring run and a parameter-server run with equal options train the same
 * model on the same data in the same order as {@code ringtmp train --mode local}.
 *
 * <p>Keys and defaults: {@code epochs} 3, {@code batch} 128, {@code lr} 0.05, {@code optimizer}
 * sgd, {@code momentum} 0.9, {@code weightDecay} 0, {@code lrSchedule} constant, {@code seed} 1,
 * {@code threads} 1 (compute threads per node), {@code maxSteps} 0 (no limit), {@code dataDir}
 * datasets, {@code checkpointDir} (none), {@code checkpointEvery} 0 (steps; 0: at the end only),
 * {@code resume} false. See docs/cluster-spec.md.
 */
public final class TrainingOptions {
    public static final String EPOCHS = "epochs";
    public static final String BATCH = "batch";
    public static final String LR = "lr";
    public static final String OPTIMIZER = "optimizer";
    public static final String MOMENTUM = "momentum";
    public static final String WEIGHT_DECAY = "weightDecay";
    public static final String LR_SCHEDULE = "lrSchedule";
    public static final String SEED = "seed";
    public static final String THREADS = "threads";
    public static final String MAX_STEPS = "maxSteps";
    public static final String DATA_DIR = "dataDir";
    public static final String CHECKPOINT_DIR = "checkpointDir";
    public static final String CHECKPOINT_EVERY = "checkpointEvery";
    public static final String RESUME = "resume";
    /** Every training option key, the same for every training mode. */
    public static final java.util.Set<String> KEYS = java.util.Set.of(EPOCHS, BATCH, LR, OPTIMIZER, MOMENTUM, WEIGHT_DECAY, LR_SCHEDULE,
            SEED, THREADS, MAX_STEPS, DATA_DIR, CHECKPOINT_DIR, CHECKPOINT_EVERY, RESUME);

    private TrainingOptions() {
    }

    /**
     * The training configuration the spec describes; a malformed option is a {@link SpecException}
     * naming it. Also checks the checkpoint options ({@link #checkpointEvery}, {@link #resume}),
     * so that every training mode refuses them alike before any node starts.
     */
    public static TrainConfig config(ClusterSpec spec) {
        checkpointEvery(spec);
        resume(spec);
        return config(spec.model(), spec.options(), 1);
    }

    /**
     * The training configuration of {@code model} with the training options in {@code o}, each
     * absent one at its default (the same defaults for {@code train}, {@code launch} and a spec).
     *
     * @param threads the compute threads when option {@code threads} is absent
     */
    public static TrainConfig config(String model, Map<String, String> o, int threads) {
        ModelSpec m;
        try {
            m = ModelSpec.parse(model);
        } catch (IllegalArgumentException e) {
            throw new SpecException("model: " + e.getMessage());
        }
        try {
            OptimizerConfig opt = OptimizerConfig.parse(o.getOrDefault(OPTIMIZER, "sgd"), number(o, MOMENTUM, 0.9),
                    number(o, WEIGHT_DECAY, 0));
            return new TrainConfig(m, integer(o, EPOCHS, 3), integer(o, BATCH, 128), number(o, LR, 0.05), opt,
                    o.getOrDefault(LR_SCHEDULE, "constant"), longValue(o, SEED, 1), integer(o, THREADS, threads),
                    longValue(o, MAX_STEPS, 0));
        } catch (SpecException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new SpecException("training options: " + e.getMessage());
        }
    }

    public static Path dataDir(ClusterSpec spec) {
        return Path.of(spec.option(DATA_DIR, "datasets"));
    }

    /** Where this run's checkpoints go, or null when none are written. */
    public static Path checkpointDir(ClusterSpec spec) {
        String d = spec.option(CHECKPOINT_DIR, null);
        return d == null || d.isBlank() ? null : Path.of(d);
    }

    /**
     * Checkpoint every N mini-batches (0: at the end only). Refused rather than ignored without a
     * {@code checkpointDir}: a user who asks for checkpoints must not believe they have them.
     */
    public static long checkpointEvery(ClusterSpec spec) {
        long n = longValue(spec, CHECKPOINT_EVERY, 0);
        if (n < 0) {
            throw new SpecException("option " + CHECKPOINT_EVERY + " must be >= 0, got " + n);
        }
        if (n > 0 && checkpointDir(spec) == null) {
            throw new SpecException("option " + CHECKPOINT_EVERY + " (" + n + ") needs option " + CHECKPOINT_DIR
                    + " (where the nodes save their checkpoints)");
        }
        return n;
    }

    /** Whether to restart from the checkpoints in {@code checkpointDir}, which it needs. */
    public static boolean resume(ClusterSpec spec) {
        boolean resume = flag(spec, RESUME);
        if (resume && checkpointDir(spec) == null) {
            throw new SpecException("option " + RESUME + " needs option " + CHECKPOINT_DIR + " (where the nodes saved their checkpoints)");
        }
        return resume;
    }

    /** A true/false option, false when absent. */
    public static boolean flag(ClusterSpec spec, String key) {
        String v = spec.option(key, "false");
        if (!v.equals("true") && !v.equals("false")) {
            throw new SpecException("option " + key + " must be true or false, got '" + v + "'");
        }
        return v.equals("true");
    }

    /** An integer option, or {@code dflt} when absent. */
    public static int integer(ClusterSpec spec, String key, int dflt) {
        return integer(spec.options(), key, dflt);
    }

    public static long longValue(ClusterSpec spec, String key, long dflt) {
        return longValue(spec.options(), key, dflt);
    }

    public static double number(ClusterSpec spec, String key, double dflt) {
        return number(spec.options(), key, dflt);
    }

    private static int integer(Map<String, String> o, String key, int dflt) {
        long v = longValue(o, key, dflt);
        if (v != (int) v) {
            throw new SpecException("option " + key + " is out of range: " + v);
        }
        return (int) v;
    }

    private static long longValue(Map<String, String> o, String key, long dflt) {
        String v = o.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new SpecException("option " + key + " must be an integer, got '" + v + "'");
        }
    }

    private static double number(Map<String, String> o, String key, double dflt) {
        String v = o.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new SpecException("option " + key + " must be a number, got '" + v + "'");
        }
    }
}
