package io.ringtmp.ps.internal;

import io.ringtmp.node.Inbox;
import io.ringtmp.node.NodeContext;
import io.ringtmp.node.ProtocolException;
import io.ringtmp.node.NodeMetrics;
import io.ringtmp.node.NodeProgram;
import io.ringtmp.node.TrainingOptions;
import io.ringtmp.nn.ModelSpec;
import io.ringtmp.nn.optim.LrSchedule;
import io.ringtmp.ps.ConsistencyGate;
import io.ringtmp.ps.KeyRanges;
import io.ringtmp.ps.PsOptions;
import io.ringtmp.ps.ServerShard;
import io.ringtmp.tensor.Blas;
import io.ringtmp.tensor.Rng;
import io.ringtmp.tensor.Tensor;
import io.ringtmp.train.CheckpointException;
import io.ringtmp.train.TrainConfig;
import io.ringtmp.transport.Link;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.MessageKind;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A server node: holds key range {@code id} of the parameters ({@link ServerShard}), applies
 * pushes and answers pulls as its {@link ConsistencyGate} allows.
 *
 * <p>Threads: transport I/O threads only queue PULL and PUSH messages ({@link #onMessage});
 * the node's main thread runs the event loop in {@link #run}, which owns the shard, the
 * optimiser state and the gate, applies every update and sends every answer. An answer goes
 * out chunk by chunk, interleaved over the workers it is for, so that all their links stream at
 * once. Under bsp the answer to a pull of step t streams: chunk c goes out as soon as its update
 * from the W pushes of step t-1 is applied, while the later chunks of those pushes are still
 * arriving ({@link ConsistencyGate#releasableChunks}); the workers send that pull before their
 * push of t-1, so it is waiting when the first chunk is done. The loop ends when every worker
 * has pushed every step and worker 0's pull of the final weights is answered.
 *
 * <p>Checkpoints (with a {@code checkpointDir}): when the slowest worker's clock reaches t, a
 * multiple of {@code checkpointEvery} or the run's last step, the loop writes the shard as
 * {@link ShardCheckpoints#file step t} before it answers any pull (a step to be saved does not
 * stream: no chunk of it goes out before the save), and so before any worker can push step t
 * anywhere under bsp. Resume: the server first sends every worker the steps it
 * saved (a {@link PsControl.Saved}); the first pull it gets names the
 * step the workers chose, whose shard it then restores; every worker's first pull must be of
 * that step (of step 0 in a run that does not resume).
 *
 * <p>Metrics: one {@code step} line per round of W complete pushes (under bsp, one per step):
 * compute is applying updates, idle is waiting for a message with nothing to do, send is
 * handing answers to the transport; the time to write a checkpoint is in the round's wall time only.
 */
public final class ServerProgram implements NodeProgram {
    private final NodeContext ctx;
    private final PsOptions options;
    private final Inbox inbox;
    private final List<CompletableFuture<Void>> lastAnswer = new ArrayList<>();
    /** Worker nodes declared dead (from any thread); the loop retires each. */
    private final java.util.Set<Integer> failedWorkers = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Workers whose link broke (said once each). */
    private final java.util.Set<Integer> unreachable = new java.util.HashSet<>();
    private ServerShard shard;
    private KeyRanges ranges;
    private ConsistencyGate gate;
    private LrSchedule schedule;
    private TrainConfig config;
    private Link[] workerLinks;
    private final ByteCounters bytes;
    private boolean finalAnswered;
    private Path checkpointDir;
    private long checkpointEvery;
    private boolean resume;
    private Map<String, Object> identity;
    private boolean[] pulledYet;
    private PushStaleness staleness;
    /** The slowest clock last looked at for a checkpoint. */
    private long checkedClock;
    private long computeNs;
    private long idleNs;
    private long sendNs;

    public ServerProgram(NodeContext ctx, PsOptions options) {
        this.ctx = ctx;
        this.options = options;
        this.inbox = new Inbox(ctx.stop());
        List<Integer> workers = new ArrayList<>();
        for (int w = 0; w < options.workers(); w++) {
            workers.add(options.workerNode(w));
        }
        this.bytes = new ByteCounters(workers);
    }

    /**
     * A worker died: this server goes on without it (the loop retires it: the bsp barrier and the
     * ssp clock shrink to the live workers, and the survivors take its rows over from their next
     * step), and the node tells the other workers. A server's death, or the last worker's, stops
     * the run: nothing holds that key range.
     */
    @Override
    public boolean onNodeFailed(int node, int reportedBy) {
        if (options.isServer(node) || node >= options.servers() + options.workers()) {
            return false;
        }
        if (!failedWorkers.add(node)) {
            return true;
        }
        if (failedWorkers.size() >= options.workers()) {
            return false;
        }
        inbox.add(new Message(MessageKind.CONTROL, ctx.id(), ctx.spec().runId(), node, 0, null, null)); // a note to the loop
        return true;
    }

    @Override
    public void onMessage(Message m) {
        if (m.kind() == MessageKind.PULL || m.kind() == MessageKind.PUSH) {
            bytes.received(m);
            inbox.add(m);
        }
    }

    @Override
    public boolean run() throws InterruptedException {
        config = PsOptions.trainConfig(ctx.spec());
        Blas.setThreads(config.threads());
        ctx.say("node " + ctx.id() + " " + Blas.describe());
        ModelSpec model = config.model();
        int me = ctx.id();
        ranges = new KeyRanges(KeyRanges.parameterSizes(model), options.servers(), options.chunkFloats());
        checkpointDir = TrainingOptions.checkpointDir(ctx.spec());
        checkpointEvery = TrainingOptions.checkpointEvery(ctx.spec());
        resume = TrainingOptions.resume(ctx.spec());
        identity = ShardCheckpoints.identity(config, options, ranges, me);
        pulledYet = new boolean[options.workers()];
        staleness = new PushStaleness(options.workers());
        // A resumed shard's values come from its checkpoint, once the workers have chosen the step.
        Tensor initial = resume ? Tensor.zeros(ranges.size(me)) : ranges.initialValues(model, Rng.derive(config.seed(), "model"), me);
        shard = new ServerShard(ranges, me, initial, config.optimizer(), options.consistency(), options.workers());
        workerLinks = new Link[options.workers()];
        for (int w = 0; w < options.workers(); w++) {
            workerLinks[w] = ctx.link(options.workerNode(w));
        }
        ctx.say(String.format(Locale.ROOT, "server %d: keys [%d, %d) of %d (%d chunks), %s%s, %d workers", me,
                ranges.from(me), ranges.to(me), ranges.total(), shard.chunkCount(), options.consistency().id(),
                options.consistency() == io.ringtmp.ps.Consistency.SSP ? " staleness " + options.staleness() : "",
                options.workers()));
        try {
            if (resume && !offerSavedSteps()) {
                return false;
            }
            return loop();
        } catch (CheckpointException e) {
            ctx.say("parameter server " + me + ": " + e.getMessage());
            return false;
        }
    }

    /**
     * Sends every worker the steps this server can resume from, or why it cannot (a checkpoint
     * of another layout); returns false in that case.
     */
    private boolean offerSavedSteps() {
        int me = ctx.id();
        List<Long> steps = List.of();
        String error = null;
        try {
            steps = ShardCheckpoints.savedSteps(checkpointDir, me, identity, ctx::say);
        } catch (CheckpointException e) {
            error = e.getMessage();
        }
        Message m = PsControl.CODEC.message(me, ctx.spec().runId(), new PsControl.Saved(steps, error));
        for (int w = 0; w < options.workers(); w++) {
            workerLinks[w].send(m);
            bytes.sent(options.workerNode(w), m);
        }
        if (error != null) {
            ctx.say("parameter server " + me + " cannot resume: " + error);
            return false;
        }
        ctx.say("server " + me + ": saved steps " + steps + " in " + ShardCheckpoints.serverDir(checkpointDir, me));
        return true;
    }

    private boolean loop() throws InterruptedException {
        long roundStart = ctx.time().nanoTime();
        long round = 0;
        int pushes = 0;
        while (gate == null || !gate.allDone() || !finalAnswered) {
            long t0 = ctx.time().nanoTime();
            Message m = inbox.take();
            idleNs += ctx.time().nanoTime() - t0;
            if (m.kind() == MessageKind.CONTROL && m.sender() == ctx.id()) {
                retire((int) m.step());
                continue;
            }
            try {
                if (m.sender() < options.servers() || m.sender() >= options.servers() + options.workers()) {
                    throw new ProtocolException(m.sender(), "sent a " + m.kind() + " to server " + ctx.id() + ", which takes them from workers only");
                }
                int w = options.workerIndex(m.sender());
                if (!shard.live(w)) {
                    ctx.buffers().give(m.tensor());
                    continue; // sent before it died, queued after the news: the survivors have its rows now
                }
                if (m.kind() == MessageKind.PULL) {
                    onPull(w, m);
                } else {
                    if (gate == null) {
                        throw new ProtocolException(m.sender(), "pushed step " + m.step() + " before any pull");
                    }
                    if (m.microbatch() == 0) {
                        staleness.pushed(w, m.step(), shard.optimizerSteps(0));
                    }
                    long c0 = ctx.time().nanoTime();
                    boolean complete;
                    try {
                        complete = shard.accept(w, m.step(), m.microbatch(), m.tensor(), schedule);
                    } catch (IllegalArgumentException e) {
                        throw new ProtocolException(m.sender(), e.getMessage()); // a chunk of the wrong step, index or size
                    }
                    ctx.buffers().give(m.tensor()); // summed into the shard's chunk gradient: nothing reads it again
                    computeNs += ctx.time().nanoTime() - c0;
                    // Bsp: this chunk's update may be complete, so send it to the pulls of the next step
                    // at once, while the later chunks are still arriving.
                    answerChunks();
                    if (complete) {
                        try {
                            gate.pushed(w, m.step());
                        } catch (IllegalStateException e) {
                            throw new ProtocolException(m.sender(), e.getMessage()); // a push out of its clock's order
                        }
                        // Before any answer of this step (answerChunks streams no step that is to be saved):
                        // under bsp no worker then pushes the next step to any server before every server
                        // has saved this one.
                        checkpointIfDue();
                        answerReleasable();
                        if (++pushes >= shard.liveWorkers()) {
                            long now = ctx.time().nanoTime();
                            record(++round, now - roundStart);
                            roundStart = now;
                            pushes = 0;
                        }
                    }
                }
            } catch (ProtocolException e) {
                // A worker that breaks the protocol is cut off like a dead one: the run goes on without it.
                if (!cutOff(e)) {
                    throw e;
                }
            }
        }
        if (pushes > 0) {
            // Every worker pushes every step, so rounds come out even; the answer to worker 0's
            // final pull, after the last round, is not a round of its own.
            record(++round, ctx.time().nanoTime() - roundStart);
        }
        ctx.metrics().event("staleness", staleness.fields());
        ctx.say("server " + ctx.id() + ": " + staleness.describe());
        // The last answer must reach worker 0 before this node says goodbye and closes its links.
        for (CompletableFuture<Void> f : lastAnswer) {
            try {
                f.get(ctx.spec().failureTimeoutMs(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                ctx.say("the final weights may not have reached worker 0: " + e.getMessage());
                return false;
            }
        }
        return true;
    }

    /** Cuts off the worker that broke the protocol, as a failed node; whether the run goes on without it. */
    private boolean cutOff(ProtocolException e) {
        int node = e.peer();
        if (node < options.servers() || node >= options.servers() + options.workers() || !shard.live(options.workerIndex(node))) {
            return false;
        }
        ctx.say(e.getMessage());
        ctx.neighbours().cutOff(node, e.getMessage());
        return failedWorkers.contains(node) && !ctx.stop().stopped();
    }

    /** Goes on without worker node {@code node}: updates and answers wait for the live workers only. */
    private void retire(int node) {
        int w = options.workerIndex(node);
        if (!shard.live(w)) {
            return;
        }
        int completed = shard.retire(w, schedule);
        ctx.say(String.format(Locale.ROOT, "server %d: worker %d (node %d) failed: going on with the %d live workers (%d chunk updates "
                + "completed without it)", ctx.id(), w, node, shard.liveWorkers(), completed));
        if (gate != null) {
            gate.retire(w);
            answerChunks();
            checkpointIfDue();
            answerReleasable();
        }
    }

    private void onPull(int w, Message m) {
        if (m.bytes() == null || m.bytes().length != 16) {
            throw new ProtocolException(m.sender(), "sent a pull of " + (m.bytes() == null ? 0 : m.bytes().length)
                    + " bytes, expected 16 (the run's steps and the schedule's)");
        }
        ByteBuffer b = ByteBuffer.wrap(m.bytes());
        long total = b.getLong(), scheduleSteps = b.getLong();
        if (gate == null) {
            // The first pull of any worker sets the start: 0, or the step the workers chose to resume from.
            long start = m.step();
            if (!resume && start != 0) {
                throw new ProtocolException(m.sender(), "sent its first pull for step " + start
                        + ", expected 0: this run does not resume");
            }
            if (start > total) {
                throw new ProtocolException(m.sender(), "starts at step " + start + " of a run of " + total + " steps");
            }
            if (resume) {
                long t0 = ctx.time().nanoTime();
                Path f = ShardCheckpoints.restore(checkpointDir, ctx.id(), start, shard, identity);
                ctx.say(String.format(Locale.ROOT, "server %d: resumed from step %d (%s, %.0f ms)", ctx.id(), start, f,
                        (ctx.time().nanoTime() - t0) / 1e6));
            }
            gate = new ConsistencyGate(options.consistency(), options.staleness(), options.workers(), start, total, ctx.time());
            for (int x = 0; x < options.workers(); x++) {
                if (!shard.live(x)) {
                    gate.retire(x); // died before the first pull
                }
            }
            checkedClock = start;
            schedule = LrSchedule.parse(config.schedule(), config.lr(), Math.max(1, scheduleSteps));
        } else if (gate.totalSteps() != total) {
            throw new ProtocolException(m.sender(), "runs " + total + " steps, another worker "
                    + gate.totalSteps() + ": do they read the same data?");
        } else if (!pulledYet[w] && m.step() != gate.startStep()) {
            throw new ProtocolException(m.sender(), "starts at step " + m.step() + ", another worker at step "
                    + gate.startStep() + ": the workers disagree on the step to resume from");
        }
        pulledYet[w] = true;
        try {
            gate.request(w, m.step());
        } catch (IllegalArgumentException e) {
            throw new ProtocolException(m.sender(), e.getMessage());
        }
        answerChunks();
        answerReleasable();
    }

    /**
     * Whether the parameters of {@code step} may go out chunk by chunk as each chunk's update is
     * applied: not when the server must first write its checkpoint of that step, which needs
     * every chunk's update (the final weights never stream: the gate holds them back).
     */
    private boolean streamable(long step) {
        return checkpointDir == null || step != gate.totalSteps() && (checkpointEvery <= 0 || step % checkpointEvery != 0);
    }

    /**
     * Bsp: sends every chunk of a parked pull of step t whose update from the W pushes of step
     * t-1 is applied ({@link ServerShard#optimizerSteps}: a bsp chunk holds the parameters of
     * the step that counts its updates), each on its worker's link.
     */
    private void answerChunks() {
        if (gate.parkedCount() == 0) {
            return;
        }
        List<ConsistencyGate.ChunkRelease> rs = gate.releasableChunks(shard.chunkCount(), shard::optimizerSteps, this::streamable);
        if (rs.isEmpty()) {
            return;
        }
        long t0 = ctx.time().nanoTime();
        for (ConsistencyGate.ChunkRelease r : rs) {
            sendChunk(r.worker(), r.step(), r.chunk());
        }
        sendNs += ctx.time().nanoTime() - t0;
    }

    /**
     * Writes the shard when the slowest clock has just reached a checkpoint step: a multiple of
     * checkpointEvery, or the run's last step. Clocks move by one push at a time, so the slowest
     * passes every step.
     */
    private void checkpointIfDue() {
        long t = gate.minClock();
        if (checkpointDir == null || t <= checkedClock) {
            return;
        }
        checkedClock = t;
        if (t == gate.totalSteps() || checkpointEvery > 0 && t % checkpointEvery == 0) {
            long t0 = ctx.time().nanoTime();
            Path f = ShardCheckpoints.save(checkpointDir, ctx.id(), t, shard, identity, options.staleness(),
                    ShardCheckpoints.keep(options.consistency()));
            ctx.say(String.format(Locale.ROOT, "server %d: saved step %d (%s, %.0f ms)", ctx.id(), t, f,
                    (ctx.time().nanoTime() - t0) / 1e6));
        }
    }

    /** Answers every pull the gate now allows: each chunk to each released worker in turn. */
    private void answerReleasable() {
        List<ConsistencyGate.Release> rs = gate.releasable();
        if (rs.isEmpty()) {
            return;
        }
        long t0 = ctx.time().nanoTime();
        lastAnswer.clear();
        for (int c = 0; c < shard.chunkCount(); c++) {
            for (ConsistencyGate.Release r : rs) {
                if (c < r.fromChunk()) {
                    continue; // already sent by answerChunks
                }
                lastAnswer.add(sendChunk(r.worker(), r.step(), c));
            }
        }
        for (ConsistencyGate.Release r : rs) {
            if (r.step() >= gate.totalSteps()) {
                finalAnswered = true;
            }
        }
        sendNs += ctx.time().nanoTime() - t0;
    }

    /** Sends chunk {@code c} of the parameters of {@code step} to worker {@code w} (chunk 0 also dates the answer for the staleness report). */
    private CompletableFuture<Void> sendChunk(int w, long step, int c) {
        if (c == 0) {
            staleness.answered(w, step, shard.optimizerSteps(0));
        }
        Message m = new Message(MessageKind.PARAMS, ctx.id(), ctx.spec().runId(), step, c, shard.chunkValues(c), null);
        bytes.sent(options.workerNode(w), m);
        try {
            return workerLinks[w].send(m);
        } catch (io.ringtmp.transport.TransportException e) {
            // Its link broke: the worker died, and the failure detector will say so (the loop then
            // retires it). The other workers are not held up meanwhile.
            if (unreachable.add(w)) {
                ctx.say("server " + ctx.id() + ": cannot answer worker " + w + " (" + e.getMessage() + "): waiting for the failure detector");
            }
            return CompletableFuture.completedFuture(null);
        }
    }

    private void record(long round, long wallNs) {
        bytes.take();
        ctx.metrics().step(new NodeMetrics.Step(round, computeNs, idleNs, sendNs, 0, wallNs, bytes.sentByPeer(),
                bytes.receivedByPeer(), 4L * ranges.size(ctx.id()), 0, Double.NaN));
        computeNs = idleNs = sendNs = 0;
    }
}
