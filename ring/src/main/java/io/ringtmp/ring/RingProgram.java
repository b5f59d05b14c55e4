package io.ringtmp.ring;

import io.ringtmp.nn.LayerSpec;
import io.ringtmp.nn.ModelSpec;
import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.Inbox;
import io.ringtmp.node.NodeContext;
import io.ringtmp.node.NodeProgram;
import io.ringtmp.node.TrainingOptions;
import io.ringtmp.tensor.Blas;
import io.ringtmp.train.TrainConfig;
import io.ringtmp.data.TrainTest;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.MessageKind;

import java.util.List;

/**
 * One node of the ring: stage {@code id} of K. Its parts, each with one job:
 * <ul>
 *   <li>{@link RingStartup}: the join and plan tokens ({@link RingControl}), node 0's decision
 *       ({@link RingPlanner}, a pure function of the token), building this node's stage;</li>
 *   <li>{@link StageLoop}: the event loop that runs the stage under its schedule's rules
 *       ({@link SchedulePolicy}), with node 0's {@link Feeder} (data order, credits,
 *       boundaries), the {@link Evaluator} and the step-window metrics ({@link StepWindow});</li>
 *   <li>{@link RingPayloads}: the byte payloads of labels, credits and evaluation results.</li>
 * </ul>
 *
 * <p>Node i sends activations to node i+1 ({@code ACTIVATION}, carrying the microbatch's labels
 * in the same frame, which each stage passes on untouched: only node 0 reads the data set) and
 * gradients to node i−1 ({@code GRADIENT}). The closing link from node K−1 to node 0 carries a
 * {@code CREDIT} per finished microbatch (with its loss) and the control tokens. Node 0 starts a
 * microbatch when it holds a credit and a free activation slot, so at most {@code inflight}
 * microbatches are in the pipe. See docs/ring.md.
 *
 * <p>Threads: {@link #onMessage} (transport threads) only queues into the {@link Inbox};
 * everything else, including every stage's weights, slots and credits, belongs to the thread in
 * {@link #run}. What ends a run early (a stop, a link error, a peer breaking the protocol) the
 * node handles ({@link NodeProgram#run}).
 */
public final class RingProgram implements NodeProgram {
    /** Creates the ring program on a node. */
    public static final NodeProgram.Factory FACTORY = new Mode();

    /** The ring's factory (a service: {@link io.ringtmp.node.Modes}). */
    public static final class Mode implements NodeProgram.Factory {
        @Override
        public String mode() {
            return ClusterSpec.Mode.RING.id();
        }

        @Override
        public java.util.Set<String> optionKeys() {
            java.util.Set<String> k = new java.util.HashSet<>(TrainingOptions.KEYS);
            k.addAll(RingOptions.KEYS);
            return k;
        }

        @Override
        public long maxMessageBytes(ClusterSpec spec) {
            TrainConfig c = TrainingOptions.config(spec);
            RingOptions o = RingOptions.from(spec);
            long rows = Math.max(o.microbatchRows(c), o.evalBatch());
            return rows * widest(c.model()) * 4L + 65536;
        }

        @Override
        public NodeProgram create(NodeContext ctx) {
            return new RingProgram(ctx);
        }
    }

    private final NodeContext ctx;
    private final TrainConfig config;
    private final RingOptions opts;
    private final Inbox inbox;
    private final java.util.Set<Integer> dead = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Failed-over nodes that asked to rejoin and are not back yet. */
    private final java.util.Set<Integer> joining = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.atomic.AtomicBoolean excluded = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile StageLoop loop;
    /** Snapshots and neighbours' replicas (null with failover off); made at once: a neighbour may stream before this node's ring runs. */
    private final Replicas replicas;
    private volatile boolean running;
    private volatile Membership members;

