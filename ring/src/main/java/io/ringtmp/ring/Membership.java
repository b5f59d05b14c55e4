package io.ringtmp.ring;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Who is in the ring now and which layers each member runs: the live nodes in ring order, each
 * with a contiguous layer range, and the epoch (0 at start-up, one more after each repair).
 * Every survivor computes the next membership from the same dead set ({@link #without}), so the
 * members agree on it without a coordinator; the repair token only checks that they do.
 *
 * <p>A member's <em>buddy</em> holds its replica and takes its layers over if it dies: its
 * successor, except for the last member, whose buddy is its predecessor (so that the merged
 * layers stay contiguous: the last member's layers join the one before it, not node 0's).
 *
 * @param epoch   0 at start-up, +1 per repair
 * @param members live node ids in ring order (the first is the feeder)
 * @param cuts    layer boundaries: member k runs layers [cuts[k], cuts[k+1])
 */
record Membership(long epoch, List<Integer> members, List<Integer> cuts) {
    Membership {
        members = List.copyOf(members);
        cuts = List.copyOf(cuts);
        if (cuts.size() != members.size() + 1) {
            throw new IllegalArgumentException(members.size() + " members need " + (members.size() + 1) + " cuts, got " + cuts);
        }
    }

    /** The ring as the plan started it: nodes 0..K−1 with the plan's cuts. */
    static Membership initial(List<Integer> cuts) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i + 1 < cuts.size(); i++) {
            ids.add(i);
        }
        return new Membership(0, ids, cuts);
    }

    int size() {
        return members.size();
    }

    boolean contains(int node) {
        return members.contains(node);
    }

    /** Position of {@code node} in the ring (0 = the feeder). */
    int index(int node) {
        int i = members.indexOf(node);
        if (i < 0) {
            throw new IllegalArgumentException("node " + node + " is not a member of " + this);
        }
        return i;
    }

    int first() {
        return members.get(0);
    }

    int last() {
        return members.get(members.size() - 1);
    }

    int successor(int node) {
        return members.get((index(node) + 1) % members.size());
    }

    int predecessor(int node) {
        return members.get((index(node) - 1 + members.size()) % members.size());
    }

    int from(int node) {
        return cuts.get(index(node));
    }

    int to(int node) {
        return cuts.get(index(node) + 1);
    }

    /** The member that holds {@code node}'s replica and takes its layers over; -1 in a ring of one. */
    int buddy(int node) {
        if (members.size() == 1) {
            return -1;
        }
        return node == last() ? predecessor(node) : successor(node);
    }

    /** The layer ranges a surviving {@code node} runs after the repair, each as it was in this membership: its own and its dead buddies'. */
    List<int[]> partsOf(int node, Membership next) {
        List<int[]> parts = new ArrayList<>();
        for (int m : members) {
            int f = from(m), t = to(m);
            if (f >= next.from(node) && t <= next.to(node)) {
                parts.add(new int[]{m, f, t});
            }
        }
        return parts;
    }

    /**
     * The membership after the nodes in {@code dead} failed: each dead member's layers go to its
     * buddy (in ascending id order; failures far apart commute), and when its buddy died too, on
     * to the next live one (what a fall-back to a checkpoint restores; see {@link #replicaLost}).
     * Throws {@link Unrecoverable} when no member is left.
     */
    Membership without(Set<Integer> dead) {
        List<Integer> ids = new ArrayList<>(members);
        List<Integer> cs = new ArrayList<>(cuts);
        for (int d : new TreeSet<>(dead)) {
            int i = ids.indexOf(d);
            if (i < 0) {
                continue;
            }
            if (ids.size() == 1) {
                throw new Unrecoverable("node " + d + " was the last member of the ring");
            }
            // Dropping member i's cut merges its range into its buddy's: the one after it, or for the last, the one before.
            // Members with smaller ids went first, so the one before is alive; the one after may be dead and pass it on.
            cs.remove(i == ids.size() - 1 ? i : i + 1);
            ids.remove(i);
        }
        return new Membership(epoch + 1, ids, cs);
    }

    /**
     * Why the replicas cannot repair the ring after the nodes in {@code dead} failed (a dead
     * member whose buddy died too took that member's replica with it), or null when they can.
     */
    String replicaLost(Set<Integer> dead) {
        for (int d : new TreeSet<>(dead)) {
            if (contains(d) && size() > 1 && dead.contains(buddy(d))) {
                return "nodes " + Math.min(d, buddy(d)) + " and " + Math.max(d, buddy(d)) + " failed together: node " + buddy(d)
                        + " held node " + d + "'s replica";
            }
        }
        return null;
    }

    /**
     * Whether every member's layers fit its memory budget.
     *
     * @param layerBytes each layer's predicted memory
     * @param budgets    each node's memory budget, by id
     * @return null when they do, else the first member that does not fit, in words
     */
    String overBudget(List<Long> layerBytes, List<Long> budgets) {
        if (layerBytes.size() != cuts.get(size())) {
            return null; // a plan without memory figures: nothing to check
        }
        for (int k = 0; k < size(); k++) {
            long b = 0;
            for (int l = cuts.get(k); l < cuts.get(k + 1); l++) {
                b += layerBytes.get(l);
            }
            int node = members.get(k);
            long budget = node < budgets.size() ? budgets.get(node) : Long.MAX_VALUE;
            if (b > budget) {
                return String.format(java.util.Locale.ROOT, "node %d would hold layers [%d, %d): %.1f MiB, over its memory budget of %.1f MiB",
                        node, cuts.get(k), cuts.get(k + 1), b / 1048576.0, budget / 1048576.0);
            }
        }
        return null;
    }

    /**
     * This membership with the nodes of {@code joined} back in it (same epoch: {@link #without}
     * counts the change): each at its place in ring order (ascending ids), with no layers yet (an
     * empty range at the cut between its neighbours), for {@link Rebalancer} to fill from them.
     * Nodes already members are left as they are.
     */
    Membership with(Set<Integer> joined) {
        List<Integer> ids = new ArrayList<>(members);
        List<Integer> cs = new ArrayList<>(cuts);
        for (int j : new TreeSet<>(joined)) {
            if (ids.contains(j)) {
                continue;
            }
            int i = 0;
            while (i < ids.size() && ids.get(i) < j) {
                i++;
            }
            ids.add(i, j);
            cs.add(i, cs.get(i));
        }
        return new Membership(epoch, ids, cs);
    }

    /** Whether every member runs at least one layer. */
    boolean everyMemberHasLayers() {
        for (int k = 0; k + 1 < cuts.size(); k++) {
            if (cuts.get(k + 1) <= cuts.get(k)) {
                return false;
            }
        }
        return true;
    }

    /** A repair that cannot be made: the run stops on every node with this reason. */
    static final class Unrecoverable extends RuntimeException {
        Unrecoverable(String reason) {
            super(reason);
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("epoch " + epoch + ":");
        for (int k = 0; k < members.size(); k++) {
            sb.append(" node ").append(members.get(k)).append(" [").append(cuts.get(k)).append(",").append(cuts.get(k + 1)).append(")");
        }
        return sb.toString();
    }
}
