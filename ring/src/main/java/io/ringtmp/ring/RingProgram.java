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
import io.ringtmp.transport.Message;

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
    private volatile StageLoop loop;

    private RingProgram(NodeContext ctx) {
        this.ctx = ctx;
        this.config = TrainingOptions.config(ctx.spec());
        this.opts = RingOptions.from(ctx.spec());
        this.inbox = new Inbox(ctx.stop(), waitedMs -> {
            StageLoop l = loop;
            ctx.say("stage " + ctx.id() + " has waited " + waitedMs / 1000 + " s for its neighbours"
                    + (l == null ? " (starting)" : ": " + l.state()));
        });
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
        inbox.add(msg);
    }

    @Override
    public boolean run() throws InterruptedException {
        RingStartup.Started s = new RingStartup(ctx, inbox, config, opts).run();
        if (s == null) {
            return false;
        }
        Feeder feeder = ctx.id() == 0
                ? new Feeder(s.data(), config.seed(), opts.microbatches(), opts.microbatchRows(config), config.batchSize(), opts.inflight(),
                s.stage().slotCount(), s.plan(), TrainingOptions.checkpointDir(ctx.spec()), TrainingOptions.checkpointEvery(ctx.spec()))
                : null;
        loop = new StageLoop(ctx, inbox, config, opts, s.stage(), s.plan(), s.modelParameters(), TrainingOptions.checkpointDir(ctx.spec()),
                feeder);
        loop.run();
        return true;
    }
}