    private RingProgram(NodeContext ctx) {
        this.ctx = ctx;
        this.config = TrainingOptions.config(ctx.spec());
        this.opts = RingOptions.from(ctx.spec());
        this.inbox = new Inbox(ctx.stop(), waitedMs -> {
            StageLoop l = loop;
            ctx.say("stage " + ctx.id() + " has waited " + waitedMs / 1000 + " s for its neighbours"
                    + (l == null ? " (starting)" : ": " + l.state()));
        });
        this.replicas = opts.failover() ? new Replicas(ctx, replicaChunkFloats()) : null;
        Blas.setThreads(config.threads());
        ctx.say("node " + ctx.id() + " " + Blas.describe());
    }

    /** The widest activation of {@code model} (its input included). */
    static int widest(ModelSpec model) {
        int w = model.input(), max = w;
        for (LayerSpec l : model.layers()) {
            if (l.type().equals("dense")) {
                w = l.units();
            }
            max = Math.max(max, w);
        }
        return max;
    }

    @Override
    public void onMessage(Message msg) {
        if (msg.kind() == MessageKind.REPLICA && replicas != null) {
            replicas.receive(msg);
            return;
        }
        inbox.add(msg);
    }

    /**
     * With failover on, once the ring runs, the stage loop learns of the death (a note to
     * itself in its inbox) and the survivors repair the ring; before that, or with failover off,
     * the node stops the run.
     */
    @Override
    public boolean onNodeFailed(int node, int reportedBy) {
        if (replicas == null || !running) {
            return false;
        }
        if (dead.add(node)) {
            inbox.add(RingControl.CODEC.message(ctx.id(), ctx.spec().runId(), new RingControl.NodeFailed(node)));
        }
        return true;
    }

    /**
     * Restarted after the others failed this node over (told so during start-up, with failover on):
     * it asks to rejoin, and its start-up turns into the rejoin. Once it runs, a node told so was
     * paused or cut off past the failure timeout and leaves: its state is stale.
     */
    @Override
    public boolean rejoins(int reportedBy) {
        if (replicas == null || running) {
            return false;
        }
        if (excluded.compareAndSet(false, true)) {
            inbox.add(RingControl.CODEC.message(ctx.id(), ctx.spec().runId(), new RingControl.Excluded(reportedBy)));
        }
        return true;
    }

    /** A failed-over node asks to rejoin: news when this ring runs without it; the feeder takes it at its next replica point. */
    @Override
    public boolean onRejoin(int node, int reportedBy) {
        Membership m = members;
        if (replicas == null || !running || m == null || m.contains(node) || !joining.add(node)) {
            return false;
        }
        inbox.add(RingControl.CODEC.message(ctx.id(), ctx.spec().runId(), new RingControl.NodeJoins(node)));
        return true;
    }

    /**
     * A member that finds its predecessor silent waits a failure timeout for the rest of the ring
     * to settle it: when the predecessor died, the predecessor's own predecessor reports it at once
     * and the word comes round; when only the link between them was cut, the predecessor reports
     * this node instead, and this node, told so, leaves (exit 4) rather than both ends being failed
     * over together. In a ring of two there is nobody else to ask.
     */
    @Override
    public long failureGraceMs(int peer) {
        Membership m = members;
        if (replicas == null || !running || m == null || m.size() <= 2 || !m.contains(ctx.id()) || m.predecessor(ctx.id()) != peer) {
            return 0;
        }
        return ctx.spec().failureTimeoutMs();
    }

