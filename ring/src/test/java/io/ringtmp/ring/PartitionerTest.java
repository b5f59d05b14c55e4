package io.ringtmp.ring;

import io.ringtmp.nn.Sequential;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PartitionerTest {
    private static final Partitioner.MemoryModel MOMENTUM = new Partitioner.MemoryModel(3, 4);

    private static List<Partitioner.LayerProfile> equalLayers(int n) {
        List<Partitioner.LayerProfile> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(new Partitioner.LayerProfile("l" + i, 1.0, 1000, 100, 100));
        }
        return l;
    }

    private static List<Partitioner.NodeProfile> nodes(double... speeds) {
        List<Partitioner.NodeProfile> n = new ArrayList<>();
        for (int i = 0; i < speeds.length; i++) {
            n.add(new Partitioner.NodeProfile(i, speeds[i], Long.MAX_VALUE));
        }
        return n;
    }

    @Test
    void equalLayers_equalNodes_splitEvenly() {
        Partitioner.Plan p = Partitioner.auto(equalLayers(8), nodes(1, 1, 1, 1), MOMENTUM);
        assertEquals(List.of(0, 2, 4, 6, 8), p.cuts());
        assertEquals(2.0, p.periodSeconds(), 1e-12);
    }

    @Test
    void slowerNode_getsALighterStage() {
        Partitioner.Plan p = Partitioner.auto(equalLayers(6), nodes(1, 0.5), MOMENTUM);
        assertEquals(List.of(0, 4, 6), p.cuts());
        assertEquals(4.0, p.periodSeconds(), 1e-12);
    }

    @Test
    void unevenLayers_minimiseTheSlowestStage() {
        List<Partitioner.LayerProfile> l = List.of(new Partitioner.LayerProfile("a", 5, 1, 1, 1), new Partitioner.LayerProfile("b", 1, 1, 1, 1),
                new Partitioner.LayerProfile("c", 1, 1, 1, 1), new Partitioner.LayerProfile("d", 1, 1, 1, 1), new Partitioner.LayerProfile("e", 4, 1, 1, 1));
        Partitioner.Plan p = Partitioner.auto(l, nodes(1, 1, 1), MOMENTUM);
        assertEquals(5.0, p.periodSeconds(), 1e-12, "the heaviest layer alone sets the period");
        assertEquals(1, p.cuts().get(1), "layer a gets a stage of its own");
    }

    @Test
    void memoryBudget_movesLayersOffASmallNode() {
        List<Partitioner.NodeProfile> n = List.of(new Partitioner.NodeProfile(0, 1, 2 * (3 * 1000 + 4 * 100)),
                new Partitioner.NodeProfile(1, 1, Long.MAX_VALUE));
        Partitioner.Plan p = Partitioner.auto(equalLayers(8), n, MOMENTUM);
        assertEquals(List.of(0, 2, 8), p.cuts(), "node 0 holds at most two layers");
        assertTrue(p.stageBytes().get(0) <= n.get(0).memoryBytes());
    }

    @Test
    void modelThatFitsNowhere_isRefusedWithSizes() {
        List<Partitioner.NodeProfile> n = List.of(new Partitioner.NodeProfile(0, 1, 100), new Partitioner.NodeProfile(1, 1, 100));
        PartitionException e = assertThrows(PartitionException.class, () -> Partitioner.auto(equalLayers(4), n, MOMENTUM));
        assertTrue(e.getMessage().contains("MiB") && e.getMessage().contains("2 stages"), e.getMessage());
    }

    @Test
    void manual_isCheckedAndPriced() {
        Partitioner.Plan p = Partitioner.plan("manual:3,2,2", equalLayers(7), nodes(1, 1, 1), MOMENTUM);
        assertEquals(List.of(0, 3, 5, 7), p.cuts());
        assertEquals(3.0, p.periodSeconds(), 1e-12);
        assertTrue(assertThrows(PartitionException.class, () -> Partitioner.plan("manual:3,2", equalLayers(7), nodes(1, 1, 1), MOMENTUM))
                .getMessage().contains("2 stages for 3 nodes"));
        assertTrue(assertThrows(PartitionException.class, () -> Partitioner.plan("manual:3,2,3", equalLayers(7), nodes(1, 1, 1), MOMENTUM))
                .getMessage().contains("covers 8 layers, the model has 7"));
        assertTrue(assertThrows(PartitionException.class, () -> Partitioner.plan("manual:3,x,3", equalLayers(7), nodes(1, 1, 1), MOMENTUM))
                .getMessage().contains("'x'"));
        assertTrue(assertThrows(PartitionException.class, () -> Partitioner.plan("greedy", equalLayers(7), nodes(1, 1, 1), MOMENTUM))
                .getMessage().contains("expected auto or manual"));
    }

    @Test
    void realModel_estimatedFromFlops_everyStageNonEmpty_andDescribed() {
        Sequential m = io.ringtmp.train.Workload.W2.spec().build(1);
        List<Partitioner.LayerProfile> l = Partitioner.estimate(m, 64, 1e11);
        Partitioner.Plan p = Partitioner.auto(l, nodes(1, 1, 1, 1), MOMENTUM);
        assertEquals(5, p.cuts().size());
        for (int k = 0; k < 4; k++) {
            assertTrue(p.cuts().get(k + 1) > p.cuts().get(k));
        }
        // The three 4096x4096 layers dominate: each gets a stage of its own.
        assertTrue(p.periodSeconds() < 1.2 * l.get(2).seconds() + l.get(3).seconds(), p.describe(l));
        assertTrue(p.describe(l).contains("stage 3: layers"), p.describe(l));
    }
    /**
     * 784-300-200-100-10 with the layer times {@link Profiler#measure} gave on the project's
     * machine kind (2-core Zen 5, OpenBLAS Haswell kernels, 32 rows, a warmed JVM), in microseconds:
     * fc1 dominates, so every cut with fc1 alone ties on the period.
     */
    private static List<Partitioner.LayerProfile> mlp784_300_200_100_10(double... micros) {
        Sequential m = io.ringtmp.nn.ModelSpec.parse("mlp:784-300-200-100-10").build(1);
        List<Partitioner.LayerProfile> flops = Partitioner.estimate(m, 32, 1e11);
        List<Partitioner.LayerProfile> l = new ArrayList<>();
        for (int i = 0; i < flops.size(); i++) {
            Partitioner.LayerProfile f = flops.get(i);
            l.add(new Partitioner.LayerProfile(f.name(), micros[i] * 1e-6, f.parameterBytes(), f.activationBytes(), f.outputBytes()));
        }
        return l;
    }

    private static void assertEachDenseLayerAlone(Partitioner.Plan p, List<Partitioner.LayerProfile> l) {
        for (int k = 0; k < p.stages(); k++) {
            long dense = l.subList(p.cuts().get(k), p.cuts().get(k + 1)).stream().filter(x -> x.name().startsWith("fc")).count();
            assertEquals(1, dense, "stage " + k + " of\n" + p.describe(l));
        }
    }

    @Test
    void slowestLayerDecides_measuredMlp784_300_200_100_10_onFourNodes_eachDenseLayerOnItsOwnStage() {
        // Two profiles measured after warm-up (fc1 relu1 fc2 relu2 fc3 relu3 fc4). In the second the
        // least sum of squares alone would give relu1 a node (4.29 * 120.10 > 64.84 * 7.53).
        for (double[] us : List.of(new double[] {274.49, 4.90, 122.90, 3.48, 103.18, 1.77, 5.90},
                new double[] {272.90, 4.29, 120.10, 3.04, 61.80, 1.66, 5.87})) {
            List<Partitioner.LayerProfile> l = mlp784_300_200_100_10(us);
            Partitioner.Plan p = Partitioner.auto(l, nodes(1, 1, 1, 1), MOMENTUM);
            assertEquals(l.get(0).seconds(), p.periodSeconds(), 1e-15, "fc1 alone sets the period");
            assertEachDenseLayerAlone(p, l);
            assertEquals(List.of(0, 1, 3, 5, 7), p.cuts(), "each ReLU joins the lighter of its neighbours: " + p.describe(l));
        }
    }

    @Test
    void slowestLayerDecides_flopEstimate_eachDenseLayerOnItsOwnStage() {
        Sequential m = io.ringtmp.nn.ModelSpec.parse("mlp:784-300-200-100-10").build(1);
        List<Partitioner.LayerProfile> l = Partitioner.estimate(m, 32, 1e11);
        Partitioner.Plan p = Partitioner.auto(l, nodes(1, 1, 1, 1), MOMENTUM);
        assertEachDenseLayerAlone(p, l);
        assertEquals(l.get(0).seconds(), p.periodSeconds(), 1e-15);
    }

    @Test
    void evenTie_fewerBytesAcrossTheCutDecides() {
        // b weighs nothing, so a | b c and a b | c are equally even; the cut after the narrower output wins.
        for (long[] out : List.of(new long[] {400, 40}, new long[] {40, 400})) {
            List<Partitioner.LayerProfile> l = List.of(new Partitioner.LayerProfile("a", 1, 1, 1, out[0]),
                    new Partitioner.LayerProfile("b", 0, 0, 1, out[1]), new Partitioner.LayerProfile("c", 1, 1, 1, 4));
            Partitioner.Plan p = Partitioner.auto(l, nodes(1, 1), MOMENTUM);
            assertEquals(out[0] < out[1] ? List.of(0, 1, 3) : List.of(0, 2, 3), p.cuts(), "outputs " + out[0] + ", " + out[1]);
        }
    }

    /** One cut found by enumerating every cut, with the figures of the documented order: period, lightest stage, squares, bytes. */
    private record Candidate(List<Integer> cuts, double period, double lightest, double squares, long crossing) {
    }

    private static List<Candidate> everyFeasibleCut(List<Partitioner.LayerProfile> l, List<Partitioner.NodeProfile> n) {
        List<Candidate> out = new ArrayList<>();
        enumerate(l, n, new ArrayList<>(List.of(0)), out);
        return out;
    }

    private static void enumerate(List<Partitioner.LayerProfile> l, List<Partitioner.NodeProfile> n, List<Integer> cuts, List<Candidate> out) {
        int s = cuts.size() - 1, from = cuts.get(s);
        if (s == n.size() - 1) {
            cuts.add(l.size());
            Candidate c = price(l, n, cuts);
            if (c != null) {
                out.add(c);
            }
            cuts.remove(cuts.size() - 1);
            return;
        }
        for (int to = from + 1; to <= l.size() - (n.size() - 1 - s); to++) {
            cuts.add(to);
            enumerate(l, n, cuts, out);
            cuts.remove(cuts.size() - 1);
        }
    }

    /** The candidate's figures summed layer by layer; null where a stage exceeds its node's memory. */
    private static Candidate price(List<Partitioner.LayerProfile> l, List<Partitioner.NodeProfile> n, List<Integer> cuts) {
        double period = 0, lightest = Double.POSITIVE_INFINITY, squares = 0;
        long crossing = 0;
        for (int k = 0; k + 1 < cuts.size(); k++) {
            double t = 0;
            long bytes = 0;
            for (int i = cuts.get(k); i < cuts.get(k + 1); i++) {
                t += l.get(i).seconds();
                bytes += l.get(i).parameterBytes() * MOMENTUM.copiesPerParameter() + l.get(i).activationBytes() * MOMENTUM.inFlight();
            }
            if (bytes > n.get(k).memoryBytes()) {
                return null;
            }
            t /= n.get(k).speed();
            period = Math.max(period, t);
            lightest = Math.min(lightest, t);
            squares += t * t;
            if (k > 0) {
                crossing += l.get(cuts.get(k) - 1).outputBytes();
            }
        }
        return new Candidate(List.copyOf(cuts), period, lightest, squares, crossing);
    }

    @Test
    void randomProfiles_periodIsTheBruteForceMinimum_andTheTieBreaksPickTheBruteForceBest() {
        Random rnd = new Random(15);
        int checked = 0;
        for (int trial = 0; trial < 300; trial++) {
            int layers = 2 + rnd.nextInt(8);
            int k = 1 + rnd.nextInt(Math.min(layers, 5));
            List<Partitioner.LayerProfile> l = new ArrayList<>();
            for (int i = 0; i < layers; i++) {
                // Half the trials draw from a few values, so that periods and squares tie often.
                double t = trial % 2 == 0 ? 1 + rnd.nextInt(3) : Math.exp(4 * rnd.nextDouble()) * 1e-4;
                l.add(new Partitioner.LayerProfile("l" + i, t, rnd.nextInt(1000), rnd.nextInt(100), 4L * (1 + rnd.nextInt(64))));
            }
            List<Partitioner.NodeProfile> n = new ArrayList<>();
            for (int i = 0; i < k; i++) {
                long budget = trial % 3 == 0 ? 3000L + rnd.nextInt(4000) : Long.MAX_VALUE;
                n.add(new Partitioner.NodeProfile(i, trial % 4 == 1 ? 0.25 + rnd.nextDouble() : 1, budget));
            }
            List<Candidate> all = everyFeasibleCut(l, n);
            if (all.isEmpty()) {
                assertThrows(PartitionException.class, () -> Partitioner.auto(l, n, MOMENTUM));
                continue;
            }
            Partitioner.Plan p = Partitioner.auto(l, n, MOMENTUM);
            Candidate chosen = price(l, n, p.cuts());
            assertNotNull(chosen, "the chosen cut fits the budgets: " + p.cuts());
            double min = all.stream().mapToDouble(Candidate::period).min().orElseThrow();
            String where = "trial " + trial + ", cut " + p.cuts();
            assertEquals(min, chosen.period(), 1e-12 * min, "never worse than the minimum period: " + where);
            List<Candidate> tied = all.stream().filter(c -> c.period() <= min * (1 + 1e-12)).toList();
            double lightest = tied.stream().mapToDouble(Candidate::lightest).max().orElseThrow();
            assertEquals(lightest, chosen.lightest(), 1e-12 * lightest, "the heaviest lightest stage: " + where);
            Candidate best = tied.stream().filter(c -> c.lightest() >= lightest * (1 - 1e-12))
                    .min(Comparator.comparingDouble(Candidate::squares).thenComparingLong(Candidate::crossing)).orElseThrow();
            assertEquals(best.squares(), chosen.squares(), 1e-9 * best.squares(), where + ", brute force " + best.cuts());
            if (Math.abs(best.squares() - chosen.squares()) <= 1e-12 * best.squares()) {
                assertEquals(best.crossing(), chosen.crossing(), where + ", brute force " + best.cuts());
            }
            checked++;
        }
        assertTrue(checked > 200, "most trials had a feasible cut: " + checked);
    }
}
