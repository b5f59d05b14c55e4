package io.ringtmp.ring;

import io.ringtmp.transport.Message;

/**
 * Thrown out of a {@link StageLoop} when the membership must change: a node failed (this node's
 * note to itself), or a repair token arrived before the news did. The {@link RingRepair} that
 * follows handles {@code trigger} first.
 */
final class MembershipChange extends RuntimeException {
    private final transient Message trigger;

    MembershipChange(String why, Message trigger) {
        super(why, null, false, false);
        this.trigger = trigger;
    }

    Message trigger() {
        return trigger;
    }
}