    @Override
    public boolean run() throws InterruptedException {
        java.nio.file.Path checkpointDir = TrainingOptions.checkpointDir(ctx.spec());
        Replicas r = replicas;
        RingPlan plan;
        long modelParameters;
        Stage stage;
        TrainTest data = null;
        long start;
        try {
            RingStartup.Started s = new RingStartup(ctx, inbox, config, opts).run();
            if (s == null) {
                return false;
            }
            plan = s.plan();
            modelParameters = s.modelParameters();
            members = Membership.initial(plan.cuts());
            stage = s.stage();
            data = s.data();
            start = plan.resumeStep();
        } catch (RingStartup.Rejoin j) {
            ctx.say(j.getMessage() + ": rejoining it at its next replica point");
            Message token = inbox.await(x -> x.kind() == MessageKind.CONTROL
                    && RingControl.CODEC.decode(x) instanceof RingControl.Repair t && t.base() != null);
            RingControl.Base base = ((RingControl.Repair) RingControl.CODEC.decode(token)).base();
            plan = base.plan();
            modelParameters = base.modelParameters();
            RingRepair repair = new RingRepair(ctx, inbox, r, base, fallback(), opts.rebalance());
            RingRepair.Outcome o = repair.run(java.util.Set.of(), java.util.Set.of(ctx.id()), token);
            Membership balanced = o.balanced();
            stage = restore(o, balanced, repair);
            members = balanced;
            start = o.step();
            takeoverEvent(base.membership(), o, balanced, o.step());
            ctx.say("rejoined the ring: " + balanced + "; going on from step " + start + ", this node runs layers [" + balanced.from(ctx.id())
                    + ", " + balanced.to(ctx.id()) + ")");
        }
        running = true;
        try {
            while (true) {
                Position pos = position(members);
                if (pos.first() && data == null) {
                    data = RingStartup.openData(ctx, config); // node 0 died: this node feeds now
                }
                if (r != null) {
                    r.startEpoch(members.epoch());
                }
                Feeder feeder = pos.first()
                        ? new Feeder(data, config.seed(), opts.microbatches(), opts.microbatchRows(config), config.batchSize(), opts.inflight(),
                        stage.slotCount(), plan, start, checkpointDir, TrainingOptions.checkpointEvery(ctx.spec()))
                        : null;
                loop = new StageLoop(ctx, pos, inbox, config, opts, stage, plan, start, modelParameters, checkpointDir, feeder, r);
                Message trigger;
                try {
                    loop.run();
                    return true;
                } catch (MembershipChange c) {
                    trigger = c.trigger();
                } catch (io.ringtmp.node.ProtocolException e) {
                    // A neighbour sent what the schedule cannot take (a tensor of the wrong shape, a
                    // token out of place): it is cut off like a dead one, and this node goes on
                    // without it (failover) or stops naming it (exit 3), not with an error of its own.
                    if (e.peer() < 0 || e.peer() == ctx.id() || !members.contains(e.peer())) {
                        throw e;
                    }
                    ctx.say(e.getMessage());
                    ctx.neighbours().cutOff(e.peer(), e.getMessage());
                    if (r == null || !dead.contains(e.peer())) {
                        throw new io.ringtmp.node.StoppedException(ctx.stop().reason());
                    }
                    trigger = null;
                } catch (io.ringtmp.transport.TransportException | java.util.concurrent.CompletionException e) {
                    if (r == null) {
                        throw e;
                    }
                    int knownBefore = members.members().size() + dead.size() - ctx.spec().size();
                    // A send to a neighbour that just died: wait for the news (the detector, or a word).
                    ctx.say("link error: " + e.getMessage() + "; waiting for news of a failed node");
                    long deadline = ctx.time().nanoTime() + 2_000_000L * ctx.spec().failureTimeoutMs();
                    while (dead.size() + members.size() - ctx.spec().size() == knownBefore && ctx.time().nanoTime() < deadline
                            && !ctx.stop().stopped()) {
                        Thread.sleep(20);
                    }
                    if (dead.size() + members.size() - ctx.spec().size() == knownBefore) {
                        throw e;
                    }
                    trigger = null;
                }
                long failedAt = loop.stepsDone();
                RingControl.Base base = new RingControl.Base(members.epoch(), members.members(), members.cuts(), plan, modelParameters);
                RingRepair repair = new RingRepair(ctx, inbox, r, base, fallback(), opts.rebalance());
                RingRepair.Outcome o;
                try {
                    Membership was = members;
                    o = repair.run(dead.stream().filter(was::contains).collect(java.util.stream.Collectors.toSet()), java.util.Set.copyOf(joining),
                            trigger); // the nodes of this ring that died: earlier deaths were repaired already
                } catch (Membership.Unrecoverable u) {
                    int node = dead.isEmpty() ? -1 : dead.iterator().next();
                    ctx.stop().stopForFailedNode(node, "the ring cannot go on: " + u.getMessage());
                    throw new io.ringtmp.node.StoppedException(ctx.stop().reason());
                }
                dead.addAll(o.dead()); // a death this node learned of from the token only
                o.joined().forEach(dead::remove); // back in the ring: its next failure is news again
                joining.removeAll(o.joined());
                Membership balanced = o.balanced();
                stage = restore(o, balanced, repair);
                Membership before = members;
                members = balanced;
                start = o.step();
                takeoverEvent(before, o, balanced, failedAt);
            }
        } finally {
            if (r != null) {
                r.close();
            }
        }
    }

