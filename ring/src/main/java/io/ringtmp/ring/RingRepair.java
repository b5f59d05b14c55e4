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
 * The members' agreement on a new membership, with no coordinator: after nodes failed, or when
 * failed-over nodes ask to rejoin. Each member computes the next {@link Membership} from the dead
 * and rejoining nodes it knows of, links to its new neighbours, and the starter (the first member
 * of the old ring that stays) sends a {@link RingControl.Repair} token round the next ring. Each
 * member adds the dead and rejoining nodes it knows of and keeps, of the token's steps, those it
 * can roll back to (it holds its own snapshot of them, and the replica of each range it takes
 * over; a rejoining node holds nothing and keeps them all). When the token comes back with the
 * sets it left with, the starter picks the newest step left and sends {@link RingControl.Resume}
 * round; a token that comes back with more starts a new round. News of another death during a
 * repair starts it again. A dead set the ring cannot survive (a dead node whose buddy died too)
 * ends the run ({@link Membership.Unrecoverable}). A rejoining node learns the ring it joins from
 * the {@link RingControl.Base} its predecessor attaches to the token.
 *
 * <p>Threads: the node's main thread; it reads only the inbox (other messages wait there for
 * the next stage loop).
 */
final class RingRepair {
    /** The ring after the repair and the step it goes on from. */
    record Outcome(Membership next, long step, List<Integer> dead, List<Integer> joined) {
    }

    private final NodeContext ctx;
    private final Inbox inbox;
    private final Replicas replicas;
    private final Membership prev;
    private final RingControl.Base base;
    private final int me;
    private final TreeSet<Integer> dead = new TreeSet<>();
    private final TreeSet<Integer> joined = new TreeSet<>();
    private Membership next;
    private Link successor;

    /** @param base the ring before the change, with the plan (what a rejoining successor is sent) */
    RingRepair(NodeContext ctx, Inbox inbox, Replicas replicas, RingControl.Base base) {
        this.ctx = ctx;
        this.inbox = inbox;
        this.replicas = replicas;
        this.prev = base.membership();
        this.base = base;
        this.me = ctx.id();
    }

    /**
     * Runs the repair.
     *
     * @param known   the dead nodes known now
     * @param joining the failed-over nodes known to ask to rejoin
     * @param trigger the message that started it (a note or a token), handled first; may be null
     * @throws Membership.Unrecoverable when the ring cannot go on
     */
    Outcome run(Set<Integer> known, Set<Integer> joining, Message trigger) throws InterruptedException {
        // A token may arrive before this node heard of the death it repairs (waiting out its grace
        // for a silent predecessor, say): its sets count from the start, so that this node
        // never links to a dead node as if it were still a neighbour.
        Set<Integer> d0 = new TreeSet<>(known);
        Set<Integer> j0 = new TreeSet<>(joining);
        namedBy(trigger, d0, j0);
        adopt(d0, j0);
        boolean started = false;
        Message msg = trigger;
        while (true) {
            if (starter() == me && !started) {
                started = true;
                if (next.size() == 1) {
                    long r = newest(available(), "this node alone");
                    return new Outcome(next, r, List.copyOf(dead), List.copyOf(joined));
                }
                send(new RingControl.Repair(next.epoch(), List.copyOf(dead), List.copyOf(joined), available(), null));
            }
            if (msg == null) {
                msg = inbox.await(x -> x.kind() == MessageKind.CONTROL && isRepairMessage(x));
            }
            RingControl c = RingControl.CODEC.decode(msg);
            msg = null;
            switch (c) {
                case RingControl.NodeFailed f -> {
                    if (!dead.contains(f.node()) && (prev.contains(f.node()) || joined.contains(f.node()))) {
                        Set<Integer> d = new TreeSet<>(dead);
                        d.add(f.node());
                        adopt(d, joined);
                        started = false; // the starter (maybe another one now) starts again
                    }
                }
                case RingControl.NodeJoins j -> {
                    if (!joined.contains(j.node()) && !prev.contains(j.node())) {
                        Set<Integer> jn = new TreeSet<>(joined);
                        jn.add(j.node());
                        adopt(dead, jn);
                        started = false;
                    }
                }
                case RingControl.Repair t -> {
                    if (t.epoch() != next.epoch()) {
                        break; // a token of another repair
                    }
                    if (!dead.containsAll(t.dead()) || !joined.containsAll(t.joined())) {
                        Set<Integer> d = new TreeSet<>(dead);
                        d.addAll(t.dead());
                        Set<Integer> jn = new TreeSet<>(joined);
                        jn.addAll(t.joined());
                        adopt(d, jn);
                        started = false;
                    }
                    if (starter() == me) {
                        if (new TreeSet<>(t.dead()).equals(dead) && new TreeSet<>(t.joined()).equals(joined)) {
                            long r = newest(t.steps(), "every member");
                            send(new RingControl.Resume(next.epoch(), List.copyOf(dead), List.copyOf(joined), r));
                            inbox.await(x -> x.kind() == MessageKind.CONTROL && RingControl.CODEC.decode(x) instanceof RingControl.Resume);
                            return new Outcome(next, r, List.copyOf(dead), List.copyOf(joined));
                        }
                        // A round that left before this node knew of every change: the newer round decides.
                    } else {
                        List<Long> steps = new ArrayList<>(t.steps());
                        if (prev.contains(me)) {
                            steps.retainAll(available());
                        }
                        send(new RingControl.Repair(next.epoch(), List.copyOf(dead), List.copyOf(joined), steps, null));
                    }
                }
                case RingControl.Resume r -> {
                    if (r.epoch() != next.epoch()) {
                        break; // a token of another repair
                    }
                    if (!new TreeSet<>(r.dead()).equals(dead) || !new TreeSet<>(r.joined()).equals(joined)) {
                        adopt(new TreeSet<>(r.dead()), new TreeSet<>(r.joined()));
                    }
                    send(r);
                    return new Outcome(next, r.step(), List.copyOf(dead), List.copyOf(joined));
                }
                default -> { }
            }
        }
    }

