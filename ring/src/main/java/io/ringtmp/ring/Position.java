package io.ringtmp.ring;

import io.ringtmp.transport.Link;
import io.ringtmp.transport.Message;

/**
 * Where this node sits in the ring's current {@link Membership}: its place, its layers, its
 * neighbours' links, and the epoch every message it sends is stamped with.
 *
 * @param membership  the ring now
 * @param id          this node
 * @param successor   link to the next member (the same as {@code predecessor} in a ring of two;
 *                    the node's link to itself in a ring of one)
 * @param predecessor link to the member before
 */
record Position(Membership membership, int id, Link successor, Link predecessor) {
    boolean first() {
        return membership.first() == id;
    }

    boolean last() {
        return membership.last() == id;
    }

    /** This member's place in the ring (0 = the feeder). */
    int index() {
        return membership.index(id);
    }

    int size() {
        return membership.size();
    }

    int from() {
        return membership.from(id);
    }

    int to() {
        return membership.to(id);
    }

    long epoch() {
        return membership.epoch();
    }

    /** {@code m} stamped with this membership's epoch. */
    Message stamp(Message m) {
        return m.withEpoch(membership.epoch());
    }

    /** Whether {@code m} was sent in this membership (its epoch, modulo the wire's 256). */
    boolean current(Message m) {
        return m.epoch() == Math.floorMod(membership.epoch(), (long) Message.EPOCHS);
    }
}