    /** The checkpoints a repair falls back to when the replicas cannot make it; null when no periodic checkpoints are written. */
    private CheckpointFallback fallback() {
        java.nio.file.Path dir = TrainingOptions.checkpointDir(ctx.spec());
        return dir == null || TrainingOptions.checkpointEvery(ctx.spec()) <= 0 ? null : new CheckpointFallback(dir, ctx.spec().size(), config, ctx::say);
    }

    /** This node's place in {@code m}, with its neighbours' links (in a ring of one, its link to itself). */
    private Position position(Membership m) {
        return new Position(m, ctx.id(), ctx.link(m.successor(ctx.id())), ctx.link(m.predecessor(ctx.id())));
    }

    /**
     * The stage this node runs after the repair: its layers in {@code m} (the takeover's
     * membership, re-balanced), loaded from its snapshot, the replicas it took over and, after a
     * re-balance, the layers its neighbours hand it (it hands them theirs first).
     */
    private Stage restore(RingRepair.Outcome o, Membership m, RingRepair repair) throws InterruptedException {
        if (!m.everyMemberHasLayers()) {
            throw new Membership.Unrecoverable("the ring " + m + " leaves a member without layers");
        }
        int id = ctx.id();
        long step = o.step();
        Membership taken = o.next();
        List<StageState> parts = new java.util.ArrayList<>(repair.parts(step));
        int k = m.index(id);
        if (m != taken) {
            int hf = taken.from(id), ht = taken.to(id), nf = m.from(id), nt = m.to(id);
            // Hand the neighbours the layers they take from this node, then wait for the ones it takes from them.
            if (k > 0 && m.to(m.members().get(k - 1)) > hf) {
                int pred = m.members().get(k - 1);
                handOff(parts, hf, m.to(pred), step, pred, m.epoch());
            }
            if (k < m.size() - 1 && m.from(m.members().get(k + 1)) < ht) {
                int succ = m.members().get(k + 1);
                handOff(parts, m.from(succ), ht, step, succ, m.epoch());
            }
            if (nf < hf) {
                parts.add(awaitHandOff(m.members().get(k - 1), step, nf, hf));
            }
            if (nt > ht) {
                parts.add(awaitHandOff(m.members().get(k + 1), step, ht, nt));
            }
        }
        Stage stage = new Stage(config.model().build(io.ringtmp.tensor.Rng.derive(config.seed(), "model"), m.from(id), m.to(id)),
                config.optimizer(), opts.microbatchRows(config), opts.slots(k, m.size()), k == 0, k == m.size() - 1,
                SchedulePolicy.of(opts.schedule()).keepsWeightVersions());
        StageState.restore(stage, parts);
        return stage;
    }

