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
 * repair starts it again. When the replicas cannot repair the ring (a dead node whose buddy died
 * too, or no step every member holds a replica of), the members roll back to the stages'
 * checkpoints instead ({@link CheckpointFallback}, when checkpoints are on); without them, or
 * when the new stages would not fit a member's memory budget, the run ends on every member
 * with the reason ({@link Membership.Unrecoverable}). A rejoining node learns the ring it joins from
 * the {@link RingControl.Base} its predecessor attaches to the token.
 *
 * <p>Threads: the node's main thread; it reads only the inbox (other messages wait there for
 * the next stage loop).
 */
final class RingRepair {
    /**
     * The ring after the repair and the step it goes on from.
     *
     * @param next       the membership with the dead nodes' layers merged into their takers' (and rejoining nodes without layers)
     * @param balanced   {@code next} re-balanced (when the spec says so, and always when a node came back): the ring that runs
     * @param checkpoint whether the members restore from the checkpoints of {@code step} rather than from the replicas
     */
    record Outcome(Membership next, Membership balanced, long step, List<Integer> dead, List<Integer> joined, boolean checkpoint) {
    }

    private final NodeContext ctx;
    private final Inbox inbox;
    private final Replicas replicas;
    private final Membership prev;
    private final RingControl.Base base;
    private final CheckpointFallback fallback;
    private final boolean rebalance;
    private final int me;
    private final TreeSet<Integer> dead = new TreeSet<>();
    private final TreeSet<Integer> joined = new TreeSet<>();
    private Membership next;
    private Membership balanced;
    /** Why the replicas cannot repair the ring, when they cannot (null otherwise). */
    private String replicasFail;
    /** Whether this repair rolls back to the checkpoints (sticks once set). */
    private boolean checkpoint;
    private Link successor;
    /** Why this node could not link to a new neighbour, or null. */
    private String unreachable;

