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
 * to every stage fitting its node's memory budget. When one layer is so heavy that it alone sets
 * the period, many cuts tie on it, and {@code auto} breaks the tie, among the cuts with that
 * period only (so the period is never worse than the plain minimum), by:
 * <ol>
 *   <li>the heaviest lightest stage: a stage of one light layer (a ReLU) is what a tied cut can
 *       leave a node with, and it only adds a hop, while a neighbour's dense layer could take it;
 *   <li>then the least sum of squared stage times (the most even among the rest);
 *   <li>then the fewest bytes across the cuts (each cut's activation forward and its gradient
 *       back: the output width of the layer before it).
 * </ol>
 * On 784-300-200-100-10 over four nodes this gives every dense layer a stage of its own, each
 * ReLU with the lighter of its two dense neighbours (fc1 | relu1 fc2 | relu2 fc3 | relu3 fc4);
 * by the period alone relu1 got a node. Exact: three dynamic programmes over (layers, nodes), O(L²·K) each. {@code manual:3,2,2} takes
 * the stage sizes as given and only checks them.
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
     * @param outputBytes      bytes of its output per microbatch: what a cut right after it sends
     *                         forward (and receives back as the gradient)
     */
    public record LayerProfile(String name, double seconds, long parameterBytes, long activationBytes, long outputBytes) {
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
                    c.parameterBytes(), c.activationBytesPerSample() * microbatch, outputBytes(model.slice(i, i + 1), microbatch)));
        }
        return out;
    }

    /** Bytes of {@code layer}'s float32 output for {@code rows} rows. */
    public static long outputBytes(Sequential layer, int rows) {
        return (long) Float.BYTES * layer.outputSize() * rows;
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

    /**
     * The partition with the smallest period that fits every node's memory; among those, the one
     * whose lightest stage is heaviest, then the most even (least sum of squared stage times),
     * then the one with the fewest bytes across its cuts.
     */
    public static Plan auto(List<LayerProfile> layers, List<NodeProfile> nodes, MemoryModel memory) {
        int l = layers.size(), k = nodes.size();
        if (k < 1 || l < k) {
            throw new PartitionException("cannot cut " + l + " layers into " + k + " non-empty stages");
        }
        Prefix prefix = new Prefix(layers, memory);
        double period = minPeriod(prefix, nodes);
        if (period == Double.POSITIVE_INFINITY) {
            long total = prefix.bytes(0, l);
            long budgets = nodes.stream().mapToLong(n -> Math.min(n.memoryBytes(), Long.MAX_VALUE / (k + 1))).sum();
            throw new PartitionException(String.format(Locale.ROOT,
                    "the model needs %.1f MiB in all (largest layer %.1f MiB), which no cut into %d stages fits "
                            + "into the nodes' budgets (%.1f MiB together); add nodes or memory, or use fewer microbatches in flight",
                    total / 1048576.0, maxLayerBytes(layers, memory) / 1048576.0, k, budgets / 1048576.0));
        }
        double lightest = maxLightest(prefix, nodes, period);
        return price(evenestWithin(prefix, nodes, lightest, period), layers, nodes, memory);
    }

    /** Running sums over the layers, so that a stage's time and bytes cost O(1). */
    private static final class Prefix {
        final int layers;
        final double[] seconds;
        final long[] params;
        final long[] activations;
        final long[] output;
        final MemoryModel memory;

        Prefix(List<LayerProfile> profile, MemoryModel memory) {
            layers = profile.size();
            seconds = new double[layers + 1];
            params = new long[layers + 1];
            activations = new long[layers + 1];
            output = new long[layers];
            this.memory = memory;
            for (int i = 0; i < layers; i++) {
                LayerProfile p = profile.get(i);
                seconds[i + 1] = seconds[i] + p.seconds();
                params[i + 1] = params[i] + p.parameterBytes();
                activations[i + 1] = activations[i] + p.activationBytes();
                output[i] = p.outputBytes();
            }
        }

        /** Time of layers [i, j) on {@code node}; both searches compute it the same way, bit for bit. */
        double seconds(int i, int j, NodeProfile node) {
            return (seconds[j] - seconds[i]) / node.speed();
        }

        long bytes(int i, int j) {
            return Partitioner.bytes(params[j] - params[i], activations[j] - activations[i], memory);
        }

        boolean fits(int i, int j, NodeProfile node) {
            return bytes(i, j) <= node.memoryBytes();
        }
    }

    /** The smallest period of any cut that fits the budgets; infinity when none fits. */
    private static double minPeriod(Prefix p, List<NodeProfile> nodes) {
        int l = p.layers, k = nodes.size();
        // best[s][j]: smallest period placing layers [0, j) on nodes [0, s).
        double[][] best = table(k, l, Double.POSITIVE_INFINITY);
        best[0][0] = 0;
        for (int s = 1; s <= k; s++) {
            NodeProfile node = nodes.get(s - 1);
            for (int j = s; j <= l - (k - s); j++) {
                for (int i = s - 1; i < j; i++) {
                    if (best[s - 1][i] != Double.POSITIVE_INFINITY && p.fits(i, j, node)) {
                        best[s][j] = Math.min(best[s][j], Math.max(best[s - 1][i], p.seconds(i, j, node)));
                    }
                }
            }
        }
        return best[k][l];
    }

    /**
     * The heaviest lightest stage of any cut that fits the budgets and whose every stage takes at
     * most {@code period} (reachable: the plain minimum).
     */
    private static double maxLightest(Prefix p, List<NodeProfile> nodes, double period) {
        int l = p.layers, k = nodes.size();
        // best[s][j]: the heaviest lightest stage placing layers [0, j) on nodes [0, s); -1: none.
        double[][] best = table(k, l, -1);
        best[0][0] = Double.POSITIVE_INFINITY;
        for (int s = 1; s <= k; s++) {
            NodeProfile node = nodes.get(s - 1);
            for (int j = s; j <= l - (k - s); j++) {
                for (int i = s - 1; i < j; i++) {
                    double t = p.seconds(i, j, node);
                    if (best[s - 1][i] >= 0 && t <= period && p.fits(i, j, node)) {
                        best[s][j] = Math.max(best[s][j], Math.min(best[s - 1][i], t));
                    }
                }
            }
        }
        if (best[k][l] < 0) {
            throw new IllegalStateException("no cut within the minimum period " + period + ": the searches disagree");
        }
        return best[k][l];
    }

    /**
     * The cut points of the cut whose every stage fits its budget and takes between
     * {@code lightest} and {@code period} (both reachable), with the least sum of squared stage
     * times, and among equals the fewest bytes across its cuts. Both sums add up stage by stage,
     * so the dynamic programme keeps that order exactly.
     */
    private static List<Integer> evenestWithin(Prefix p, List<NodeProfile> nodes, double lightest, double period) {
        int l = p.layers, k = nodes.size();
        // squares[s][j], crossing[s][j]: the best placement of layers [0, j) on nodes [0, s);
        // from[s][j]: where its stage s-1 starts.
        double[][] squares = table(k, l, Double.POSITIVE_INFINITY);
        long[][] crossing = new long[k + 1][l + 1];
        int[][] from = new int[k + 1][l + 1];
        squares[0][0] = 0;
        for (int s = 1; s <= k; s++) {
            NodeProfile node = nodes.get(s - 1);
            for (int j = s; j <= l - (k - s); j++) {
                for (int i = s - 1; i < j; i++) {
                    double t = p.seconds(i, j, node);
                    if (squares[s - 1][i] == Double.POSITIVE_INFINITY || t > period || t < lightest || !p.fits(i, j, node)) {
                        continue;
                    }
                    double q = squares[s - 1][i] + t * t;
                    // A stage after the first receives the output of layer i - 1 (and sends its gradient back).
                    long b = crossing[s - 1][i] + (i > 0 ? p.output[i - 1] : 0);
                    if (q < squares[s][j] || (q == squares[s][j] && b < crossing[s][j])) {
                        squares[s][j] = q;
                        crossing[s][j] = b;
                        from[s][j] = i;
                    }
                }
            }
        }
        if (squares[k][l] == Double.POSITIVE_INFINITY) {
            throw new IllegalStateException("no cut with stages in [" + lightest + ", " + period + "]: the searches disagree");
        }
        Integer[] cuts = new Integer[k + 1];
        cuts[k] = l;
        for (int s = k; s >= 1; s--) {
            cuts[s - 1] = from[s][cuts[s]];
        }
        return List.of(cuts);
    }

    private static double[][] table(int stages, int layers, double fill) {
        double[][] t = new double[stages + 1][layers + 1];
        for (double[] row : t) {
            java.util.Arrays.fill(row, fill);
        }
        return t;
    }

    private static long maxLayerBytes(List<LayerProfile> layers, MemoryModel memory) {
        long m = 0;
        for (LayerProfile p : layers) {
            m = Math.max(m, bytes(p.parameterBytes(), p.activationBytes(), memory));
        }
        return m;
    }

    /** Each layer's predicted memory under {@code memory} (a stage's is the sum of its layers'). */
    public static List<Long> layerBytes(List<LayerProfile> layers, MemoryModel memory) {
        return layers.stream().map(l -> bytes(l.parameterBytes(), l.activationBytes(), memory)).toList();
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
