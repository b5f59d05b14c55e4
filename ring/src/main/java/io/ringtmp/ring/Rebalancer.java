package io.ringtmp.ring;

import java.util.ArrayList;
import java.util.List;

/**
 * Re-balances a ring after a takeover: the member that took a dead node's layers over runs two
 * stages' worth, and would halve the ring's speed for the rest of the run. New cuts for the same
 * members minimise the slowest member's time per microbatch, with each cut moving at most across
 * the ranges on either side of it, so that every layer moves to a neighbour or stays (a move is
 * one hop: the layer's state goes over a link the ring has). Among equally fast cuts, the one
 * that moves the fewest layers, and only cuts whose every member fits its memory budget (when
 * the plan has memory figures). A node that rejoins enters with no layers and takes them from
 * its neighbours the same way. A pure function: every survivor computes the same cuts.
 */
final class Rebalancer {
    private Rebalancer() {
    }

    /**
     * @param m            the membership after the takeover
     * @param layerSeconds each layer's time per microbatch at speed 1
     * @param speeds       each node's speed, by id
     * @return the re-balanced membership (same epoch and members), or {@code m} when no cut moves
     */
    static Membership rebalance(Membership m, List<Double> layerSeconds, List<Double> speeds) {
        return rebalance(m, layerSeconds, speeds, List.of(), List.of());
    }

    /** The same for {@code plan}'s layer times, speeds, layer memory and budgets. */
    static Membership rebalance(Membership m, RingPlan plan) {
        return rebalance(m, plan.layerSeconds(), plan.speeds(), plan.layerBytes(), plan.budgets());
    }

    /**
     * @param layerBytes each layer's predicted memory (empty: no memory check)
     * @param budgets    each node's memory budget, by id
     */
    static Membership rebalance(Membership m, List<Double> layerSeconds, List<Double> speeds, List<Long> layerBytes, List<Long> budgets) {
        int n = m.size(), layers = layerSeconds.size();
        List<Integer> old = m.cuts();
        if (n < 2 || layers != old.get(n)) {
            return m;
        }
        double[] prefix = new double[layers + 1];
        long[] bytes = new long[layers + 1];
        boolean memory = layerBytes.size() == layers;
        for (int l = 0; l < layers; l++) {
            prefix[l + 1] = prefix[l] + layerSeconds.get(l);
            bytes[l + 1] = bytes[l] + (memory ? layerBytes.get(l) : 0);
        }
        // best[k][c]: the slowest time of members 0..k-1 with member k starting at layer c; moved: layers moved so far.
        double[][] best = new double[n + 1][layers + 1];
        int[][] moved = new int[n + 1][layers + 1];
        int[][] from = new int[n + 1][layers + 1];
        for (double[] row : best) {
            java.util.Arrays.fill(row, Double.POSITIVE_INFINITY);
        }
        best[0][0] = 0;
        for (int k = 1; k <= n; k++) {
            // A cut moves at most across the ranges on either side, so that every layer moves one hop
            // at most (a member may hand all its layers to one neighbour and take others from the
            // other); every member keeps at least one layer (p < c below).
            int lo = k == n ? layers : old.get(k - 1), hi = k == n ? layers : old.get(k + 1);
            int node = m.members().get(k - 1);
            double speed = speeds.size() > node ? speeds.get(node) : 1;
            long budget = budgets.size() > node ? budgets.get(node) : Long.MAX_VALUE;
            for (int c = Math.max(lo, 1); c <= hi; c++) {
                for (int p = 0; p < c; p++) {
                    if (best[k - 1][p] == Double.POSITIVE_INFINITY || bytes[c] - bytes[p] > budget) {
                        continue;
                    }
                    double t = Math.max(best[k - 1][p], (prefix[c] - prefix[p]) / Math.max(speed, 1e-9));
                    int mv = moved[k - 1][p] + Math.abs(c - old.get(k));
                    if (t < best[k][c] - 1e-12 || Math.abs(t - best[k][c]) <= 1e-12 && mv < moved[k][c]) {
                        best[k][c] = t;
                        moved[k][c] = mv;
                        from[k][c] = p;
                    }
                }
            }
        }
        if (best[n][layers] == Double.POSITIVE_INFINITY) {
            return m;
        }
        List<Integer> cuts = new ArrayList<>();
        for (int k = n, c = layers; k >= 0; c = from[k][c], k--) {
            cuts.add(0, c);
            if (k == 0) {
                break;
            }
        }
        return cuts.equals(old) ? m : new Membership(m.epoch(), m.members(), cuts);
    }
}
