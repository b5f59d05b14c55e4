package io.ringtmp.ring;

import io.ringtmp.nn.optim.LrSchedule;
import io.ringtmp.node.Inbox;
import io.ringtmp.node.NodeContext;
import io.ringtmp.node.ProtocolException;
import io.ringtmp.node.StoppedException;
import io.ringtmp.ring.internal.ComputeOrder;
import io.ringtmp.ring.internal.OpTrace;
import io.ringtmp.ring.internal.StageCheckpoints;
import io.ringtmp.tensor.Tensor;
import io.ringtmp.train.TrainConfig;
import io.ringtmp.transport.Link;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.MessageKind;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One stage's event loop: sorts what arrives into forwards and backwards, runs whichever
 * {@link ComputeOrder} picks when the {@link SchedulePolicy} allows it, sends activations on and
 * gradients back, applies the schedule's updates, and on node 0 starts microbatches
 * ({@link Feeder}) and handles the boundaries (evaluation, checkpoints, the end). Nobody
 * schedules anybody: each stage decides from what has arrived.
 *
 * <p>Microbatch {@code g} is microbatch {@code g mod M} of mini-batch {@code g / M}. Each forward
 * takes a slot (an activation buffer) that its backward frees, so a stage holds at most its slot
 * count of microbatches. Threads: {@link #run} and everything it calls belong to the node's main
 * thread; only {@link StepWindow#transfer} is called from link I/O threads.
 */
final class StageLoop {
    private final NodeContext ctx;
    private final Position pos;
    private final Inbox inbox;
    private final int id;
    private final boolean first;
    private final boolean last;
    private final int m;
    private final int rows;
    private final TrainConfig config;
    private final RingOptions opts;
    private final SchedulePolicy policy;
    private final Stage stage;
    private final RingPlan plan;
    private final long startStep;
    private final Replicas replicas; // null when failover is off
    private final int from;
    private final int to;
    private final long modelParameters;
    private final LrSchedule lr;
    private final Path checkpointDir;
    private final Feeder feeder;      // node 0 only
    private final StepWindow window;
    private final Evaluator evaluator;
    private final OpTrace trace;      // null unless the trace option is on

    private final ArrayDeque<Message> forwards = new ArrayDeque<>();
    private final ArrayDeque<Message> backwards = new ArrayDeque<>();
    private final ComputeOrder computeOrder = new ComputeOrder();
    private final ArrayDeque<Integer> freeSlots = new ArrayDeque<>();
    private final Map<Long, Integer> slotOf = new HashMap<>();
    private final Tensor[] received;  // the activation each slot's forward read, given back after its backward
    private final Map<Long, int[]> labels = new HashMap<>();
    private final Map<Long, Tensor> lastOutputs = new HashMap<>();
    private final ArrayDeque<long[]> lossQueue = new ArrayDeque<>(); // gpipe, last stage: {g, slot}
    private int outstanding;
    private long stepsDone;          // flushed: updates applied; async: mini-batches' worth of updates
    private int forwardsInStep;
    private int backwardsInStep;
    private long completedMicrobatches;
    private boolean finished;
    private boolean pausedForEval;
    private long savesReturned = -1;
    private long epochStartNs;
    private long staleDropped;
    /** The feeder: a failed-over node's request to rejoin, taken at its next replica point (else null). */
    private Message joinNote;

    /**
     * @param pos       where this node sits in the ring now
     * @param startStep the step the stages start (or go on) from: 0, a checkpoint's, or after a repair the rollback step
     * @param replicas  where snapshots go (null: failover off)
     */
    StageLoop(NodeContext ctx, Position pos, Inbox inbox, TrainConfig config, RingOptions opts, Stage stage, RingPlan plan, long startStep,
              long modelParameters, Path checkpointDir, Feeder feeder, Replicas replicas) {
        this.ctx = ctx;
        this.pos = pos;
        this.inbox = inbox;
        this.id = ctx.id();
        this.first = pos.first();
        this.last = pos.last();
        this.m = opts.microbatches();
        this.rows = opts.microbatchRows(config);
        this.config = config;
        this.opts = opts;
        this.policy = SchedulePolicy.of(opts.schedule());
        this.stage = stage;
        this.plan = plan;
        this.startStep = startStep;
        this.replicas = replicas;
        this.from = pos.from();
        this.to = pos.to();
        this.modelParameters = modelParameters;
        this.lr = LrSchedule.parse(config.schedule(), config.lr(), plan.scheduleSteps());
        this.checkpointDir = checkpointDir;
        this.feeder = feeder;
        this.window = new StepWindow(ctx, last, config.batchSize());
        this.evaluator = new Evaluator(ctx, pos, stage, opts.evalBatch(), window);
        this.trace = opts.trace() ? new OpTrace(ctx.time().nanoTime()) : null;
        for (int s = 0; s < stage.slotCount(); s++) {
            freeSlots.add(s);
        }
        this.received = new Tensor[stage.slotCount()];
    }

    /** Mini-batches this stage has applied. */
    long stepsDone() {
        return stepsDone;
    }

    /** The loop's state, for a stall report. */
    String state() {
        return "step " + stepsDone + ", outstanding " + outstanding + ", free slots " + freeSlots.size() + ", queued forwards "
                + forwards.size() + " (first step " + (forwards.isEmpty() ? "-" : forwards.peek().step()) + "), queued backwards "
                + backwards.size() + ", forwards/backwards in step " + forwardsInStep + "/" + backwardsInStep
                + (first ? ", " + feeder.state() : "");
    }

    /** Trains until node 0's {@code done} has gone round. */
    void run() throws InterruptedException {
        if (first && startStep >= plan.totalSteps()) {
            ctx.say("nothing to do: the checkpoint is at step " + startStep + " of " + plan.totalSteps());
        }
        stepsDone = startStep;
        completedMicrobatches = startStep * m;
        snapshot(); // a failure before the first replica point rolls back to here
        window.begin(ctx.time().nanoTime());
        epochStartNs = ctx.time().nanoTime();
        while (!finished) {
            if (ctx.stop().stopped()) {
                throw new StoppedException(ctx.stop().reason());
            }
            Message msg;
            while ((msg = inbox.poll()) != null) {
                intake(msg);
            }
            if (finished) {
                break;
            }
            if (act()) {
                continue;
            }
            if (first) {
                long s = feeder.boundaryDue(stepsDone);
                if (s >= 0 && feeder.drained(outstanding)) {
                    boundary(s);
                    continue;
                }
            }
            boolean slotsFull = freeSlots.isEmpty();
            long t0 = ctx.time().nanoTime();
            msg = inbox.take();
            long waited = ctx.time().nanoTime() - t0;
            if (pausedForEval) {
                window.exclude(waited); // waiting around an evaluation is not part of a training step
            } else {
                window.idle(waited, slotsFull);
                if (trace != null) {
                    trace.add(slotsFull ? OpTrace.Op.IDLE_SLOTS_FULL : OpTrace.Op.IDLE_NO_INPUT, -1, t0, t0 + waited);
                }
            }
            intake(msg);
        }
    }

    /** Sorts an arrived message into the loop's queues (or handles it at once when it needs no compute slot). */
    private void intake(Message msg) throws InterruptedException {
        if (msg.kind() == MessageKind.CONTROL) {
            RingControl c = RingControl.CODEC.decode(msg);
            if (c instanceof RingControl.NodeFailed f && msg.sender() == id) {
                if (pos.membership().contains(f.node())) {
                    throw new MembershipChange("node " + f.node() + " failed", msg);
                }
                return; // a note of a failure the ring has been repaired from already
            }
            if (c instanceof RingControl.NodeJoins j && msg.sender() == id) {
                if (first && !pos.membership().contains(j.node()) && joinNote == null) {
                    joinNote = msg; // taken at the next replica point, where every stage holds a snapshot: nothing to replay
                }
                return; // the other members learn of it from the feeder's token
            }
            if (c instanceof RingControl.Excluded) {
                return; // a late word of the start-up, when this node asked to rejoin
            }
            long repairEpoch = c instanceof RingControl.Repair r ? r.epoch() : c instanceof RingControl.Resume r ? r.epoch() : -1;
            if (repairEpoch > pos.epoch()) {
                throw new MembershipChange("node " + msg.sender() + " started a repair", msg);
            }
            if (repairEpoch >= 0) {
                return; // a token of a repair this ring has made
            }
        }
        if (!pos.current(msg)) {
            if (staleDropped++ < 3) {
                ctx.say("dropped a " + msg.kind() + " of epoch " + msg.epoch() + " from node " + msg.sender() + " (this ring is at epoch "
                        + pos.epoch() + ")");
            }
            if (msg.tensor() != null) {
                ctx.buffers().give(msg.tensor());
            }
            return;
        }
        switch (msg.kind()) {
            case ACTIVATION -> {
                pausedForEval = false;
                forwards.add(msg);
            }
            case GRADIENT -> backwards.add(msg);
            case EVAL -> {
                pausedForEval = true;
                evaluator.forward(msg);
            }
            case CREDIT -> feederOf(msg).credit(RingPayloads.credit(msg));
            case LOSS -> evaluator.result(RingPayloads.evalResult(msg));
            case CONTROL -> onControl(RingControl.CODEC.decode(msg), msg);
            default -> ctx.say("ignored an unexpected " + msg.kind() + " message from node " + msg.sender());
        }
    }

    private Feeder feederOf(Message msg) {
        if (feeder == null) {
            throw new ProtocolException(msg.sender(), "sent a " + msg.kind() + " to stage " + id + ", which only node 0 takes");
        }
        return feeder;
    }

    private void onControl(RingControl c, Message msg) {
        pausedForEval = true;
        switch (c) {
            case RingControl.Save save -> {
                if (!first) {
                    save(save.step());
                    send(RingControl.CODEC.message(id, ctx.spec().runId(), save));
                } else {
                    savesReturned = save.step();
                }
            }
            case RingControl.Done done -> {
                if (!first) {
                    send(RingControl.CODEC.message(id, ctx.spec().runId(), done));
                    reportStage();
                }
                finished = true;
            }
            default -> throw new ProtocolException(msg.sender(), "sent a " + c.getClass().getSimpleName().toLowerCase(Locale.ROOT)
                    + " token after the ring started");
        }
    }

    /** Does one piece of compute if any is possible ({@link ComputeOrder} picks); returns whether it did. */
    private boolean act() {
        if (last && policy.lossAfterAllForwards() && !lossQueue.isEmpty() && forwardsInStep == m) {
            long[] e = lossQueue.pollLast();
            lossAndBackward(e[0], (int) e[1]);
            return true;
        }
        switch (computeOrder.next(!backwards.isEmpty(), forwardReady())) {
            case BACKWARD -> {
                Message g = backwards.poll();
                backward(g);
            }
            case FORWARD -> {
                if (first) {
                    int slot = freeSlots.peek();
                    long g = feeder.nextMicrobatch();
                    long t0 = ctx.time().nanoTime();
                    int[] y = new int[rows];
                    Tensor x = feeder.start(slot, y);
                    window.compute(ctx.time().nanoTime() - t0);
                    forward(g, x, RingPayloads.labels(y, rows), y, null);
                } else {
                    Message a = forwards.poll();
                    forward(a.step() * m + a.microbatch(), a.tensor(), a.bytes(), null, a);
                }
            }
            case NOTHING -> {
                return false;
            }
        }
        return true;
    }

    /** Whether a forward can run now: a free slot and, on node 0, a microbatch to start, elsewhere its activation. */
    private boolean forwardReady() {
        if (freeSlots.isEmpty()) {
            return false;
        }
        if (first) {
            return feeder.canStart(policy, stepsDone);
        }
        Message a = forwards.peek();
        return a != null && policy.mayForward(a.step(), stepsDone);
    }

    /** At a drained boundary before step s: evaluate at an epoch's end, save, and finish after the last step. */
    private void boundary(long s) throws InterruptedException {
        feeder.boundaryHandled(s);
        long trainEnd = ctx.time().nanoTime();
        boolean epochEnd = feeder.epochEnd(s);
        if (epochEnd && s > startStep) {
            long spe = plan.stepsPerEpoch();
            int epoch = (int) ((s - 1) / spe) + 1;
            long stepsInEpoch = s - Math.max(startStep, (epoch - 1) * spe);
            evaluator.evaluate(feeder.data().test(), s, epoch, stepsInEpoch, (trainEnd - epochStartNs) / 1e9, feeder.takeEpochLoss(),
                    config.batchSize(), () -> intake(inbox.take()));
        }
        if (s > startStep && (s == plan.totalSteps() && checkpointDir != null || feeder.checkpointAt(s))) {
            save(s);
            send(RingControl.CODEC.message(id, ctx.spec().runId(), new RingControl.Save(s)));
            while (savesReturned != s) {
                intake(inbox.take());
            }
        }
        if (s >= plan.totalSteps()) {
            send(RingControl.CODEC.message(id, ctx.spec().runId(), new RingControl.Done(s)));
            inbox.await(x -> x.kind() == MessageKind.CONTROL && pos.current(x) && RingControl.CODEC.decode(x) instanceof RingControl.Done);
            reportStage();
            finished = true;
            return;
        }
        window.restart(outstanding);
        if (epochEnd) {
            epochStartNs = ctx.time().nanoTime();
        }
    }

    // ---- forward / backward on any stage

    /**
     * @param y    node 0: the microbatch's labels (else null)
     * @param from the activation message (null on node 0)
     */
    private void forward(long g, Tensor x, byte[] labelBytes, int[] y, Message from) {
        if (x == null) {
            throw new ProtocolException(from.sender(), "sent an activation without a tensor");
        }
        if (!first) {
            requireShape(from, x, config.model().widthAt(this.from), "an activation");
        }
        int slot = freeSlots.poll();
        slotOf.put(g, slot);
        if (!first) {
            received[slot] = x; // the layers read it again in the slot's backward
        }
        outstanding++;
        window.outstanding(outstanding);
        forwardsInStep++;
        long t0 = ctx.time().nanoTime();
        Tensor out = stage.forward(slot, x);
        long t1 = ctx.time().nanoTime();
        window.compute(t1 - t0);
        if (trace != null) {
            trace.add(OpTrace.Op.FORWARD, g, t0, t1);
        }
        if (!last) {
            sendTensor(pos.successor(), MessageKind.ACTIVATION, g, out, labelBytes);
            return;
        }
        labels.put(g, y != null ? y : RingPayloads.labels(from, x.rows()));
        lastOutputs.put(g, out);
        if (policy.lossAfterAllForwards()) {
            lossQueue.add(new long[]{g, slot});
        } else {
            lossAndBackward(g, slot);
        }
    }

    private void lossAndBackward(long g, int slot) {
        int[] y = labels.remove(g);
        Tensor out = lastOutputs.remove(g);
        long t0 = ctx.time().nanoTime();
        double loss = stage.lossAndBackward(slot, out, y, 0, 1f / config.batchSize());
        long t1 = ctx.time().nanoTime();
        window.compute(t1 - t0);
        if (trace != null) {
            trace.add(OpTrace.Op.BACKWARD, g, t0, t1);
        }
        RingPayloads.Credit credit = new RingPayloads.Credit(loss, rows);
        if (first) {
            feeder.credit(credit);
        } else {
            long s0 = ctx.time().nanoTime();
            pos.successor().send(pos.stamp(new Message(MessageKind.CREDIT, id, ctx.spec().runId(), g / m, (int) (g % m), null,
                    RingPayloads.credit(loss, rows))));
            window.send(ctx.time().nanoTime() - s0);
        }
        finishBackward(g, slot, stage.inputGradient(slot), loss);
    }

    /** A neighbour's tensor must be one microbatch of {@code width} features: anything else is its fault, not a shape to compute on. */
    private void requireShape(Message m, Tensor t, int width, String what) {
        if (t.rank() != 2 || t.rows() != rows || t.cols() != width) {
            throw new ProtocolException(m.sender(), "sent " + what + " of shape " + t.shapeString() + " for microbatch "
                    + (m.step() * this.m + m.microbatch()) + ", where stage " + id + " (layers [" + from + ", " + to + ")) takes ["
                    + rows + ", " + width + "]");
        }
    }

    private void backward(Message gradient) {
        long g = gradient.step() * m + gradient.microbatch();
        Integer slot = slotOf.get(g);
        if (slot == null) {
            throw new ProtocolException(gradient.sender(), "sent a gradient for microbatch " + g + ", which stage " + id
                    + " did not forward");
        }
        if (gradient.tensor() == null) {
            throw new ProtocolException(gradient.sender(), "sent a gradient without a tensor");
        }
        requireShape(gradient, gradient.tensor(), config.model().widthAt(to), "a gradient");
        long t0 = ctx.time().nanoTime();
        Tensor dIn = stage.backward(slot, gradient.tensor());
        long t1 = ctx.time().nanoTime();
        window.compute(t1 - t0);
        if (trace != null) {
            trace.add(OpTrace.Op.BACKWARD, g, t0, t1);
        }
        finishBackward(g, slot, dIn, 0);
        ctx.buffers().give(gradient.tensor()); // dIn (which a layer may have made a view of it) is sent, that is copied, by now
    }

    private void finishBackward(long g, int slot, Tensor dIn, double loss) {
        if (!first) {
            sendTensor(pos.predecessor(), MessageKind.GRADIENT, g, dIn, null);
        }
        slotOf.remove(g);
        ctx.buffers().give(received[slot]); // the slot's forward input: nothing reads it after the backward
        received[slot] = null;
        freeSlots.add(slot);
        outstanding--;
        backwardsInStep++;
        completedMicrobatches++;
        window.microbatchDone(loss);
        long t0 = ctx.time().nanoTime();
        long done = policy.afterBackward(stage, lr, g, m, backwardsInStep, completedMicrobatches, stepsDone);
        if (policy.updatesEveryMicrobatch() || done != stepsDone) {
            long t1 = ctx.time().nanoTime();
            window.compute(t1 - t0);
            if (trace != null) {
                trace.add(OpTrace.Op.UPDATE, g, t0, t1);
            }
        }
        if (done != stepsDone) {
            stepsDone = done;
            forwardsInStep = 0;
            backwardsInStep = 0;
            window.record(stepsDone, stage, outstanding);
            if (replicas != null && stepsDone % opts.replicaEvery() == 0) {
                snapshot();
                if (joinNote != null && stepsDone < plan.totalSteps()) {
                    throw new MembershipChange("a failed-over node rejoins", joinNote);
                }
            }
        }
    }

    /** Keeps a copy of the stage's state at this step and streams it to the buddy (failover on). */
    private void snapshot() {
        if (replicas == null) {
            return;
        }
        long t0 = ctx.time().nanoTime();
        int buddy = pos.membership().buddy(id);
        Link link = buddy < 0 ? null : buddy == pos.membership().successor(id) ? pos.successor() : pos.predecessor();
        replicas.snapshot(id, stepsDone, from, to, stage, link, pos.epoch());
        window.compute(ctx.time().nanoTime() - t0);
    }

    // ---- sending, checkpoints, the end

    private void sendTensor(Link link, MessageKind kind, long g, Tensor t, byte[] labelBytes) {
        long t0 = ctx.time().nanoTime();
        var f = link.send(pos.stamp(new Message(kind, id, ctx.spec().runId(), g / m, (int) (g % m), t, labelBytes)));
        window.send(ctx.time().nanoTime() - t0);
        f.whenComplete((v, e) -> window.transfer(ctx.time().nanoTime() - t0));
    }

    private void send(Message control) {
        long t0 = ctx.time().nanoTime();
        pos.successor().send(pos.stamp(control));
        window.send(ctx.time().nanoTime() - t0);
    }

    private void save(long step) {
        if (checkpointDir == null) {
            return;
        }
        stage.syncParameters(); // a save comes at a drained point: async's current weights may be another version
        StageCheckpoints.save(checkpointDir, id, ctx.spec().size(), step, stage, config, opts, from, to);
    }

    private void reportStage() {
        StageReport.write(ctx, stage, policy, stepsDone, completedMicrobatches, modelParameters, window, trace, m);
    }
}
