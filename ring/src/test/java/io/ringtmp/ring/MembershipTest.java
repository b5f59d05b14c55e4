package io.ringtmp.ring;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MembershipTest {
    private final Membership four = Membership.initial(List.of(0, 2, 4, 5, 7));

    @Test
    void buddy_isTheSuccessor_butTheLastMembersIsItsPredecessor() {
        assertEquals(1, four.buddy(0));
        assertEquals(3, four.buddy(2));
        assertEquals(2, four.buddy(3));
        assertEquals(-1, Membership.initial(List.of(0, 7)).buddy(0));
    }

    @Test
    void without_mergesEachDeadRangeIntoItsBuddy_andCountsTheEpoch() {
        Membership m = four.without(Set.of(1));
        assertEquals(1, m.epoch());
        assertEquals(List.of(0, 2, 3), m.members());
        assertEquals(List.of(0, 2, 5, 7), m.cuts(), "node 2 runs node 1's layers [2,4) and its own [4,5)");
        assertEquals(List.of(0, 2, 4, 7), four.without(Set.of(3)).cuts(), "the last member's layers go to the one before it");
        Membership first = four.without(Set.of(0));
        assertEquals(1, first.first(), "node 1 feeds after node 0 died");
        assertEquals(List.of(0, 4, 5, 7), first.cuts());
        assertEquals(List.of(1, 3), four.without(Set.of(0, 2)).members(), "failures far apart are each taken over");
        assertEquals(List.of(0, 4, 7), four.without(Set.of(0, 2)).cuts());
    }

    @Test
    void with_putsARejoinedNodeBackInRingOrder_withNoLayersYet() {
        Membership after = four.without(Set.of(1)).with(Set.of(1));
        assertEquals(1, after.epoch(), "the change is counted once");
        assertEquals(List.of(0, 1, 2, 3), after.members());
        assertEquals(List.of(0, 2, 2, 5, 7), after.cuts(), "node 1 enters with [2,2), next to node 2's merged range");
        assertEquals(List.of(0, 0, 4, 5, 7), four.without(Set.of(0)).with(Set.of(0)).cuts(), "node 0 comes back first, as the feeder");
        assertEquals(List.of(0, 2, 4, 7, 7), four.without(Set.of(3)).with(Set.of(3)).cuts(), "the last member comes back last");
        assertEquals(four.members(), four.with(Set.of(2)).members(), "a member is not added twice");
        assertTrue(four.everyMemberHasLayers());
        assertTrue(!after.everyMemberHasLayers());
    }

    @Test
    void partsOf_namesTheRangesATakerRestores() {
        Membership next = four.without(Set.of(1));
        List<int[]> parts = four.partsOf(2, next);
        assertEquals(2, parts.size());
        assertEquals(List.of(1, 2, 4), List.of(parts.get(0)[0], parts.get(0)[1], parts.get(0)[2]));
        assertEquals(List.of(2, 4, 5), List.of(parts.get(1)[0], parts.get(1)[1], parts.get(1)[2]));
        assertEquals(1, four.partsOf(0, next).size());
    }

    @Test
    void replicaLost_namesTheLostReplica_whenABuddyDiedToo() {
        assertEquals("nodes 1 and 2 failed together: node 2 held node 1's replica", four.replicaLost(Set.of(1, 2)));
        assertEquals("nodes 2 and 3 failed together: node 3 held node 2's replica", four.replicaLost(Set.of(2, 3)));
        assertEquals(null, four.replicaLost(Set.of(0, 2)), "far apart: each replica survives");
        assertEquals(null, four.replicaLost(Set.of(1)));
    }

    @Test
    void without_adjacentFailures_passesTheLayersOnToTheNextLiveMember() {
        assertEquals(List.of(0, 3), four.without(Set.of(1, 2)).members());
        assertEquals(List.of(0, 2, 7), four.without(Set.of(1, 2)).cuts(), "nodes 1 and 2's layers go to node 3");
        assertEquals(List.of(0, 1), four.without(Set.of(2, 3)).members());
        assertEquals(List.of(0, 2, 7), four.without(Set.of(2, 3)).cuts(), "the last two's layers go to node 1");
        assertEquals(List.of(0, 7), four.without(Set.of(0, 1, 2)).cuts());
        assertThrows(Membership.Unrecoverable.class, () -> Membership.initial(List.of(0, 7)).without(Set.of(0)));
    }

    @Test
    void overBudget_namesTheFirstMemberWhoseLayersDoNotFit() {
        List<Long> bytes = List.of(1L << 20, 1L << 20, 1L << 20, 1L << 20, 1L << 20, 1L << 20, 1L << 20);
        List<Long> budgets = List.of(2L << 20, 2L << 20, 2L << 20, 2L << 20);
        assertEquals(null, four.overBudget(bytes, budgets));
        assertEquals("node 2 would hold layers [2, 5): 3.0 MiB, over its memory budget of 2.0 MiB",
                four.without(Set.of(1)).overBudget(bytes, budgets));
        assertEquals(null, four.overBudget(List.of(), budgets), "a plan without memory figures is not checked");
    }
}
