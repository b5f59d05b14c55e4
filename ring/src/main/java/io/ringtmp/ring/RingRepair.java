package io.ringtmp.ring;

import io.ringtmp.node.Inbox;
import io.ringtmp.node.NodeContext;
import io.ringtmp.transport.Link;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.MessageKind;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The survivors' agreement after nodes failed, with no coordinator: each survivor computes the
 * next {@link Membership} from the dead nodes it knows of, links to its new neighbours, and the
 * new first member sends a {@link RingControl.Repair} token round. Each member adds the dead
 * nodes it knows of and keeps, of the token's steps, those it can roll back to (it holds its own
 * snapshot of them, and the replica of each range it takes over). When the token comes back
 * with the dead set it left with, the first member picks the newest step left and sends
 * {@link RingControl.Resume} round; a token that comes back with more dead nodes starts a new
 * round. News of another death during a repair starts it again. A dead set the ring cannot
 * survive (a dead node whose buddy died too) ends the run ({@link Membership.Unrecoverable}).
 *
 * <p>Threads: the node's main thread; it reads only the inbox (other messages wait there for
 * the next stage loop).
 */
final class RingRepair {
    /** The ring after the repair and the step it goes on from. */
    record Outcome(Membership next, long step, List<Integer> dead) {
    }

    private final NodeContext ctx;
    private final Inbox inbox;
    private final Replicas replicas;
    private final Membership prev;
    private final int me;
    private final TreeSet<Integer> dead = new TreeSet<>();
    private Membership next;
    private Link successor;

    RingRepair(NodeContext ctx, Inbox inbox, Replicas replicas, Membership prev) {
        this.ctx = ctx;
        this.inbox = inbox;
        this.replicas = replicas;
        this.prev = prev;
        this.me = ctx.id();
    }

    /**
     * Runs the repair.
     *
     * @param known   the dead nodes known now
     * @param trigger the message that started it (a note or a token), handled first; may be null
     * @throws Membership.Unrecoverable when the ring cannot go on
     */
    Outcome run(Set<Integer> known, Message trigger) throws InterruptedException {
        // A token may arrive before this node heard of the death it repairs (waiting out its grace
        // for a silent predecessor, say): its dead set counts from the start, so that this node
        // never links to a dead node as if it were still a neighbour.
        Set<Integer> start = new TreeSet<>(known);
        start.addAll(deadNamedBy(trigger));
        adopt(start);
        boolean started = false;
        Message msg = trigger;
        while (true) {
            if (next.first() == me && !started) {
                started = true;
                if (next.size() == 1) {
                    long r = newest(available(), "this node alone");
                    return new Outcome(next, r, List.copyOf(dead));
                }
                send(new RingControl.Repair(next.epoch(), List.copyOf(dead), available()));
            }
            if (msg == null) {
                msg = inbox.await(x -> x.kind() == MessageKind.CONTROL && isRepairMessage(x));
            }
            RingControl c = RingControl.CODEC.decode(msg);
            msg = null;
            switch (c) {
                case RingControl.NodeFailed f -> {
                    if (!dead.contains(f.node()) && prev.contains(f.node())) {
                        Set<Integer> d = new TreeSet<>(dead);
                        d.add(f.node());
                        adopt(d);
                        started = false; // the first member (maybe another one now) starts again
                    }
                }
                case RingControl.Repair t -> {
                    if (t.epoch() != next.epoch()) {
                        break; // a token of another repair
                    }
                    if (!dead.containsAll(t.dead())) {
                        Set<Integer> d = new TreeSet<>(dead);
                        d.addAll(t.dead());
                        adopt(d);
                        started = false;
                    }
                    if (next.first() == me) {
                        if (new TreeSet<>(t.dead()).equals(dead)) {
                            long r = newest(t.steps(), "every survivor");
                            send(new RingControl.Resume(next.epoch(), List.copyOf(dead), r));
                            inbox.await(x -> x.kind() == MessageKind.CONTROL && RingControl.CODEC.decode(x) instanceof RingControl.Resume);
                            return new Outcome(next, r, List.copyOf(dead));
                        }
                        // A round that left before this node knew of every death: the newer round decides.
                    } else {
                        List<Long> steps = new ArrayList<>(t.steps());
                        steps.retainAll(available());
                        send(new RingControl.Repair(next.epoch(), List.copyOf(dead), steps));
                    }
                }
                case RingControl.Resume r -> {
                    if (r.epoch() != next.epoch()) {
                        break; // a token of another repair
                    }
                    if (!new TreeSet<>(r.dead()).equals(dead)) {
                        adopt(new TreeSet<>(r.dead()));
                    }
                    send(r);
                    return new Outcome(next, r.step(), List.copyOf(dead));
                }
                default -> { }
            }
        }
    }