    /** The dead and rejoining nodes a token of the next epoch names, added to {@code d} and {@code j}; none for any other message. */
    private void namedBy(Message trigger, Set<Integer> d, Set<Integer> j) {
        if (trigger == null) {
            return;
        }
        RingControl c = RingControl.CODEC.decode(trigger);
        if (c instanceof RingControl.Repair t && t.epoch() == prev.epoch() + 1) {
            d.addAll(t.dead());
            j.addAll(t.joined());
        } else if (c instanceof RingControl.Resume r && r.epoch() == prev.epoch() + 1) {
            d.addAll(r.dead());
            j.addAll(r.joined());
        } else if (c instanceof RingControl.NodeJoins n) {
            j.add(n.node());
        }
        j.removeIf(prev::contains);
        d.removeIf(n -> !prev.contains(n) && !j.contains(n));
    }

    private static boolean isRepairMessage(Message x) {
        RingControl c = RingControl.CODEC.decode(x);
        return c instanceof RingControl.NodeFailed || c instanceof RingControl.NodeJoins || c instanceof RingControl.Repair
                || c instanceof RingControl.Resume;
    }

    /** The member that sends the token: the first of the next ring that was in the old one. */
    private int starter() {
        for (int n : next.members()) {
            if (prev.contains(n)) {
                return n;
            }
        }
        throw new Membership.Unrecoverable("no member of " + prev + " is left in " + next);
    }

    /**
     * Takes {@code d} as the dead set and {@code j} as the rejoining one: computes the next
     * membership and links to the new neighbours. A rejoining node that cannot be given a layer
     * (its neighbours hold one each) is left out, by every member alike.
     */
    private void adopt(Set<Integer> d, Set<Integer> j) {
        dead.clear();
        dead.addAll(d);
        joined.clear();
        for (int n : j) {
            if (!dead.contains(n) && !prev.contains(n)) {
                joined.add(n);
            }
        }
        Membership without = prev.without(dead);
        next = without.with(joined);
        if (!joined.isEmpty() && !Rebalancer.rebalance(next, base.plan().layerSeconds(), base.plan().speeds()).everyMemberHasLayers()) {
            ctx.say("node" + (joined.size() > 1 ? "s " : " ") + joined + " cannot rejoin: no layer can move to them from their neighbours");
            joined.clear();
            next = without;
        }
        ctx.say((dead.isEmpty() ? "changing the ring" : "repairing the ring without node" + (dead.size() > 1 ? "s " : " ") + dead)
                + (joined.isEmpty() ? "" : ", with node" + (joined.size() > 1 ? "s " : " ") + joined + " back") + ": " + next);
        if (!next.contains(me)) {
            throw new Membership.Unrecoverable("this node is not in the repaired ring " + next);
        }
        for (int n : dead) {
            ctx.neighbours().drop(n);
        }
        for (int n : joined) {
            ctx.neighbours().readmit(n);
        }
        successor = ctx.neighbours().connect(next.successor(me)); // in a ring of one, itself: the loop's tokens go round it
        ctx.neighbours().connect(next.predecessor(me));
    }

    /** The steps this node can roll its part of {@link #next} back to: own snapshots, and replicas of the ranges it takes over. */
    private List<Long> available() {
        List<Long> out = new ArrayList<>();
        if (!prev.contains(me)) {
            return out; // a rejoining node is never the starter, and keeps the token's steps
        }
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
        if (c instanceof RingControl.Repair t && joined.contains(next.successor(me))) {
            c = new RingControl.Repair(t.epoch(), t.dead(), t.joined(), t.steps(), base); // the rejoining successor learns the ring it joins
        }
        successor.send(RingControl.CODEC.message(me, ctx.spec().runId(), c).withEpoch(next.epoch()));
    }
}
