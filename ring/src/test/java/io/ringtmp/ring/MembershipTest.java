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
    void without_adjacentFailures_isUnrecoverable_namingTheLostReplica() {
        Membership.Unrecoverable e = assertThrows(Membership.Unrecoverable.class, () -> four.without(Set.of(1, 2)));
        assertTrue(e.getMessage().contains("node 2 held node 1's replica"), e.getMessage());
        assertThrows(Membership.Unrecoverable.class, () -> four.without(Set.of(2, 3)));
        assertThrows(Membership.Unrecoverable.class, () -> Membership.initial(List.of(0, 7)).without(Set.of(0)));
    }
}
