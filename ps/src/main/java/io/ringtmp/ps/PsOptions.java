package io.ringtmp.ps;

import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.SpecException;
import io.ringtmp.node.TrainingOptions;
import io.ringtmp.nn.optim.OptimizerConfig;
import io.ringtmp.train.TrainConfig;

/**
 * The parameter-server options of a cluster spec, besides the shared training options of
 * {@link TrainingOptions}. Node layout: ids {@code 0..S-1} are the servers (server s holds key
 * range s), ids {@code S..N-1} the workers (worker w is node {@code S + w}); worker 0 evaluates
 * and writes the final model.
 *
 * <p>Spec options (strings): {@code servers} (default 1; at least 1 and fewer than the nodes),
 * {@code consistency} ({@code bsp}, {@code asp} or {@code ssp}; default bsp), {@code staleness}
 * (ssp only; default 2; at least 0), {@code chunkFloats} (parameters per message, default
 * 262144 = 1 MiB). The global batch is split into W runs of rows as even as can be (128 rows on
 * 3 workers: 43, 43, 42; {@link #firstRow}, {@link #rows}); every gradient is scaled by 1/B, so
 * their sum is the single-node trainer's whatever the split. The training
 * options {@code checkpointEvery} and {@code resume} need a {@code checkpointDir}.
 *
 * @param servers     S, the number of server nodes
 * @param workers     W, the number of worker nodes (nodes - S)
 * @param consistency when pulls are answered and how pushes are applied
 * @param staleness   ssp: how many steps a worker may run ahead of the slowest (0 otherwise)
 * @param chunkFloats most parameters in one PARAMS or PUSH message
 */
public record PsOptions(int servers, int workers, Consistency consistency, int staleness, int chunkFloats) {
    public static final String SERVERS = "servers";
    public static final String CONSISTENCY = "consistency";
    public static final String STALENESS = "staleness";
    public static final String CHUNK_FLOATS = "chunkFloats";
    /** Every parameter-server option key (besides the training options). */
    public static final java.util.Set<String> KEYS = java.util.Set.of(SERVERS, CONSISTENCY, STALENESS, CHUNK_FLOATS);
    /** Default staleness of ssp. */
    public static final int DEFAULT_STALENESS = 2;
    /**
     * Default parameters per message: 1 MiB, so that bsp's servers stream a model like W1's
     * (670 K parameters) in three chunks (measured faster than 4 MiB, one chunk, and 512 KiB; see
     * docs/parameter-server.md), and below G1's humongous-object size with 32 MiB regions.
     */
    public static final int DEFAULT_CHUNK_FLOATS = 1 << 18;

    public PsOptions {
        if (servers < 1) {
            throw new SpecException("option " + SERVERS + " must be at least 1, got " + servers);
        }
        if (workers < 1) {
            throw new SpecException("option " + SERVERS + " (" + servers + ") must be below the number of nodes ("
                    + (servers + workers) + "): a parameter server needs at least one worker");
        }
        if (consistency == null) {
            throw new SpecException("option " + CONSISTENCY + " is missing (expected bsp, asp or ssp)");
        }
        if (staleness < 0) {
            throw new SpecException("option " + STALENESS + " must be >= 0, got " + staleness);
        }
        if (staleness != 0 && consistency != Consistency.SSP) {
            throw new SpecException("option " + STALENESS + " applies to consistency ssp only, not " + consistency.id());
        }
        if (chunkFloats < 1) {
            throw new SpecException("option " + CHUNK_FLOATS + " must be at least 1, got " + chunkFloats);
        }
    }

    /** The options of {@code spec}, checked against its node count and global batch size. */
    public static PsOptions of(ClusterSpec spec) {
        int servers = TrainingOptions.integer(spec, SERVERS, 1);
        Consistency c = Consistency.parse(spec.option(CONSISTENCY, "bsp"));
        String st = spec.option(STALENESS, null);
        int staleness = TrainingOptions.integer(spec, STALENESS, c == Consistency.SSP ? DEFAULT_STALENESS : 0);
        if (st != null && c != Consistency.SSP) {
            throw new SpecException("option " + STALENESS + " applies to consistency ssp only, not " + c.id());
        }
        PsOptions o = new PsOptions(servers, spec.size() - servers, c, staleness,
                TrainingOptions.integer(spec, CHUNK_FLOATS, DEFAULT_CHUNK_FLOATS));
        TrainConfig config = TrainingOptions.config(spec);
        if (config.batchSize() < o.workers()) {
            throw new SpecException("batch " + config.batchSize() + " is smaller than the " + o.workers()
                    + " workers: each worker needs at least one row of every global batch");
        }
        return o;
    }

    /** How many rows of each global batch of {@code batch} worker {@code w} takes: B/W, one more for the first B mod W. */
    public int rows(int w, int batch) {
        return rows(w, workers, batch);
    }

    /** The first of worker {@code w}'s rows in each global batch: the rows of the workers before it. */
    public int firstRow(int w, int batch) {
        return firstRow(w, workers, batch);
    }

    /** The rows of the worker at {@code rank} among {@code count} live workers (after a worker died, the survivors share its rows). */
    public static int rows(int rank, int count, int batch) {
        return batch / count + (rank < batch % count ? 1 : 0);
    }

    /** The first row of the worker at {@code rank} among {@code count} live workers. */
    public static int firstRow(int rank, int count, int batch) {
        return rank * (batch / count) + Math.min(rank, batch % count);
    }

    /**
     * The run's training configuration: {@link TrainingOptions#config(ClusterSpec)}, except that
     * asp and ssp default to Nesterov momentum when the spec names no optimiser. Plain momentum
     * on gradients computed on stale parameters leaves W1 near its stability edge (asp, 4
     * workers, momentum 0.9: 0.969-0.972 against bsp's 0.978); Nesterov's look-ahead absorbs the
     * delay (0.976-0.977; docs/parameter-server.md). bsp keeps the trainer's default, so that it
     * stays equal to the single-node trainer.
     */
    public static TrainConfig trainConfig(ClusterSpec spec) {
        TrainConfig c = TrainingOptions.config(spec);
        OptimizerConfig o = c.optimizer();
        boolean asynchronous = Consistency.parse(spec.option(CONSISTENCY, "bsp")) != Consistency.BSP;
        if (!asynchronous || spec.option(TrainingOptions.OPTIMIZER, null) != null || o.kind() != OptimizerConfig.Kind.SGD
                || o.momentum() == 0) {
            return c;
        }
        return c.withOptimizer(OptimizerConfig.sgd(o.momentum(), true, o.weightDecay()));
    }

    /** Whether node {@code id} is a server. */
    public boolean isServer(int id) {
        return id < servers;
    }

    /** The worker index of node {@code id} (a worker). */
    public int workerIndex(int id) {
        if (id < servers || id >= servers + workers) {
            throw new IllegalArgumentException("node " + id + " is not a worker (workers are nodes " + servers + ".."
                    + (servers + workers - 1) + ")");
        }
        return id - servers;
    }

    /** The node id of worker {@code w}. */
    public int workerNode(int w) {
        return servers + w;
    }
}
