package io.ringtmp.data;

import io.ringtmp.tensor.Rng;
import java.util.Arrays;

/**
 * The order in which a data set of {@code size} examples is visited, epoch by epoch, and how it
 * is split among workers.
 *
 * <p>Shuffling rule: the order of epoch {@code e} is a Fisher-Yates shuffle of
 * {@code 0 .. size-1} driven by {@code new Rng(Rng.derive(seed, "epoch-" + e))}; it depends only
 * on {@code (seed, size, e)}, so every worker computes the same order without talking, and
 * epochs differ from one another.
 *
 * <p>Sharding rule: contiguous blocks. Of {@code n} positions, worker {@code w} of {@code W}
 * gets positions {@code [floor(w*n/W), floor((w+1)*n/W))} of the epoch's order. The shards are
 * disjoint, together cover every example exactly once, and differ in size by at most one.
 *
 * <p>Immutable and thread-safe; every call returns a new array.
 */
public final class EpochOrder {
    private final long seed;
    private final int size;

    /** The order for a set of {@code size} examples under {@code seed} (usually derived from the run seed). */
    public EpochOrder(long seed, int size) {
        if (size < 0) {
            throw new IllegalArgumentException("size must be >= 0, got " + size);
        }
        this.seed = seed;
        this.size = size;
    }

    public long seed() {
        return seed;
    }

    public int size() {
        return size;
    }

    /** The permutation of {@code 0 .. size-1} for {@code epoch}. */
    public int[] permutation(int epoch) {
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch must be >= 0, got " + epoch);
        }
        int[] order = new int[size];
        for (int i = 0; i < size; i++) {
            order[i] = i;
        }
        new Rng(Rng.derive(seed, "epoch-" + epoch)).shuffle(order);
        return order;
    }

    /** Worker {@code worker}'s share of {@link #permutation(int) permutation(epoch)}. */
    public int[] shard(int epoch, int worker, int workers) {
        return shard(permutation(epoch), worker, workers);
    }

    /** Worker {@code worker}'s contiguous block of {@code order}; see the class doc for the rule. */
    public static int[] shard(int[] order, int worker, int workers) {
        if (workers >= 1 && (worker < 0 || worker >= workers)) {
            throw new IllegalArgumentException("worker must be in 0.." + (workers - 1) + ", got " + worker);
        }
        return Arrays.copyOfRange(order, shardStart(order.length, worker, workers),
                shardStart(order.length, worker + 1, workers));
    }

    /**
     * Where worker {@code worker}'s block starts among {@code n} positions:
     * {@code floor(worker * n / workers)}; {@code shardStart(n, workers, workers) == n}.
     */
    public static int shardStart(int n, int worker, int workers) {
        if (workers < 1) {
            throw new IllegalArgumentException("workers must be at least 1, got " + workers);
        }
        if (worker < 0 || worker > workers) {
            throw new IllegalArgumentException("worker must be in 0.." + (workers - 1) + ", got " + worker);
        }
        if (n < 0) {
            throw new IllegalArgumentException("n must be >= 0, got " + n);
        }
        return (int) ((long) worker * n / workers);
    }

    @Override
    public String toString() {
        return "EpochOrder[seed=" + seed + ", size=" + size + "]";
    }
}