    /** Streams layers [from, to) of {@code parts} to neighbour {@code to}. */
    private void handOff(List<StageState> parts, int from, int to, long step, int neighbour, long epoch) {
        java.util.Map<String, io.ringtmp.tensor.Tensor> t = new java.util.LinkedHashMap<>();
        for (io.ringtmp.nn.Parameter p : config.model().build(io.ringtmp.tensor.Rng.derive(config.seed(), "model"), from, to).parameters()) {
            for (StageState part : parts) {
                part.tensors().forEach((name, x) -> {
                    if (name.equals(p.name()) || name.endsWith("." + p.name()) && name.startsWith("m")) {
                        t.put(name, x);
                    }
                });
            }
        }
        if (t.isEmpty()) {
            return; // layers without weights (activations): nothing to hand over
        }
        StageState layers = new StageState(ctx.id(), step, from, to, parts.get(0).optimizerSteps(), t);
        if (!replicas.handOff(layers, ctx.link(neighbour), epoch)) {
            throw new io.ringtmp.transport.TransportException("the hand-off of layers [" + from + ", " + to + ") to node " + neighbour
                    + " failed", true);
        }
    }

    /** Waits for neighbour {@code from}'s hand-off of layers [a, b) at {@code step}. */
    private StageState awaitHandOff(int from, long step, int a, int b) throws InterruptedException {
        if (config.model().build(io.ringtmp.tensor.Rng.derive(config.seed(), "model"), a, b).parameters().isEmpty()) {
            return new StageState(from, step, a, b, 0, java.util.Map.of()); // layers without weights: nothing comes
        }
        long deadline = ctx.time().nanoTime() + 2_000_000L * ctx.spec().failureTimeoutMs() + 60_000_000_000L;
        while (true) {
            StageState h = replicas.replica(from, step, a, b);
            if (h != null) {
                return h;
            }
            if (ctx.stop().stopped()) {
                throw new io.ringtmp.node.StoppedException(ctx.stop().reason());
            }
            if (ctx.time().nanoTime() > deadline) {
                throw new io.ringtmp.transport.TransportException("node " + from + " did not hand layers [" + a + ", " + b + ") over", true);
            }
            Thread.sleep(2);
        }
    }

    /** The line and, from the feeder, the event ({@code takeover} after a death, {@code rejoin} when only nodes came back). */
    private void takeoverEvent(Membership before, RingRepair.Outcome o, Membership m, long failedAt) {
        int id = ctx.id();
        String change = (o.dead().isEmpty() ? "ring changed" : "ring repaired without node" + (o.dead().size() > 1 ? "s " : " ") + o.dead())
                + (o.joined().isEmpty() ? "" : ", with node" + (o.joined().size() > 1 ? "s " : " ") + o.joined() + " back");
        ctx.say(change + ": " + m + "; going on from " + (o.checkpoint() ? "the checkpoint of step " : "step ") + o.step()
                + (!before.contains(id) || m.from(id) != before.from(id) || m.to(id) != before.to(id) ? ", this node now runs layers [" + m.from(id) + ", " + m.to(id) + ")"
                : ""));
        if (m.first() != id) {
            return; // one event per repair, from the feeder, so that a report sums each once
        }
        java.util.Map<String, Object> f = new java.util.LinkedHashMap<>();
        f.put("failed", o.dead());
        f.put("joined", o.joined());
        f.put("epoch", m.epoch());
        f.put("members", m.members());
        f.put("cuts", m.cuts());
        f.put("rollbackStep", o.step());
        f.put("fromCheckpoint", o.checkpoint());
        f.put("replayedSteps", Math.max(0, failedAt - o.step()));
        ctx.metrics().event(o.dead().isEmpty() ? "rejoin" : "takeover", f);
    }

    /** Floats per replica chunk: within the transport's message limit, at most 1 MiB. */
    private int replicaChunkFloats() {
        long limit = FACTORY.maxMessageBytes(ctx.spec()) - 8192;
        return (int) Math.max(1024, Math.min(1 << 18, limit / 4));
    }
}