    /** The dead nodes a repair token of the next epoch names, of this ring's members; none for any other message. */
    private Set<Integer> deadNamedBy(Message trigger) {
        Set<Integer> out = new TreeSet<>();
        if (trigger == null) {
            return out;
        }
        RingControl c = RingControl.CODEC.decode(trigger);
        List<Integer> named = c instanceof RingControl.Repair t && t.epoch() == prev.epoch() + 1 ? t.dead()
                : c instanceof RingControl.Resume r && r.epoch() == prev.epoch() + 1 ? r.dead() : List.of();
        for (int n : named) {
            if (prev.contains(n)) {
                out.add(n);
            }
        }
        return out;
    }

    private static boolean isRepairMessage(Message x) {
        RingControl c = RingControl.CODEC.decode(x);
        return c instanceof RingControl.NodeFailed || c instanceof RingControl.Repair || c instanceof RingControl.Resume;
    }

    /** Takes {@code d} as the dead set: computes the next membership and links to the new neighbours. */
    private void adopt(Set<Integer> d) {
        dead.clear();
        dead.addAll(d);
        next = prev.without(dead);
        ctx.say("repairing the ring without node" + (dead.size() > 1 ? "s " : " ") + dead + ": " + next);
        if (!next.contains(me)) {
            throw new Membership.Unrecoverable("this node is not in the repaired ring " + next);
        }
        for (int n : dead) {
            ctx.neighbours().drop(n);
        }
        successor = ctx.neighbours().connect(next.successor(me)); // in a ring of one, itself: the loop's tokens go round it
        ctx.neighbours().connect(next.predecessor(me));
    }

    /** The steps this node can roll its part of {@link #next} back to: own snapshots, and replicas of the ranges it takes over. */
    private List<Long> available() {
        List<Long> out = new ArrayList<>();
        for (long s : replicas.ownSteps()) {
            boolean all = true;
            for (int[] part : prev.partsOf(me, next)) {
                boolean has = part[0] == me ? replicas.own(s) != null && replicas.own(s).from() == part[1]
                        : replicas.replica(part[0], s, part[1], part[2]) != null;
                all &= has;
            }
            if (all) {
                out.add(s);
            }
        }
        return out;
    }

    /** The states this node restores its new stage from, at {@code step}. */
    List<StageState> parts(long step) {
        List<StageState> out = new ArrayList<>();
        for (int[] part : prev.partsOf(me, next)) {
            out.add(part[0] == me ? replicas.own(step) : replicas.replica(part[0], step, part[1], part[2]));
        }
        return out;
    }

    private long newest(List<Long> steps, String who) {
        if (steps.isEmpty()) {
            throw new Membership.Unrecoverable("no step that " + who + " can roll back to (no replica arrived in time)");
        }
        return steps.stream().mapToLong(Long::longValue).max().orElseThrow();
    }

    private void send(RingControl c) {
        successor.send(RingControl.CODEC.message(me, ctx.spec().runId(), c).withEpoch(next.epoch()));
    }
}
