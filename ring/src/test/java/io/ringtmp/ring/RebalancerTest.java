package io.ringtmp.ring;

import org.junit.jupiter.api.Test;

import java.util.Collections;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RebalancerTest {
    private static final List<Double> EQUAL = Collections.nCopies(8, 1.0);
    private static final List<Double> SPEEDS = Collections.nCopies(4, 1.0);

    @Test
    void afterATakeover_theMergedRangeIsSpreadOverItsNeighbours() {
        // 8 equal layers on 4 nodes, 2 each; node 1 dies and node 2 runs [2, 6).
        Membership taken = Membership.initial(List.of(0, 2, 4, 6, 8)).without(Set.of(1));
        assertEquals(List.of(0, 2, 6, 8), taken.cuts());
        Membership r = Rebalancer.rebalance(taken, EQUAL, SPEEDS);
        assertEquals(taken.members(), r.members());
        assertEquals(taken.epoch(), r.epoch());
        List<Integer> c = r.cuts();
        assertEquals(0, c.get(0));
        assertEquals(8, c.get(3));
        int slowest = 0;
        for (int k = 0; k < 3; k++) {
            slowest = Math.max(slowest, c.get(k + 1) - c.get(k));
        }
        assertEquals(3, slowest, "8 layers over 3 nodes: at most 3 each, not 4: " + c);
        for (int k = 1; k < 3; k++) {
            assertTrue(c.get(k) > taken.cuts().get(k - 1) && c.get(k) < taken.cuts().get(k + 1), "a layer moves one hop at most: " + c);
        }
    }

    @Test
    void aRejoinedNode_takesLayersFromItsNeighbours_evenWhenOneOfThemHasOnlyOne() {
        // Node 1 came back with no layers between node 0 ([0, 2)) and node 2 ([2, 6)).
        Membership joined = Membership.initial(List.of(0, 2, 4, 6, 8)).without(Set.of(1)).with(Set.of(1));
        Membership r = Rebalancer.rebalance(joined, EQUAL, SPEEDS);
        assertTrue(r.everyMemberHasLayers(), r.toString());
        assertEquals(List.of(0, 2, 4, 6, 8), r.cuts(), "back to two layers each");
        // Node 0 holds a single layer: node 1 takes all of its layers from node 2.
        Membership lean = new Membership(1, List.of(0, 2, 3), List.of(0, 1, 6, 8)).with(Set.of(1));
        Membership l = Rebalancer.rebalance(lean, EQUAL, SPEEDS);
        assertTrue(l.everyMemberHasLayers(), l.toString());
        assertEquals(1, l.cuts().get(1), "node 0 keeps its one layer: " + l);
        // Node 0 comes back first: it takes layers from node 1 only.
        Membership first = Membership.initial(List.of(0, 2, 4, 6, 8)).without(Set.of(0)).with(Set.of(0));
        Membership f = Rebalancer.rebalance(first, EQUAL, SPEEDS);
        assertTrue(f.everyMemberHasLayers(), f.toString());
        assertEquals(List.of(0, 2, 4, 6, 8), f.cuts());
    }

    @Test
    void balancedAlready_orARingOfOne_staysAsItIs() {
        Membership m = Membership.initial(List.of(0, 3, 6, 8));
        assertSame(m, Rebalancer.rebalance(m, EQUAL, SPEEDS), "3,3,2 is as fast as it gets and moves nothing");
        Membership one = Membership.initial(List.of(0, 8));
        assertSame(one, Rebalancer.rebalance(one, EQUAL, SPEEDS));
    }

    @Test
    void aFasterNode_getsMoreLayers() {
        Membership m = Membership.initial(List.of(0, 4, 8));
        Membership r = Rebalancer.rebalance(m, EQUAL, List.of(3.0, 1.0));
        assertEquals(List.of(0, 6, 8), r.cuts(), r.toString());
    }

    @Test
    void cutsKeepEveryMemberWithinItsMemoryBudget() {
        // 8 equal layers of 1 MiB on 4 nodes; node 1 dies and node 2 would hold [2, 6). Node 3 can hold only 2 MiB, so
        // the re-balance spreads the four extra layers over nodes 0 and 2 instead of giving node 3 a third.
        List<Long> bytes = Collections.nCopies(8, 1L << 20);
        List<Long> budgets = List.of(3L << 20, 4L << 20, 3L << 20, 2L << 20);
        Membership taken = Membership.initial(List.of(0, 2, 4, 6, 8)).without(Set.of(1));
        Membership r = Rebalancer.rebalance(taken, EQUAL, SPEEDS, bytes, budgets);
        assertEquals(List.of(0, 3, 6, 8), r.cuts(), r.toString());
        assertEquals(null, r.overBudget(bytes, budgets));
        // With 2 MiB each, three survivors cannot hold 8 MiB: no cut fits, and the check names who does not.
        List<Long> small = Collections.nCopies(4, 2L << 20);
        Membership none = Rebalancer.rebalance(taken, EQUAL, SPEEDS, bytes, small);
        assertTrue(none.overBudget(bytes, small).startsWith("node "), none.overBudget(bytes, small));
    }
}