    /**
     * @param base      the ring before the change, with the plan (what a rejoining successor is sent)
     * @param fallback  the checkpoints to fall back to, or null when checkpoints are off
     * @param rebalance whether to re-balance after a death (after a rejoin, always)
     */
    RingRepair(NodeContext ctx, Inbox inbox, Replicas replicas, RingControl.Base base, CheckpointFallback fallback, boolean rebalance) {
        this.ctx = ctx;
        this.inbox = inbox;
        this.replicas = replicas;
        this.prev = base.membership();
        this.base = base;
        this.fallback = fallback;
        this.rebalance = rebalance;
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
                    if (available().isEmpty()) {
                        fallBack("no replica step this node alone holds");
                    }
                    return outcome(newest(available(), "this node alone"));
                }
                send(new RingControl.Repair(next.epoch(), List.copyOf(dead), List.copyOf(joined), available(), null, checkpoint));
            }
            if (msg == null) {
                String cause = unreachable;
                msg = inbox.await(x -> x.kind() == MessageKind.CONTROL && isRepairMessage(x),
                        cause == null ? Long.MAX_VALUE : 2L * ctx.spec().failureTimeoutMs());
                if (msg == null) {
                    throw new Membership.Unrecoverable("a new neighbour cannot be reached and nobody reports it failed: " + cause);
                }
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
                    if (t.checkpoint() && !checkpoint) {
                        checkpoint = true; // the starter found no replica step: this round is the checkpoints'
                        if (starter() == me) {
                            started = false;
                        }
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
                        if (started && new TreeSet<>(t.dead()).equals(dead) && new TreeSet<>(t.joined()).equals(joined)
                                && t.checkpoint() == checkpoint) {
                            if (t.steps().isEmpty() && !checkpoint && fallback != null) {
                                fallBack("no replica step every member holds");
                                started = false; // a round over the checkpoints' steps
                                continue;
                            }
                            long r = newest(t.steps(), "every member");
                            send(new RingControl.Resume(next.epoch(), List.copyOf(dead), List.copyOf(joined), r, checkpoint));
                            inbox.await(x -> x.kind() == MessageKind.CONTROL && RingControl.CODEC.decode(x) instanceof RingControl.Resume);
                            return outcome(r);
                        }
                        // A round that left before this node knew of every change: the newer round decides.
                    } else {
                        // A token of the other kind than this node's (it knows of more deaths) is a round the starter will redo.
                        List<Long> steps = new ArrayList<>(t.checkpoint() == checkpoint ? t.steps() : available());
                        if (prev.contains(me)) {
                            steps.retainAll(available());
                        }
                        send(new RingControl.Repair(next.epoch(), List.copyOf(dead), List.copyOf(joined), steps, null, checkpoint));
                    }
                }
                case RingControl.Resume r -> {
                    if (r.epoch() != next.epoch()) {
                        break; // a token of another repair
                    }
                    if (!new TreeSet<>(r.dead()).equals(dead) || !new TreeSet<>(r.joined()).equals(joined)) {
                        adopt(new TreeSet<>(r.dead()), new TreeSet<>(r.joined()));
                    }
                    checkpoint = r.checkpoint();
                    send(r);
                    return outcome(r.step());
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
        String lost = prev.replicaLost(dead);
        if (lost != null) {
            fallBack(lost);
        }
        next = without.with(joined);
        if (!joined.isEmpty() && !Rebalancer.rebalance(next, base.plan()).everyMemberHasLayers()) {
            ctx.say("node" + (joined.size() > 1 ? "s " : " ") + joined + " cannot rejoin: no layer can move to them from their neighbours");
            joined.clear();
            next = without;
        }
        balanced = rebalance || !joined.isEmpty() ? Rebalancer.rebalance(next, base.plan()) : next;
        String over = balanced.overBudget(base.plan().layerBytes(), base.plan().budgets());
        if (over != null) {
            throw new Membership.Unrecoverable("the survivors cannot hold the layers: " + over
                    + (fallback != null ? "; resume from the checkpoints in " + fallback.dir() + " with more nodes or memory" : ""));
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
        unreachable = null;
        successor = link(next.successor(me)); // in a ring of one, itself: the loop's tokens go round it
        link(next.predecessor(me));
    }

    /**
     * Links to new neighbour {@code peer}; when it cannot (it died too, say), notes it in
     * {@link #unreachable} and returns null: the news of its death restarts the repair.
     */
    private Link link(int peer) {
        try {
            return ctx.neighbours().connect(peer);
        } catch (io.ringtmp.transport.TransportException e) {
            ctx.say("cannot link to node " + peer + " (" + e.getMessage() + "): waiting for news of it");
            unreachable = e.getMessage();
            return null;
        }
    }

    /**
     * Turns this repair into a roll-back to the checkpoints, because {@code why}; without
     * checkpoints the ring cannot go on.
     */
    private void fallBack(String why) {
        if (fallback == null) {
            throw new Membership.Unrecoverable(why + ", and there are no periodic checkpoints (checkpointDir with checkpointEvery) to fall back to");
        }
        if (!checkpoint) {
            ctx.say(why + ": falling back to the newest checkpoint every layer has in " + fallback.dir());
        }
        replicasFail = why;
        checkpoint = true;
    }

    private Outcome outcome(long step) {
        return new Outcome(next, balanced, step, List.copyOf(dead), List.copyOf(joined), checkpoint);
    }

    /**
     * The steps this node can roll its part of {@link #next} back to: own snapshots, and replicas
     * of the ranges it takes over; or, falling back, the checkpoint steps that hold its layers.
     */
    private List<Long> available() {
        List<Long> out = new ArrayList<>();
        if (!prev.contains(me)) {
            return out; // a rejoining node is never the starter, and keeps the token's steps
        }
        if (checkpoint) {
            return fallback.steps(next.from(me), next.to(me));
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
        if (checkpoint) {
            return prev.contains(me) ? fallback.parts(step, next.from(me), next.to(me)) : List.of();
        }
        List<StageState> out = new ArrayList<>();
        for (int[] part : prev.partsOf(me, next)) {
            out.add(part[0] == me ? replicas.own(step) : replicas.replica(part[0], step, part[1], part[2]));
        }
        return out;
    }

    private long newest(List<Long> steps, String who) {
        if (steps.isEmpty()) {
            throw new Membership.Unrecoverable(checkpoint
                    ? replicasFail + ", and no checkpoint step in " + fallback.dir() + " holds the layers " + who + " runs next"
                    + " (the nodes must share the checkpoint directory)"
                    : "no step that " + who + " can roll back to (no replica arrived in time)");
        }
        return steps.stream().mapToLong(Long::longValue).max().orElseThrow();
    }

    private void send(RingControl c) {
        if (successor == null) {
            return; // the successor is unreachable: news of it will start the round again
        }
        if (c instanceof RingControl.Repair t && joined.contains(next.successor(me))) {
            c = new RingControl.Repair(t.epoch(), t.dead(), t.joined(), t.steps(), base, t.checkpoint()); // the rejoining successor learns the ring it joins
        }
        successor.send(RingControl.CODEC.message(me, ctx.spec().runId(), c).withEpoch(next.epoch()));
    }
}
