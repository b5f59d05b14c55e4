package io.ringtmp.ring;

import io.ringtmp.data.DataSources;
import io.ringtmp.data.Dataset;
import io.ringtmp.data.TrainTest;
import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.CpuQuota;
import io.ringtmp.node.Inbox;
import io.ringtmp.node.NodeContext;
import io.ringtmp.node.SpecException;
import io.ringtmp.node.TrainingOptions;
import io.ringtmp.ring.internal.StageCheckpoints;
import io.ringtmp.tensor.Rng;
import io.ringtmp.train.TrainConfig;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.MessageKind;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The ring's start-up: a {@link RingControl.Join} token goes round from node 0; each node, when
 * it holds the token, times its layers ({@link Profiler}; in turn, so that nodes sharing a
 * machine do not disturb each other's measurement) and adds its entry; node 0 decides the
 * {@link RingPlan} ({@link RingPlanner}) and sends it round; each node builds only its own stage
 * (restoring its checkpoint on resume) and passes the plan on. When the plan is back at node 0
 * the ring is complete. A node restarted after the others failed it over learns so instead
 * ({@link Rejoin}) and rejoins the running ring.
 */
final class RingStartup {
    /** What a node starts training with. */
    record Started(RingPlan plan, Stage stage, TrainTest data, long modelParameters) {
    }

    private final NodeContext ctx;
    private final Inbox inbox;
    private final TrainConfig config;
    private final RingOptions opts;
    private final int id;
    private final boolean first;

    RingStartup(NodeContext ctx, Inbox inbox, TrainConfig config, RingOptions opts) {
        this.ctx = ctx;
        this.inbox = inbox;
        this.config = config;
        this.opts = opts;
        this.id = ctx.id();
        this.first = id == 0;
    }

    /** Runs the start-up; returns what to train with, or null when the plan says the ring cannot start (printed). */
    Started run() throws InterruptedException {
        ClusterSpec spec = ctx.spec();
        long modelSeed = Rng.derive(config.seed(), "model");
        TrainTest data = first ? openData(ctx, config) : null;
        boolean resume = TrainingOptions.resume(spec);
        Path checkpointDir = TrainingOptions.checkpointDir(spec);
        int rows = opts.microbatchRows(config);
        List<RingControl.JoinEntry> entries = first ? new ArrayList<>() : new ArrayList<>(await(RingControl.Join.class).entries());
        List<Partitioner.LayerProfile> profile = opts.profile().equals("measure")
                ? Profiler.measure(config.model(), rows, modelSeed, 50_000_000L, CpuQuota.share())
                : Profiler.estimate(config.model(), rows, modelSeed, 1e11);
        List<RingControl.SavedStage> saved = resume
                ? StageCheckpoints.list(checkpointDir, id, ctx::say).stream().map(s -> new RingControl.SavedStage(s.step(), s.from(), s.to())).toList()
                : List.of();
        Long budget = spec.node(id).memoryBytes();
        entries.add(new RingControl.JoinEntry(id, profile.stream().map(Partitioner.LayerProfile::seconds).toList(),
                budget != null ? budget : (long) (Runtime.getRuntime().maxMemory() * 0.8), saved));
        send(new RingControl.Join(entries));
        RingPlan plan;
        if (first) {
            entries = await(RingControl.Join.class).entries();
            long stepsPerEpoch = data.train().size() / config.batchSize();
            plan = RingPlanner.plan(entries, profile, config, opts, n -> spec.node(n).speed(), stepsPerEpoch, resume, checkpointDir);
            send(new RingControl.Plan(plan));
            await(RingControl.Plan.class);
        } else {
            plan = await(RingControl.Plan.class).plan();
            send(new RingControl.Plan(plan));
        }
        if (!plan.ok()) {
            ctx.say("ring not started: " + plan.error());
            return null;
        }
        int from = plan.cuts().get(id), to = plan.cuts().get(id + 1);
        Stage stage = new Stage(config.model().build(modelSeed, from, to), config.optimizer(), rows, opts.slots(id, spec.size()), first,
                id == spec.size() - 1, SchedulePolicy.of(opts.schedule()).keepsWeightVersions());
        if (plan.resumeStep() > 0) {
            StageCheckpoints.restore(checkpointDir, id, spec.size(), plan.resumeStep(), stage, config, opts, from, to);
        }
        long modelParameters = Profiler.parameterCount(config.model());
        if (first) {
            describe(plan);
        }
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("from", from);
        f.put("to", to);
        f.put("layers", stage.layers().layers().stream().map(l -> l.name()).toList());
        f.put("parameters", stage.layers().parameterCount());
        f.put("modelParameters", modelParameters);
        f.put("slots", stage.slotCount());
        f.put("slotBytes", stage.slotBytes());
        ctx.metrics().event("stage", f);
        return new Started(plan, stage, data, modelParameters);
    }

    /** Node 0: prints the partition and writes the {@code partition} and {@code training} events. */
    private void describe(RingPlan plan) {
        ctx.say(plan.describe().stripTrailing());
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("cuts", plan.cuts());
        f.put("predictedStageMs", plan.stageMs());
        f.put("predictedStageBytes", plan.stageBytes());
        f.put("schedule", opts.schedule().id());
        f.put("microbatches", opts.microbatches());
        f.put("inflight", opts.inflight());
        f.put("stages", plan.stageLines());
        ctx.metrics().event("partition", f);
        ctx.metrics().training(config.epochs(), plan.stepsPerEpoch(), plan.resumeStep(), plan.totalSteps());
        if (plan.resumeStep() > 0) {
            ctx.say("resumed every stage from its checkpoint of step " + plan.resumeStep());
        }
    }

    /** Opens the data set and checks it against the model and batch (node 0, or the node that feeds after node 0 died). */
    static TrainTest openData(NodeContext ctx, TrainConfig config) {
        ClusterSpec spec = ctx.spec();
        TrainTest data = DataSources.open(spec.data(), TrainingOptions.dataDir(spec), ctx::say);
        Dataset train = data.train();
        if (train.featureSize() != config.model().input() || train.numClasses() != config.model().outputSize()) {
            throw new SpecException("model " + spec.model() + " takes " + config.model().input() + " inputs and gives "
                    + config.model().outputSize() + " outputs, but data " + spec.data() + " has " + train.featureSize()
                    + " features and " + train.numClasses() + " classes");
        }
        if (train.size() / config.batchSize() == 0) {
            throw new SpecException("batch " + config.batchSize() + " exceeds the " + train.size() + " training samples of " + spec.data());
        }
        return data;
    }

    private void send(RingControl c) {
        ctx.successor().send(RingControl.CODEC.message(id, ctx.spec().runId(), c));
    }

    /**
     * The next control message of type {@code type} from the predecessor; other messages wait in the inbox.
     *
     * @throws Rejoin when the node learns instead that the ring runs without it
     */
    private <T extends RingControl> T await(Class<T> type) throws InterruptedException {
        Message m = inbox.await(x -> x.kind() == MessageKind.CONTROL
                && (type.isInstance(RingControl.CODEC.decode(x)) || RingControl.CODEC.decode(x) instanceof RingControl.Excluded));
        RingControl c = RingControl.CODEC.decode(m);
        if (c instanceof RingControl.Excluded e) {
            throw new Rejoin(e.reportedBy());
        }
        return type.cast(c);
    }

    /** The ring runs already, without this node (restarted after it was failed over): it rejoins instead of starting. */
    static final class Rejoin extends RuntimeException {
        Rejoin(int reportedBy) {
            super("node " + reportedBy + " says the ring runs without this node", null, false, false);
        }
    }
}
