package io.ringtmp.ring;

import io.ringtmp.nn.LayerCost;
import io.ringtmp.nn.Sequential;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Cuts a model's layers into K contiguous stages, stage k on node k (ring order).
 *
 * <p>{@code auto} minimises the slowest stage's time — the pipeline's period — where a stage's
 * time is the sum of its layers' forward+backward seconds divided by its node's speed, subject
 * to every stage fitting its node's memory budget. Exact, by dynamic programming over (layers,
 * nodes): O(L²·K). {@code manual:3,2,2} takes the stage sizes as given and only checks them.
 *
 * <p>A stage's memory is its parameters times {@link MemoryModel#copiesPerParameter()} (the
 * weights, their gradients, the optimiser's state and any stashed weight versions) plus its
 * activations times the microbatches in flight.
 */
public final class Partitioner {
    /**
     * One layer as the partitioner sees it.
     *
     * @param name             layer name
     * @param seconds          forward + backward time of one microbatch on a speed-1 node
     * @param parameterBytes   bytes of its parameters
     * @param activationBytes  bytes it keeps per microbatch between forward and backward
     */
    public record LayerProfile(String name, double seconds, long parameterBytes, long activationBytes) {
    }

    /**
     * One node as the partitioner sees it.
     *
     * @param id           node id (its position in the ring)
     * @param speed        relative speed (1.0 = the speed the layer times were measured at)
     * @param memoryBytes  memory budget; {@link Long#MAX_VALUE} for none
     */
    public record NodeProfile(int id, double speed, long memoryBytes) {
        public NodeProfile {
            if (!(speed > 0)) {
                throw new IllegalArgumentException("node " + id + ": speed must be > 0, got " + speed);
            }
        }
    }

    /**
     * How memory scales.
     *
     * @param copiesPerParameter  parameter-sized tensors per parameter: weights, gradients,
     *                            optimiser state (1 for momentum, 2 for Adam), stashed versions
     * @param inFlight            microbatches whose activations a stage holds at once
     */
    public record MemoryModel(int copiesPerParameter, int inFlight) {
        public MemoryModel {
            if (copiesPerParameter < 1 || inFlight < 1) {
                throw new IllegalArgumentException("copiesPerParameter and inFlight must be >= 1, got "
                        + copiesPerParameter + " and " + inFlight);
            }
        }
    }

    /**
     * A partition.
     *
     * @param cuts          K+1 layer indices: stage k holds layers {@code [cuts[k], cuts[k+1])}
     * @param stageSeconds  predicted time per microbatch of each stage on its node
     * @param stageBytes    predicted memory of each stage
     */
    public record Plan(List<Integer> cuts, List<Double> stageSeconds, List<Long> stageBytes) {
        public int stages() {
            return cuts.size() - 1;
        }

        /** The slowest stage's time: the pipeline's period. */
        public double periodSeconds() {
            return stageSeconds.stream().mapToDouble(Double::doubleValue).max().orElse(0);
        }

        /** One line per stage, for the log: layers, predicted time and memory. */
        public String describe(List<LayerProfile> layers) {
            StringBuilder sb = new StringBuilder();
            for (int k = 0; k < stages(); k++) {
                sb.append(String.format(Locale.ROOT, "stage %d: layers %s..%s (%d), %.3f ms per microbatch, %.1f MiB%n", k,
                        layers.get(cuts.get(k)).name(), layers.get(cuts.get(k + 1) - 1).name(), cuts.get(k + 1) - cuts.get(k),
                        stageSeconds.get(k) * 1e3, stageBytes.get(k) / 1048576.0));
            }
            return sb.toString();
        }
    }

    private Partitioner() {
    }

    /**
     * Layer profiles of {@code model} estimated from its FLOP counts at {@code flopsPerSecond}
     * for a microbatch of {@code microbatch} samples (before a measured profile replaces them).
     */
    public static List<LayerProfile> estimate(Sequential model, int microbatch, double flopsPerSecond) {
        List<LayerProfile> out = new ArrayList<>();
        List<LayerCost> costs = model.layerCosts();
        for (int i = 0; i < costs.size(); i++) {
            LayerCost c = costs.get(i);
            out.add(new LayerProfile(model.layers().get(i).name(), c.trainingFlopsPerSample() * (double) microbatch / flopsPerSecond,
                    c.parameterBytes(), c.activationBytesPerSample() * microbatch));
        }
        return out;
    }

    /** {@code auto} or {@code manual:3,2,2}. */
    public static Plan plan(String spec, List<LayerProfile> layers, List<NodeProfile> nodes, MemoryModel memory) {
        String s = spec.trim().toLowerCase(Locale.ROOT);
        if (s.equals("auto")) {
            return auto(layers, nodes, memory);
        }
        if (s.startsWith("manual:")) {
            List<Integer> sizes = new ArrayList<>();
            for (String part : s.substring(7).split(",")) {
                try {
                    sizes.add(Integer.parseInt(part.trim()));
                } catch (NumberFormatException e) {
                    throw new PartitionException("--partition " + spec + ": '" + part + "' is not a number of layers");
                }
            }
            return manual(sizes, layers, nodes, memory);
        }
        throw new PartitionException("--partition " + spec + ": expected auto or manual:N,N,... (layers per stage)");
    }

