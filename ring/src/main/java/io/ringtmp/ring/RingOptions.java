package io.ringtmp.ring;

import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.SpecException;
import io.ringtmp.node.TrainingOptions;
import io.ringtmp.train.TrainConfig;


/**
 * The ring's options in a cluster spec (besides {@link TrainingOptions}).
 *
 * @param schedule      {@code schedule}: gpipe, 1f1b or async (default 1f1b)
 * @param microbatches  {@code microbatches}: M, microbatches per mini-batch; the batch must divide
 *                      by it (default: 4)
 * @param inflight      {@code inflight}: credits, the most microbatches node 0 has started that
 *                      the last stage has not finished (default: M for gpipe, which needs at
 *                      least M; K for 1f1b; 2K for async)
 * @param partition     {@code partition}: auto or manual:N,N,... (default auto)
 * @param profile       {@code profile}: measure (time every layer on every node at start-up,
 *                      default) or estimate (from FLOP counts, instant)
 * @param evalBatch     {@code evalBatch}: rows per evaluation batch (default 500)
 * @param trace         {@code trace}: true to write every node's timeline of forwards,
 *                      backwards, updates and waits as {@code trace-node-<id>.json} (a Chrome
 *                      trace) into the run directory (default false)
 * @param replicaEvery  {@code replicaEvery}: every this many steps each stage streams its state to
 *                      its buddy, which takes the stage over if its node dies (default
 *                      {@value #DEFAULT_REPLICA_EVERY}); 0 turns replicas, and so failover, off:
 *                      a dead node then stops the whole ring (docs/resilience.md)
 * @param rebalance     {@code rebalance}: after a takeover, move layers between neighbours so
 *                      that the member running two stages' layers does not slow the ring
 *                      (default true)
 */
public record RingOptions(Schedule schedule, int microbatches, int inflight, String partition, String profile, int evalBatch,
                          boolean trace, int replicaEvery, boolean rebalance) {
    public static final String SCHEDULE = "schedule";
    public static final String MICROBATCHES = "microbatches";
    public static final String INFLIGHT = "inflight";
    public static final String PARTITION = "partition";
    public static final String PROFILE = "profile";
    public static final String EVAL_BATCH = "evalBatch";
    public static final String TRACE = "trace";
    public static final String REPLICA_EVERY = "replicaEvery";
    public static final String REBALANCE = "rebalance";
    public static final int DEFAULT_REPLICA_EVERY = 10;
    /** Every ring option key (besides the training options). */
    public static final java.util.Set<String> KEYS = java.util.Set.of(SCHEDULE, MICROBATCHES, INFLIGHT, PARTITION, PROFILE, EVAL_BATCH, TRACE,
            REPLICA_EVERY, REBALANCE);

    /** Reads and checks the options of a ring spec with K nodes. */
    public static RingOptions from(ClusterSpec spec) {
        TrainConfig c = TrainingOptions.config(spec);
        Schedule sch = Schedule.parse(spec.option(SCHEDULE, "1f1b"));
        int m = TrainingOptions.integer(spec, MICROBATCHES, 4);
        if (m < 1 || c.batchSize() % m != 0) {
            throw new SpecException("microbatches must be >= 1 and divide the batch (" + c.batchSize() + "), got " + m);
        }
        int k = spec.size();
        int inflight = TrainingOptions.integer(spec, INFLIGHT, defaultInflight(sch, m, k));
        if (inflight < 1) {
            throw new SpecException("inflight must be >= 1, got " + inflight);
        }
        if (sch == Schedule.GPIPE && inflight < m) {
            throw new SpecException("gpipe runs all " + m + " microbatches forward before any backward: inflight must be >= "
                    + m + ", got " + inflight);
        }
        String partition = spec.option(PARTITION, "auto");
        if (!partition.equals("auto") && !partition.startsWith("manual:")) {
            throw new SpecException("partition must be auto or manual:N,N,... (layers per stage), got '" + partition + "'");
        }
        String profile = spec.option(PROFILE, "measure");
        if (!profile.equals("measure") && !profile.equals("estimate")) {
            throw new SpecException("profile must be measure or estimate, got '" + profile + "'");
        }
        int eval = TrainingOptions.integer(spec, EVAL_BATCH, 500);
        if (eval < 1) {
            throw new SpecException("evalBatch must be >= 1, got " + eval);
        }
        int replicaEvery = TrainingOptions.integer(spec, REPLICA_EVERY, DEFAULT_REPLICA_EVERY);
        if (replicaEvery < 0) {
            throw new SpecException("replicaEvery must be >= 0 (0 turns failover off), got " + replicaEvery);
        }
        return new RingOptions(sch, m, inflight, partition, profile, eval, TrainingOptions.flag(spec, TRACE), replicaEvery,
                !spec.option(REBALANCE, "true").equals("false"));
    }

    /** Rows per microbatch for {@code config}'s batch. */
    public int microbatchRows(TrainConfig config) {
        return config.batchSize() / microbatches;
    }

    /** Whether a dead node's stage is taken over by its buddy (replicas are on). */
    public boolean failover() {
        return replicaEvery > 0;
    }

    /**
     * Activation slots stage {@code k} of {@code stages} needs: M for gpipe; K − k for 1f1b (its
     * steady state), at most M; inflight − k for async (2K − k by default: more microbatches
     * than PipeDream's K cover a gradient's round trip through jittery stages and links, at
     * the price of activations and stashed weight versions).
     */
    public int slots(int k, int stages) {
        return switch (schedule) {
            case GPIPE -> microbatches;
            case ONE_F_ONE_B -> Math.max(1, Math.min(microbatches, stages - k));
            case ASYNC -> Math.max(1, inflight - k);
        };
    }

    /**
     * Credits when {@code inflight} is not set: M for gpipe (a whole mini-batch forward); K for
     * 1f1b (its flush bounds a stage's slots by K − k anyway); 2K for async. PipeDream's K keeps
     * an async pipe full only when every operation takes exactly its expected time and messages
     * arrive at once: with K, stage k's K − k slots are all taken while the oldest gradient is
     * still on its way back, and a stage idles (measured on W2 with 4 half-core devices: 12-20%
     * idle with K, 3-11% with 2K, 262 → 275 samples/s; docs/benchmarks.md).
     */
    public static int defaultInflight(Schedule schedule, int microbatches, int nodes) {
        return switch (schedule) {
            case GPIPE -> microbatches;
            case ONE_F_ONE_B -> nodes;
            case ASYNC -> 2 * nodes;
        };
    }
}
