package io.ringtmp.ps.internal;

import io.ringtmp.data.DataSources;
import io.ringtmp.data.Dataset;
import io.ringtmp.data.EpochOrder;
import io.ringtmp.data.TrainTest;
import io.ringtmp.node.Inbox;
import io.ringtmp.node.NodeContext;
import io.ringtmp.node.NodeMetrics;
import io.ringtmp.node.NodeProgram;
import io.ringtmp.node.ProtocolException;
import io.ringtmp.node.SpecException;
import io.ringtmp.node.StoppedException;
import io.ringtmp.node.TrainingOptions;
import io.ringtmp.nn.Activations;
import io.ringtmp.nn.Parameter;
import io.ringtmp.nn.Sequential;
import io.ringtmp.nn.SoftmaxCrossEntropy;
import io.ringtmp.ps.KeyRanges;
import io.ringtmp.ps.ParameterServer;
import io.ringtmp.ps.PsClient;
import io.ringtmp.ps.PsOptions;
import io.ringtmp.tensor.Blas;
import io.ringtmp.tensor.Rng;
import io.ringtmp.tensor.Tensor;
import io.ringtmp.train.Checkpoint;
import io.ringtmp.train.CheckpointException;
import io.ringtmp.train.Provenance;
import io.ringtmp.train.TrainConfig;
import io.ringtmp.train.Trainer;
import io.ringtmp.transport.Link;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.MessageKind;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A worker node: the whole model, and its run of rows of every global batch of the single-node
 * trainer's data order (B/W rows, one more for the first B mod W workers: {@link PsOptions#rows}) (so that under bsp the servers' sum of the W gradients,
 * each scaled by 1/B, is the trainer's gradient).
 *
 * <p>Per step t: wait for the parameters of t, pull those of t+1, compute the gradients of its
 * rows, push them. The pull of t+1 goes out before the push of t in every mode. Under bsp the
 * servers hold it and stream its chunks, each as soon as that chunk's update from all W pushes
 * of t is applied. Under asp and ssp they answer it as their gate allows, so the parameters
 * travel while t is computed, and the push of t is written by the transport while t+1 waits and
 * computes: the parameters of t+1 lack this worker's own push of t (a delay of one step), and
 * ssp's servers hold them back while the slowest worker is more than s steps behind.
 *
 * <p>Worker 0 also evaluates the parameters it pulled at the end of every epoch on the test
 * set (an {@code epoch} metrics event and a line), pulls the final weights once every worker
 * has pushed every step, and writes them as {@value ParameterServer#MODEL_FILE}.
 *
 * <p>Resume ({@code resume} option): before its first pull the worker waits for every server's
 * list of saved steps (a {@link PsControl.Saved} each) and starts at
 * the newest step in all of them ({@link ShardCheckpoints#commonStep}); every worker gets the
 * same lists, so every worker picks the same step, and its first pull tells the servers which
 * shard to restore. The data order is the trainer's, so the worker simply continues at that
 * step's position in it. No common step, or a server that cannot resume, ends the worker with
 * the reason.
 *
 * <p>Threads: the node's main thread runs {@link #run} and owns the model; transport I/O
 * threads call {@link #onMessage}, which only hands PARAMS to the {@link PsClient}'s queue and
 * the servers' lists of saved steps to the worker's own.
 */
public final class WorkerProgram implements NodeProgram {
    private final NodeContext ctx;
    private final PsOptions options;
    private final Inbox control;
    private volatile PsClient client;

    public WorkerProgram(NodeContext ctx, PsOptions options) {
        this.ctx = ctx;
        this.options = options;
        this.control = new Inbox(ctx.stop());
    }

    /** Worker nodes declared dead (from any thread). */
    private final java.util.Set<Integer> failedWorkers = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * Another worker died (a server says so): from this worker's next step the live workers share
     * the batch among them, and the first live one evaluates and writes the final weights. A
     * server's death stops the run: nothing holds its key range.
     */
    @Override
    public boolean onNodeFailed(int node, int reportedBy) {
        if (options.isServer(node) || node == ctx.id() || node >= options.servers() + options.workers()) {
            return false;
        }
        failedWorkers.add(node);
        return true;
    }

    /** The live workers' indices, in order. */
    private List<Integer> liveWorkers() {
        List<Integer> out = new ArrayList<>();
        for (int x = 0; x < options.workers(); x++) {
            if (!failedWorkers.contains(options.workerNode(x))) {
                out.add(x);
            }
        }
        return out;
    }

    @Override
    public void onMessage(Message m) {
        if (m.kind() == MessageKind.CONTROL) {
            // The servers' saved steps may come before this worker has made its client.
            control.add(m);
            return;
        }
        PsClient c = client;
        // Parameters come only in answer to a pull, which this worker sends after making its client.
        if (c != null) {
            c.onMessage(m);
        }
    }

    @Override
    public boolean run() throws InterruptedException {
        try {
            return train();
        } catch (CheckpointException e) {
            ctx.say("worker " + ctx.id() + ": " + e.getMessage());
            return false;
        }
    }

    /**
     * Waits for every server's saved steps and returns the newest step all of them saved.
     *
     * @throws CheckpointException when a server cannot resume, or no step is common to all
     */
    private long resumeStep() throws InterruptedException {
        Path dir = TrainingOptions.checkpointDir(ctx.spec());
        List<List<Long>> saved = new ArrayList<>(Collections.nCopies(options.servers(), null));
        int heard = 0;
        while (heard < options.servers()) {
            Message m;
            try {
                m = control.take();
            } catch (StoppedException e) {
                ctx.say("worker " + ctx.id() + ": stopped while waiting for the servers' saved steps (heard from " + heard
                        + " of " + options.servers() + " servers)");
                throw e;
            }
            int s = m.sender();
            if (s < 0 || s >= options.servers()) {
                throw new ProtocolException(s, "sent a control message to worker " + ctx.id() + ", which takes them from servers only");
            }
            if (!(PsControl.CODEC.decode(m) instanceof PsControl.Saved l)) {
                throw new ProtocolException(s, "sent a control message other than its saved steps");
            }
            if (l.error() != null) {
                throw new CheckpointException("server " + s + " cannot resume: " + l.error());
            }
            if (saved.get(s) == null) {
                saved.set(s, l.steps());
                heard++;
            }
        }
        long step = ShardCheckpoints.commonStep(dir, saved);
        StringBuilder have = new StringBuilder();
        for (int s = 0; s < saved.size(); s++) {
            have.append(s == 0 ? "" : ", ").append("server ").append(s).append(' ').append(saved.get(s));
        }
        ctx.say("worker " + options.workerIndex(ctx.id()) + ": resuming at step " + step + ", the newest step every server saved ("
                + have + ")");
        return step;
    }

    private boolean train() throws InterruptedException {
        TrainConfig config = PsOptions.trainConfig(ctx.spec());
        Blas.setThreads(config.threads());
        ctx.say("node " + ctx.id() + " " + Blas.describe());
        int w = options.workerIndex(ctx.id());
        List<Integer> live = liveWorkers();
        boolean evaluator = live.get(0) == w;
        TrainTest data = DataSources.open(ctx.spec().data(), TrainingOptions.dataDir(ctx.spec()), ctx::say);
        Dataset train = data.train();
        if (config.model().input() != train.featureSize() || config.model().outputSize() != train.numClasses()) {
            throw new SpecException("model " + ctx.spec().model() + " takes " + config.model().input() + " inputs and gives "
                    + config.model().outputSize() + " outputs, data " + train.name() + " has " + train.featureSize()
                    + " features and " + train.numClasses() + " classes");
        }
        int batch = config.batchSize();
        int rows = PsOptions.rows(live.indexOf(w), live.size(), batch); // B/W, or one more: the W runs of rows cover the batch
        int first = PsOptions.firstRow(live.indexOf(w), live.size(), batch);
        int stepsPerEpoch = train.size() / batch;
        if (stepsPerEpoch == 0) {
            throw new SpecException("batch " + batch + " exceeds the " + train.size() + " training samples of " + train.name());
        }
        long scheduleSteps = (long) config.epochs() * stepsPerEpoch;
        long total = config.maxSteps() > 0 ? Math.min(scheduleSteps, config.maxSteps()) : scheduleSteps;
        long start = 0;
        if (TrainingOptions.resume(ctx.spec())) {
            start = resumeStep();
            if (start > total) {
                throw new CheckpointException("resume: the servers' newest common checkpoint is of step " + start
                        + ", beyond this run's " + total + " steps (epochs " + config.epochs() + ", maxSteps " + config.maxSteps() + ")");
            }
        }
        Sequential model = config.model().build(Rng.derive(config.seed(), "model"));
        List<Parameter> params = model.parameters();
        KeyRanges ranges = KeyRanges.of(params, options.servers(), options.chunkFloats());
        List<Link> serverLinks = new ArrayList<>();
        for (int s = 0; s < options.servers(); s++) {
            serverLinks.add(ctx.link(s));
        }
        PsClient ps = new PsClient(ctx.id(), ctx.spec().runId(), ranges, serverLinks, params, total, scheduleSteps, ctx.time(), ctx.buffers(), ctx.stop());
        client = ps;
        EpochOrder order = new EpochOrder(Rng.derive(config.seed(), "data"), train.size());
        Activations acts = model.newActivations(rows);
        Tensor x = Tensor.zeros(rows, train.featureSize());
        int[] y = new int[rows];
        Tensor dLogits = Tensor.zeros(rows, model.outputSize());
        long parameterBytes = 4L * model.parameterCount();
        ctx.say(String.format(Locale.ROOT, "worker %d: %d of every %d rows, %d steps (%d per epoch), %d servers, %s",
                w, rows, batch, total, stepsPerEpoch, options.servers(), options.consistency().id()));
        if (evaluator) {
            ctx.metrics().training(config.epochs(), stepsPerEpoch, start, total);
        }

        // Only worker 0 pulls past the last step: the final weights, once every push is in.
        if (start < total || evaluator) {
            ps.pull(start);
        }
        long step = start;
        boolean pulledFinal = start >= total && evaluator;
        while (step < total) {
            int epoch = (int) (step / stepsPerEpoch);
            long epochEnd = Math.min(total, (long) (epoch + 1) * stepsPerEpoch);
            int[] perm = order.permutation(epoch);
            double lossSum = 0;
            long epochSteps = 0;
            long epochStart = ctx.time().nanoTime();
            while (step < epochEnd) {
                if (ctx.stop().stopped()) {
                    throw new StoppedException(ctx.stop().reason());
                }
                long t0 = ctx.time().nanoTime();
                if (failedWorkers.size() != options.workers() - live.size()) {
                    // A worker died: the survivors share the batch from this step (each learns of it at its own step,
                    // so for a step a few rows may be taken twice or not at all).
                    live = liveWorkers();
                    evaluator = live.get(0) == w;
                    rows = PsOptions.rows(live.indexOf(w), live.size(), batch);
                    first = PsOptions.firstRow(live.indexOf(w), live.size(), batch);
                    acts = model.newActivations(rows);
                    x = Tensor.zeros(rows, train.featureSize());
                    y = new int[rows];
                    dLogits = Tensor.zeros(rows, model.outputSize());
                    ctx.say(String.format(Locale.ROOT, "worker %d: %d live workers from step %d: this worker takes rows [%d, %d) of every %d%s",
                            w, live.size(), step, first, first + rows, batch, evaluator ? ", and evaluates" : ""));
                }
                ps.awaitParams(step);
                long next = step + 1;
                // Only worker 0 pulls past the last step: the final weights, once every push is in.
                boolean pullNext = next < total || evaluator;
                // Every mode: under asp and ssp the parameters of t+1 travel while t is computed;
                // under bsp the servers hold this pull and stream each chunk of t+1 as soon as its
                // update from the W pushes of t is applied.
                if (pullNext) {
                    ps.pull(next);
                    pulledFinal |= next >= total;
                }
                long c0 = ctx.time().nanoTime();
                int i = (int) (step % stepsPerEpoch);
                train.gatherInto(perm, i * batch + first, rows, x, y);
                Tensor logits = model.forward(x, acts, true);
                double loss = SoftmaxCrossEntropy.lossAndGradInto(logits, y, 0, 1f / batch, dLogits) / rows;
                model.backward(dLogits, acts, false);
                long computeNs = ctx.time().nanoTime() - c0;
                ps.push(step);
                step = next;
                lossSum += loss;
                epochSteps++;
                List<Map<Integer, Long>> bytes = ps.takeBytes();
                ctx.metrics().step(new NodeMetrics.Step(step, computeNs, ps.takeIdleNs(), ps.takeSendNs(), ps.takeRecvNs(),
                        ctx.time().nanoTime() - t0, bytes.get(0), bytes.get(1), parameterBytes, acts.bytes(), loss));
            }
            double seconds = (ctx.time().nanoTime() - epochStart) / 1e9;
            if (evaluator) {
                ps.awaitParams(step);
                ps.takeIdleNs();
                ps.takeRecvNs();
                Trainer.Evaluation ev = Trainer.evaluate(model, data.test(), Math.max(batch, 500));
                double samplesPerSec = epochSteps * (double) batch / seconds;
                Map<String, Object> f = new LinkedHashMap<>();
                f.put("epoch", epoch + 1); // 1-based, as in every metrics file
                f.put("step", step);
                f.put("trainLoss", lossSum / Math.max(1, epochSteps));
                f.put("testLoss", ev.loss());
                f.put("testAccuracy", ev.accuracy());
                f.put("samplesPerSec", samplesPerSec);
                f.put("seconds", seconds);
                ctx.metrics().event("epoch", f);
                ctx.say(String.format(Locale.ROOT, "epoch %d: test accuracy %.4f (loss %.4f), %,.0f samples/s",
                        epoch + 1, ev.accuracy(), ev.loss(), samplesPerSec));
            }
        }
        if (evaluator) {
            if (!pulledFinal) {
                ps.pull(total); // the first live worker since its last step: it writes the final weights
            }
            // At once after the last epoch's evaluation; a run resumed at its last step waits here.
            ps.awaitParams(total);
            Path file = writeModel(config, model, total);
            ctx.say("final weights (step " + total + "): " + file);
        }
        return true;
    }

    /** Worker 0's final weights, named as the single-node trainer names them. */
    private Path writeModel(TrainConfig config, Sequential model, long steps) {
        Path dir = TrainingOptions.checkpointDir(ctx.spec());
        if (dir == null) {
            dir = Path.of(ctx.spec().metricsDir());
        }
        Map<String, Object> h = ShardCheckpoints.runHeader("parameter-server", config, options);
        h.put("step", steps);
        h.put("staleness", options.staleness());
        h.put("provenance", Provenance.current());
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (Parameter p : model.parameters()) {
            t.put(p.name(), p.value());
        }
        Path file = dir.resolve(ParameterServer.MODEL_FILE);
        Checkpoint.write(file, new Checkpoint(h, t));
        return file;
    }
}