    /** Checks and prices a partition given as layers per stage. */
    public static Plan manual(List<Integer> sizes, List<LayerProfile> layers, List<NodeProfile> nodes, MemoryModel memory) {
        if (sizes.size() != nodes.size()) {
            throw new PartitionException("manual partition has " + sizes.size() + " stages for " + nodes.size() + " nodes");
        }
        List<Integer> cuts = new ArrayList<>();
        cuts.add(0);
        for (int k = 0; k < sizes.size(); k++) {
            if (sizes.get(k) < 1) {
                throw new PartitionException("manual partition: stage " + k + " has " + sizes.get(k) + " layers; every stage needs at least 1");
            }
            cuts.add(cuts.get(k) + sizes.get(k));
        }
        if (cuts.get(cuts.size() - 1) != layers.size()) {
            throw new PartitionException("manual partition covers " + cuts.get(cuts.size() - 1) + " layers, the model has " + layers.size());
        }
        Plan p = price(cuts, layers, nodes, memory);
        for (int k = 0; k < nodes.size(); k++) {
            if (p.stageBytes().get(k) > nodes.get(k).memoryBytes()) {
                throw new PartitionException(String.format(Locale.ROOT, "manual partition: stage %d needs %.1f MiB, node %d has a budget of %.1f MiB",
                        k, p.stageBytes().get(k) / 1048576.0, nodes.get(k).id(), nodes.get(k).memoryBytes() / 1048576.0));
            }
        }
        return p;
    }

    /** The partition with the smallest period that fits every node's memory. */
    public static Plan auto(List<LayerProfile> layers, List<NodeProfile> nodes, MemoryModel memory) {
        int l = layers.size(), k = nodes.size();
        if (k < 1 || l < k) {
            throw new PartitionException("cannot cut " + l + " layers into " + k + " non-empty stages");
        }
        double[] timePrefix = new double[l + 1];
        long[] paramPrefix = new long[l + 1];
        long[] actPrefix = new long[l + 1];
        for (int i = 0; i < l; i++) {
            timePrefix[i + 1] = timePrefix[i] + layers.get(i).seconds();
            paramPrefix[i + 1] = paramPrefix[i] + layers.get(i).parameterBytes();
            actPrefix[i + 1] = actPrefix[i] + layers.get(i).activationBytes();
        }
        // best[s][j]: smallest period placing layers [0, j) on nodes [0, s); from[s][j]: where stage s-1 starts.
        double[][] best = new double[k + 1][l + 1];
        int[][] from = new int[k + 1][l + 1];
        for (double[] row : best) {
            java.util.Arrays.fill(row, Double.POSITIVE_INFINITY);
        }
        best[0][0] = 0;
        for (int s = 1; s <= k; s++) {
            NodeProfile node = nodes.get(s - 1);
            for (int j = s; j <= l - (k - s); j++) {
                for (int i = s - 1; i < j; i++) {
                    if (best[s - 1][i] == Double.POSITIVE_INFINITY) {
                        continue;
                    }
                    long bytes = bytes(paramPrefix[j] - paramPrefix[i], actPrefix[j] - actPrefix[i], memory);
                    if (bytes > node.memoryBytes()) {
                        continue;
                    }
                    double period = Math.max(best[s - 1][i], (timePrefix[j] - timePrefix[i]) / node.speed());
                    if (period < best[s][j]) {
                        best[s][j] = period;
                        from[s][j] = i;
                    }
                }
            }
        }
        if (best[k][l] == Double.POSITIVE_INFINITY) {
            long total = bytes(paramPrefix[l], actPrefix[l], memory);
            long budgets = nodes.stream().mapToLong(n -> Math.min(n.memoryBytes(), Long.MAX_VALUE / (k + 1))).sum();
            throw new PartitionException(String.format(Locale.ROOT,
                    "the model needs %.1f MiB in all (largest layer %.1f MiB), which no cut into %d stages fits "
                            + "into the nodes' budgets (%.1f MiB together); add nodes or memory, or use fewer microbatches in flight",
                    total / 1048576.0, maxLayerBytes(layers, memory) / 1048576.0, k, budgets / 1048576.0));
        }
        int[] cuts = new int[k + 1];
        cuts[k] = l;
        for (int s = k; s >= 1; s--) {
            cuts[s - 1] = from[s][cuts[s]];
        }
        List<Integer> cutList = new ArrayList<>();
        for (int c : cuts) {
            cutList.add(c);
        }
        return price(cutList, layers, nodes, memory);
    }

    private static long maxLayerBytes(List<LayerProfile> layers, MemoryModel memory) {
        long m = 0;
        for (LayerProfile p : layers) {
            m = Math.max(m, bytes(p.parameterBytes(), p.activationBytes(), memory));
        }
        return m;
    }

    private static long bytes(long params, long activations, MemoryModel memory) {
        return params * memory.copiesPerParameter() + activations * memory.inFlight();
    }

    private static Plan price(List<Integer> cuts, List<LayerProfile> layers, List<NodeProfile> nodes, MemoryModel memory) {
        List<Double> secs = new ArrayList<>();
        List<Long> bytes = new ArrayList<>();
        for (int s = 0; s + 1 < cuts.size(); s++) {
            double t = 0;
            long p = 0, a = 0;
            for (int i = cuts.get(s); i < cuts.get(s + 1); i++) {
                t += layers.get(i).seconds();
                p += layers.get(i).parameterBytes();
                a += layers.get(i).activationBytes();
            }
            secs.add(t / nodes.get(s).speed());
            bytes.add(bytes(p, a, memory));
        }
        return new Plan(List.copyOf(cuts), secs, bytes);
    }
}
