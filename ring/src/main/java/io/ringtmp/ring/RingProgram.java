package io.ringtmp.ring;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringtmp.data.DataSources;
import io.ringtmp.data.Dataset;
import io.ringtmp.data.EpochOrder;
import io.ringtmp.data.TrainTest;
import io.ringtmp.nn.LayerSpec;
import io.ringtmp.nn.ModelSpec;
import io.ringtmp.nn.SoftmaxCrossEntropy;
import io.ringtmp.nn.optim.LrSchedule;
import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.CpuQuota;
import io.ringtmp.node.NodeContext;
import io.ringtmp.node.NodeMetrics;
import io.ringtmp.node.NodeProgram;
import io.ringtmp.node.TrainingOptions;
import io.ringtmp.ring.internal.ComputeOrder;
import io.ringtmp.ring.internal.OpTrace;
import io.ringtmp.ring.internal.StageCheckpoints;
import io.ringtmp.tensor.Blas;
import io.ringtmp.tensor.Rng;
import io.ringtmp.tensor.Tensor;
import io.ringtmp.train.TrainConfig;
import io.ringtmp.transport.Link;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.MessageKind;
import io.ringtmp.transport.TransportException;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * One node of the ring: stage {@code id} of K, run as an event loop on the node's main thread.
 * Nobody schedules anybody: each stage decides what to compute next from what has arrived.
 *
 * <p><b>Start-up.</b> A {@code join} token goes round the ring from node 0; each node, when it
 * holds the token, times its layers ({@link Profiler}; in turn, so that nodes sharing a machine
 * do not disturb each other's measurement) and adds its layer times, memory budget and saved
 * checkpoints; node 0 cuts the model ({@link Partitioner}) and sends a {@code plan} token round;
 * each node builds only its own stage (and restores its checkpoint on resume) and passes the plan
 * on. When the plan is back at node 0 the ring is complete.
 *
 * <p><b>Training.</b> Node i sends activations to node i+1 ({@code ACTIVATION}, carrying the
 * microbatch's labels in the same frame, which each stage passes on untouched: only node 0 reads
 * the data set, so the other nodes need neither the files nor the memory) and gradients to node i−1
 * ({@code GRADIENT}). The closing link from node K−1 to node 0 carries a {@code CREDIT} per
 * finished microbatch (with its loss) and the membership tokens. Node 0 starts a microbatch when
 * it holds a credit and a free activation slot, so at most {@code inflight} microbatches are in
 * the pipe and each stage holds at most its slot count of activations. Messages arrive on
 * transport threads and are queued; the loop prefers a backward (which frees memory) to a
 * forward, but not twice in a row while a forward is ready ({@link ComputeOrder}), and the links
 * send on their own I/O threads, so a stage computes microbatch m+1 while m is on the wire.
 *
 * <p><b>Schedules.</b> See {@link Schedule}: gpipe and 1f1b update every stage once per mini-batch
 * (node 0 starts mini-batch s+1 only after its own update of s, which comes after every other
 * stage's), async after every microbatch with weight stashing. Evaluation (at each epoch's end)
 * and checkpoints (every {@code checkpointEvery} steps and at the end) happen when node 0 has
 * drained the pipe: {@code EVAL} batches flow forward and the last stage returns loss and
 * accuracy to node 0; a {@code save} token goes round and every node writes its stage. A final
 * {@code done} token ends the run.
 *
 * <p>Threads: {@link #onMessage} (transport threads) only queues; everything else, including
 * every stage's weights, slots and credits, belongs to the thread in {@link #run}.
 */
public final class RingProgram implements NodeProgram {
    /** Creates the ring program on a node. */
    public static final NodeProgram.Factory FACTORY = new NodeProgram.Factory() {
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
    };

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long POLL_MS = 100;

    private final NodeContext ctx;
    private final ClusterSpec spec;
    private final int id;
    private final int stages;
    private final boolean first;
    private final boolean last;
    private final TrainConfig config;
    private final RingOptions opts;
    private final int rows;
    private final int m;
    private final LinkedBlockingQueue<Message> inbox = new LinkedBlockingQueue<>();
    private final ArrayDeque<Message> deferred = new ArrayDeque<>();
    private final Path checkpointDir;
    private final long checkpointEvery;

    // Set up by setup(); owned by the loop thread.
    private Stage stage;
    private int from;
    private int to;
    private long startStep;
    private long totalSteps;
    private int stepsPerEpoch;
    private LrSchedule lrSchedule;
    private long modelParameters;

    // Pipeline state.
    private final ArrayDeque<Message> forwards = new ArrayDeque<>();
    private final ArrayDeque<Message> backwards = new ArrayDeque<>();
    private final ComputeOrder computeOrder = new ComputeOrder();
    private final Map<Long, int[]> labels = new HashMap<>();
    private final Map<Long, Integer> slotOf = new HashMap<>();
    private final ArrayDeque<Integer> freeSlots = new ArrayDeque<>();
    private final ArrayDeque<long[]> lossQueue = new ArrayDeque<>(); // gpipe, last stage: {g, slot}
    private final Map<Long, Tensor> lastOutputs = new HashMap<>();
    private int outstanding;
    private int peakOutstanding;
    private long stepsDone;          // sync: updates applied; async: mini-batches' worth of updates
    private int forwardsInStep;
    private int backwardsInStep;
    private long completedMicrobatches;
    private boolean finished;

    // Node 0 only.
    private TrainTest data;
    private EpochOrder order;
    private int[] permutation;
    private int permutationEpoch = -1;
    private Tensor[] slotInputs;
    private Tensor[] received;       // other nodes: the activation each slot's forward read, given back after its backward
    private long nextG;
    private int credits;
    private double epochLoss;
    private long epochSamples;
    private long epochStartNs;
    private long epochTrainNs;
    private long boundaryHandled = -1;
    private long savesReturned = -1;
    private double evalLoss;
    private long evalCorrect;
    private int evalResults;
    private io.ringtmp.nn.Activations evalActs;

    // Metrics of the current step window.
    private long computeNs;
    private long idleNs;
    /** Idle time of the whole run with every slot taken (waiting for a gradient), and with a slot free (waiting for input or a credit). */
    private long idleSlotsFullNs;
    private long idleNoInputNs;
    private long sendNs;
    private long windowStartNs;
    private double windowLoss;
    private int windowMicrobatches;
    private final LongAdder transferNs = new LongAdder();
    private final Map<Integer, long[]> lastLinkBytes = new HashMap<>();
    private boolean pausedForEval;
    /** The loop's timeline when the {@code trace} option is on, else null. */
    private OpTrace trace;

    private RingProgram(NodeContext ctx) {
        this.ctx = ctx;
        this.spec = ctx.spec();
        this.id = ctx.id();
        this.stages = spec.size();
        this.first = id == 0;
        this.last = id == stages - 1;
        this.config = TrainingOptions.config(spec);
        this.opts = RingOptions.from(spec);
        this.rows = opts.microbatchRows(config);
        this.m = opts.microbatches();
        this.checkpointDir = TrainingOptions.checkpointDir(spec);
        this.checkpointEvery = TrainingOptions.checkpointEvery(spec);
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

    /** The run was stopped (SIGTERM, a failed or departed neighbour). */
    private static final class Stopped extends RuntimeException {
        Stopped() {
            super(null, null, false, false);
        }
    }

    @Override
    public boolean run() throws InterruptedException {
        try {
            if (!setup()) {
                return false;
            }
            train();
            return true;
        } catch (Stopped e) {
            return false;
        } catch (TransportException | CompletionException e) {
            ctx.say("link error: " + e.getMessage() + "; waiting for the failure detector");
            ctx.stop().await(2L * spec.failureTimeoutMs());
            return false;
        }
    }

    // ---------------------------------------------------------------- messages

    private Message next(boolean block) throws InterruptedException {
        if (!deferred.isEmpty()) {
            return deferred.poll();
        }
        if (!block) {
            return inbox.poll();
        }
        long waitedMs = 0;
        while (true) {
            Message msg = inbox.poll(POLL_MS, TimeUnit.MILLISECONDS);
            if (msg != null) {
                return msg;
            }
            if (ctx.stop().stopped()) {
                throw new Stopped();
            }
            waitedMs += POLL_MS;
            if (waitedMs % 30_000 == 0) {
                ctx.say("stage " + id + " has waited " + waitedMs / 1000 + " s for its neighbours: " + state());
            }
        }
    }

    /** The loop's state, for a stall report. */
    private String state() {
        return "step " + stepsDone + ", outstanding " + outstanding + ", free slots " + freeSlots.size() + ", queued forwards "
                + forwards.size() + " (first step " + (forwards.isEmpty() ? "-" : forwards.peek().step()) + "), queued backwards "
                + backwards.size() + ", forwards/backwards in step " + forwardsInStep + "/" + backwardsInStep
                + (first ? ", next microbatch " + nextG + ", credits " + credits + ", boundary handled " + boundaryHandled : "");
    }

    /** Waits for a CONTROL message whose word is {@code word}; keeps other messages for later. */
    private String awaitControl(String word) throws InterruptedException {
        List<Message> other = new ArrayList<>();
        try {
            while (true) {
                Message msg = inbox.poll(POLL_MS, TimeUnit.MILLISECONDS);
                if (msg == null) {
                    if (ctx.stop().stopped()) {
                        throw new Stopped();
                    }
                    continue;
                }
                if (msg.kind() == MessageKind.CONTROL && text(msg).startsWith(word + " ")) {
                    return text(msg).substring(word.length() + 1);
                }
                other.add(msg);
            }
        } finally {
            deferred.addAll(other);
        }
    }

    private static String text(Message msg) {
        return msg.bytes() == null ? "" : new String(msg.bytes(), StandardCharsets.UTF_8);
    }

    private void control(Link link, String word, String body) {
        long t0 = ctx.time().nanoTime();
        link.send(Message.control(MessageKind.CONTROL, id, spec.runId(), 0, (word + " " + body).getBytes(StandardCharsets.UTF_8)));
        sendNs += ctx.time().nanoTime() - t0;
    }

    private void sendTensor(Link link, MessageKind kind, long step, int mb, Tensor t, byte[] labelBytes) {
        long t0 = ctx.time().nanoTime();
        var f = link.send(new Message(kind, id, spec.runId(), step, mb, t, labelBytes));
        sendNs += ctx.time().nanoTime() - t0;
        if (kind == MessageKind.ACTIVATION || kind == MessageKind.GRADIENT) {
            f.whenComplete((v, e) -> transferNs.add(ctx.time().nanoTime() - t0));
        }
    }

    /** Labels as little-endian int32s, the byte payload of an activation message. */
    static byte[] encodeLabels(int[] y, int n) {
        ByteBuffer b = ByteBuffer.allocate(4 * n).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.putInt(y[i]);
        }
        return b.array();
    }

    static int[] decodeLabels(byte[] bytes, int rows) {
        if (bytes == null || bytes.length != 4 * rows) {
            throw new IllegalStateException("an activation of " + rows + " rows arrived with "
                    + (bytes == null ? "no" : bytes.length + " bytes of") + " labels (expected " + 4 * rows + ")");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int[] y = new int[rows];
        for (int i = 0; i < rows; i++) {
            y[i] = b.getInt();
        }
        return y;
    }

    // ---------------------------------------------------------------- start-up

    private boolean setup() throws InterruptedException {
        long modelSeed = Rng.derive(config.seed(), "model");
        if (first) {
            openData();
        }
        boolean resume = TrainingOptions.resume(spec);
        // Nodes profile in turn, each when the join token reaches it, so that nodes sharing a
        // machine do not slow down each other's measurement (which would skew the speeds).
        List<Map<String, Object>> entries = first ? new ArrayList<>() : new ArrayList<>(parse(awaitControl("join")));
        List<Partitioner.LayerProfile> profile = opts.profile().equals("measure")
                ? Profiler.measure(config.model(), rows, modelSeed, 50_000_000L, CpuQuota.share())
                : Profiler.estimate(config.model(), rows, modelSeed, 1e11);
        List<StageCheckpoints.Saved> saved = resume ? StageCheckpoints.list(checkpointDir, id) : List.of();
        Map<String, Object> mine = new LinkedHashMap<>();
        mine.put("id", id);
        mine.put("layerSeconds", profile.stream().map(Partitioner.LayerProfile::seconds).toList());
        Long budget = spec.node(id).memoryBytes();
        mine.put("memoryBytes", budget != null ? budget : (long) (Runtime.getRuntime().maxMemory() * 0.8));
        mine.put("saved", saved.stream().map(s -> List.of(s.step(), s.from(), s.to())).toList());
        entries.add(mine);
        control(ctx.successor(), "join", json(Map.of("entries", entries)));
        if (first) {
            entries = parse(awaitControl("join"));
        }
        Map<String, Object> plan;
        if (first) {
            plan = decide(entries, profile, resume);
            control(ctx.successor(), "plan", json(plan));
            awaitControl("plan");
        } else {
            plan = parsePlan(awaitControl("plan"));
            control(ctx.successor(), "plan", json(plan));
        }
        if (plan.get("error") != null) {
            ctx.say("ring not started: " + plan.get("error"));
            return false;
        }
        @SuppressWarnings("unchecked")
        List<Integer> cuts = ((List<Number>) plan.get("cuts")).stream().map(Number::intValue).toList();
        from = cuts.get(id);
        to = cuts.get(id + 1);
        startStep = ((Number) plan.get("resumeStep")).longValue();
        totalSteps = ((Number) plan.get("totalSteps")).longValue();
        lrSchedule = LrSchedule.parse(config.schedule(), config.lr(), ((Number) plan.get("scheduleSteps")).longValue());
        buildStage(modelSeed);
        if (startStep > 0) {
            StageCheckpoints.restore(checkpointDir, id, startStep, stage, config, from, to);
        }
        if (first) {
            ctx.say(String.valueOf(plan.get("describe")).stripTrailing());
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("cuts", cuts);
            f.put("predictedStageMs", plan.get("stageMs"));
            f.put("predictedStageBytes", plan.get("stageBytes"));
            f.put("schedule", opts.schedule().id());
            f.put("microbatches", m);
            f.put("inflight", opts.inflight());
            f.put("stages", String.valueOf(plan.get("describe")).strip().lines().map(String::strip).toList());
            ctx.metrics().event("partition", f);
            ctx.metrics().training(config.epochs(), stepsPerEpoch, startStep, totalSteps);
            if (startStep > 0) {
                ctx.say("resumed every stage from its checkpoint of step " + startStep);
            }
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
        return true;
    }

    private Map<String, Object> decide(List<Map<String, Object>> entries, List<Partitioner.LayerProfile> profile, boolean resume) {
        Map<String, Object> plan = new LinkedHashMap<>();
        plan.put("error", null);
        try {
            double reference = profile.stream().mapToDouble(Partitioner.LayerProfile::seconds).sum();
            List<Partitioner.NodeProfile> nodes = new ArrayList<>();
            for (Map<String, Object> e : entries) {
                @SuppressWarnings("unchecked")
                double total = ((List<Number>) e.get("layerSeconds")).stream().mapToDouble(Number::doubleValue).sum();
                int node = ((Number) e.get("id")).intValue();
                Double hint = spec.node(node).speed();
                // Measured layer times give each node's speed; with estimated ones, the spec's speed hint does.
                double speed = opts.profile().equals("estimate") ? (hint != null ? hint : 1) : total > 0 ? reference / total : 1;
                nodes.add(new Partitioner.NodeProfile(node, speed, ((Number) e.get("memoryBytes")).longValue()));
            }
            int stateCopies = switch (config.optimizer().kind()) {
                case SGD -> config.optimizer().momentum() > 0 ? 1 : 0;
                case ADAM -> 2;
            };
            int stashes = opts.schedule() == Schedule.ASYNC ? opts.slots(0, stages) : 0;
            Partitioner.MemoryModel memory = new Partitioner.MemoryModel(2 + stateCopies + stashes, opts.slots(0, stages));
            long resumeStep = 0;
            Partitioner.Plan p;
            if (resume) {
                resumeStep = commonStep(entries);
                List<Integer> sizes = new ArrayList<>();
                for (Map<String, Object> e : entries) {
                    for (Object o : (List<?>) e.get("saved")) {
                        List<?> s = (List<?>) o;
                        if (((Number) s.get(0)).longValue() == resumeStep) {
                            sizes.add(((Number) s.get(2)).intValue() - ((Number) s.get(1)).intValue());
                        }
                    }
                }
                p = Partitioner.manual(sizes, profile, nodes, memory);
            } else {
                p = Partitioner.plan(opts.partition(), profile, nodes, memory);
            }
            long all = (long) config.epochs() * stepsPerEpoch;
            plan.put("cuts", p.cuts());
            plan.put("resumeStep", resumeStep);
            plan.put("scheduleSteps", all);
            plan.put("totalSteps", config.maxSteps() > 0 ? Math.min(all, config.maxSteps()) : all);
            plan.put("stageMs", p.stageSeconds().stream().map(s -> s * 1e3).toList());
            plan.put("stageBytes", p.stageBytes());
            plan.put("describe", p.describe(profile));
        } catch (RuntimeException e) {
            plan.put("error", e.getMessage());
        }
        return plan;
    }

    /** The last step at which every stage saved a checkpoint. */
    private long commonStep(List<Map<String, Object>> entries) {
        java.util.Set<Long> common = null;
        StringBuilder have = new StringBuilder();
        for (Map<String, Object> e : entries) {
            java.util.Set<Long> steps = new java.util.TreeSet<>();
            for (Object o : (List<?>) e.get("saved")) {
                steps.add(((Number) ((List<?>) o).get(0)).longValue());
            }
            have.append(" node ").append(e.get("id")).append(": ").append(steps);
            if (common == null) {
                common = new java.util.TreeSet<>(steps);
            } else {
                common.retainAll(steps);
            }
        }
        if (common == null || common.isEmpty()) {
            throw new IllegalArgumentException("resume: no step at which every stage saved a checkpoint in " + checkpointDir
                    + " (saved steps per node:" + have + ")");
        }
        return ((java.util.TreeSet<Long>) common).last();
    }

    private void buildStage(long modelSeed) {
        int slots = opts.slots(id, stages);
        stage = new Stage(config.model().build(modelSeed, from, to), config.optimizer(), rows, slots, first, last,
                opts.schedule() == Schedule.ASYNC);
        modelParameters = Profiler.parameterCount(config.model());
        for (int s = 0; s < slots; s++) {
            freeSlots.add(s);
        }
        received = new Tensor[slots];
        if (first) {
            slotInputs = new Tensor[slots];
            for (int s = 0; s < slots; s++) {
                slotInputs[s] = Tensor.zeros(rows, data.train().featureSize());
            }
        }
    }

    /** Node 0: opens the data set and checks it against the model and batch. */
    private void openData() {
        data = DataSources.open(spec.data(), TrainingOptions.dataDir(spec), ctx::say);
        Dataset train = data.train();
        if (train.featureSize() != config.model().input() || train.numClasses() != config.model().outputSize()) {
            throw new IllegalArgumentException("model " + spec.model() + " takes " + config.model().input() + " inputs and gives "
                    + config.model().outputSize() + " outputs, but data " + spec.data() + " has " + train.featureSize()
                    + " features and " + train.numClasses() + " classes");
        }
        stepsPerEpoch = train.size() / config.batchSize();
        if (stepsPerEpoch == 0) {
            throw new IllegalArgumentException("batch " + config.batchSize() + " exceeds the " + train.size() + " training samples of "
                    + spec.data());
        }
        order = new EpochOrder(Rng.derive(config.seed(), "data"), train.size());
    }

    private static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, Object> parsePlan(String token) {
        try {
            return JSON.readValue(token, new TypeReference<>() { });
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("garbled ring plan: " + e.getOriginalMessage());
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> parse(String token) {
        try {
            return (List<Map<String, Object>>) JSON.readValue(token, Map.class).get("entries");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("garbled ring token: " + e.getOriginalMessage());
        }
    }

    // ---------------------------------------------------------------- training

    private void train() throws InterruptedException {
        credits = opts.inflight();
        nextG = startStep * m;
        if (opts.trace()) {
            trace = new OpTrace(ctx.time().nanoTime());
        }
        if (first && startStep >= totalSteps) {
            ctx.say("nothing to do: the checkpoint is at step " + startStep + " of " + totalSteps);
        }
        stepsDone = startStep;
        completedMicrobatches = startStep * m;
        windowStartNs = ctx.time().nanoTime();
        epochStartNs = windowStartNs;
        while (!finished) {
            if (ctx.stop().stopped()) {
                throw new Stopped();
            }
            drainInbox();
            if (finished) {
                break;
            }
            if (act()) {
                continue;
            }
            if (first && atBoundary() && drained()) {
                boundary();
                continue;
            }
            boolean slotsFull = freeSlots.isEmpty();
            long t0 = ctx.time().nanoTime();
            Message msg = next(true);
            long waited = ctx.time().nanoTime() - t0;
            if (pausedForEval) {
                windowStartNs += waited; // waiting around an evaluation is not part of a training step
            } else {
                idleNs += waited;
                // Why: every slot holds a microbatch whose gradient has not come back, or nothing arrived to start.
                if (slotsFull) {
                    idleSlotsFullNs += waited;
                } else {
                    idleNoInputNs += waited;
                }
                if (trace != null) {
                    trace.add(slotsFull ? OpTrace.Op.IDLE_SLOTS_FULL : OpTrace.Op.IDLE_NO_INPUT, -1, t0, t0 + waited);
                }
            }
            intake(msg);
        }
    }

    private void drainInbox() throws InterruptedException {
        Message msg;
        while ((msg = next(false)) != null) {
            intake(msg);
        }
    }

    /** Sorts an arrived message into the loop's queues (or handles it at once when it needs no compute slot). */
    private void intake(Message msg) throws InterruptedException {
        switch (msg.kind()) {
            case ACTIVATION -> {
                pausedForEval = false;
                forwards.add(msg);
            }
            case GRADIENT -> backwards.add(msg);
            case EVAL -> {
                pausedForEval = true;
                evalForward(msg);
            }
            case CREDIT -> onCredit(msg.bytes());
            case LOSS -> {
                ByteBuffer bb = ByteBuffer.wrap(msg.bytes());
                evalLoss += bb.getDouble();
                evalCorrect += bb.getLong();
                evalResults++;
            }
            case CONTROL -> onControl(text(msg));
            default -> ctx.say("ignored an unexpected " + msg.kind() + " message from node " + msg.sender());
        }
    }

    private void onControl(String word) {
        pausedForEval = true;
        if (word.startsWith("save ")) {
            long step = Long.parseLong(word.substring(5).trim());
            if (!first) {
                save(step);
                control(ctx.successor(), "save", Long.toString(step));
            } else {
                savesReturned = step;
            }
        } else if (word.startsWith("done ")) {
            if (!first) {
                control(ctx.successor(), "done", word.substring(5));
                reportStage();
            }
            finished = true;
        } else {
            ctx.say("ignored an unexpected control message: " + word);
        }
    }

    /** Does one piece of compute if any is possible ({@link ComputeOrder} picks); returns whether it did. */
    private boolean act() {
        if (last && opts.schedule() == Schedule.GPIPE && !lossQueue.isEmpty() && forwardsInStep == m) {
            long[] e = lossQueue.pollLast();
            lossAndBackward(e[0], (int) e[1]);
            return true;
        }
        switch (computeOrder.next(!backwards.isEmpty(), forwardReady())) {
            case BACKWARD -> {
                Message g = backwards.poll();
                backward(g.step() * m + g.microbatch(), g.tensor());
            }
            case FORWARD -> {
                if (first) {
                    start();
                } else {
                    Message a = forwards.poll();
                    forward(a.step() * m + a.microbatch(), a.tensor(), a.bytes());
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
            return canStart();
        }
        Message a = forwards.peek();
        return a != null && (!opts.schedule().synchronous() || a.step() == stepsDone);
    }

    // ---- node 0: starting microbatches, boundaries

    private boolean canStart() {
        if (credits == 0 || nextG >= totalSteps * m) {
            return false;
        }
        long s = nextG / m;
        if (opts.schedule().synchronous() && s != stepsDone) {
            return false; // the flush: mini-batch s+1 starts after this stage's update of s
        }
        return !(nextG % m == 0 && needsBoundary(s) && boundaryHandled < s);
    }

    /** Whether the pipe must drain before step s (or at the end) for an evaluation, a checkpoint or the finish. */
    private boolean needsBoundary(long s) {
        return s == totalSteps || (s > startStep && (s % stepsPerEpoch == 0 || checkpointAt(s)));
    }

    /** Whether a periodic checkpoint falls on step s. */
    private boolean checkpointAt(long s) {
        return checkpointDir != null && checkpointEvery > 0 && s % checkpointEvery == 0;
    }

    private boolean atBoundary() {
        if (nextG % m != 0) {
            return false;
        }
        long s = nextG / m;
        return needsBoundary(s) && boundaryHandled < s && stepsDone == s;
    }

    private boolean drained() {
        return outstanding == 0 && credits == opts.inflight();
    }

    /** At a drained boundary: evaluate at an epoch's end, save, and finish after the last step. */
    private void boundary() throws InterruptedException {
        long s = nextG / m;
        boundaryHandled = s;
        long trainEnd = ctx.time().nanoTime();
        boolean epochEnd = s % stepsPerEpoch == 0 || s == totalSteps;
        if (epochEnd && s > startStep) {
            epochTrainNs = trainEnd - epochStartNs;
            evaluate(s);
        }
        if (s > startStep && (s == totalSteps && checkpointDir != null || checkpointAt(s))) {
            save(s);
            control(ctx.successor(), "save", Long.toString(s));
            while (savesReturned != s) {
                intake(next(true));
            }
        }
        if (s >= totalSteps) {
            control(ctx.successor(), "done", Long.toString(s));
            awaitControl("done");
            reportStage();
            finished = true;
            return;
        }
        resetWindow();
        if (epochEnd) {
            epochStartNs = ctx.time().nanoTime();
        }
    }

    private void start() {
        long g = nextG++;
        long s = g / m;
        int mb = (int) (g % m);
        int epoch = (int) (s / stepsPerEpoch);
        if (epoch != permutationEpoch) {
            permutation = order.permutation(epoch);
            permutationEpoch = epoch;
        }
        credits--;
        int slot = freeSlots.peek();
        long t0 = ctx.time().nanoTime();
        int[] y = new int[rows];
        Tensor x = slotInputs[slot];
        data.train().gatherInto(permutation, (int) ((s % stepsPerEpoch) * config.batchSize() + (long) mb * rows), rows, x, y);
        computeNs += ctx.time().nanoTime() - t0;
        forward(g, x, encodeLabels(y, rows));
    }

    private void onCredit(byte[] b) {
        ByteBuffer bb = ByteBuffer.wrap(b);
        double loss = bb.getDouble();
        int n = bb.getInt();
        credits++;
        epochLoss += loss;
        epochSamples += n;
    }

    // ---- forward / backward on any stage

    private void forward(long g, Tensor x, byte[] labelBytes) {
        int slot = freeSlots.poll();
        slotOf.put(g, slot);
        if (!first) {
            received[slot] = x; // the layers read it again in the slot's backward
        }
        outstanding++;
        peakOutstanding = Math.max(peakOutstanding, outstanding);
        forwardsInStep++;
        long t0 = ctx.time().nanoTime();
        Tensor out = stage.forward(slot, x);
        long t1 = ctx.time().nanoTime();
        computeNs += t1 - t0;
        if (trace != null) {
            trace.add(OpTrace.Op.FORWARD, g, t0, t1);
        }
        if (!last) {
            sendTensor(ctx.successor(), MessageKind.ACTIVATION, g / m, (int) (g % m), out, labelBytes);
            return;
        }
        labels.put(g, decodeLabels(labelBytes, x.rows()));
        if (opts.schedule() == Schedule.GPIPE) {
            lastOutputs.put(g, out);
            lossQueue.add(new long[]{g, slot});
        } else {
            lastOutputs.put(g, out);
            lossAndBackward(g, slot);
        }
    }

    private void lossAndBackward(long g, int slot) {
        int[] y = labels.remove(g);
        if (y == null) {
            throw new IllegalStateException("stage " + id + ": no labels arrived for microbatch " + g);
        }
        Tensor out = lastOutputs.remove(g);
        long t0 = ctx.time().nanoTime();
        double loss = stage.lossAndBackward(slot, out, y, 0, 1f / config.batchSize());
        long t1 = ctx.time().nanoTime();
        computeNs += t1 - t0;
        if (trace != null) {
            trace.add(OpTrace.Op.BACKWARD, g, t0, t1);
        }
        windowLoss += loss;
        byte[] credit = ByteBuffer.allocate(12).putDouble(loss).putInt(rows).array();
        if (first) {
            onCredit(credit);
        } else {
            long s0 = ctx.time().nanoTime();
            ctx.successor().send(new Message(MessageKind.CREDIT, id, spec.runId(), g / m, (int) (g % m), null, credit));
            sendNs += ctx.time().nanoTime() - s0;
        }
        finishBackward(g, slot, stage.inputGradient(slot));
    }

    private void backward(long g, Tensor dOut) {
        Integer slot = slotOf.get(g);
        if (slot == null) {
            throw new IllegalStateException("stage " + id + ": a gradient for microbatch " + g + " that this stage did not forward");
        }
        long t0 = ctx.time().nanoTime();
        Tensor dIn = stage.backward(slot, dOut);
        long t1 = ctx.time().nanoTime();
        computeNs += t1 - t0;
        if (trace != null) {
            trace.add(OpTrace.Op.BACKWARD, g, t0, t1);
        }
        finishBackward(g, slot, dIn);
        ctx.buffers().give(dOut); // dIn (which a layer may have made a view of it) is sent, that is copied, by now
    }

    private void finishBackward(long g, int slot, Tensor dIn) {
        if (!first) {
            sendTensor(ctx.predecessor(), MessageKind.GRADIENT, g / m, (int) (g % m), dIn, null);
        }
        slotOf.remove(g);
        ctx.buffers().give(received[slot]); // the slot's forward input: nothing reads it after the backward
        received[slot] = null;
        freeSlots.add(slot);
        outstanding--;
        backwardsInStep++;
        windowMicrobatches++;
        completedMicrobatches++;
        long t0 = ctx.time().nanoTime();
        if (opts.schedule().synchronous()) {
            if (backwardsInStep == m) {
                stage.step(lrSchedule.lr(stepsDone));
                traceUpdate(g, t0);
                stepsDone++;
                forwardsInStep = 0;
                backwardsInStep = 0;
                recordStep(stepsDone);
            }
        } else {
            stage.stepKeepingVersions(lrSchedule.lr(g / m));
            traceUpdate(g, t0);
            if (completedMicrobatches % m == 0) {
                stepsDone = completedMicrobatches / m;
                forwardsInStep = 0;
                backwardsInStep = 0;
                recordStep(stepsDone);
            }
        }
    }

    /** Counts an update that began at {@code t0} as compute, and traces it. */
    private void traceUpdate(long g, long t0) {
        long t1 = ctx.time().nanoTime();
        computeNs += t1 - t0;
        if (trace != null) {
            trace.add(OpTrace.Op.UPDATE, g, t0, t1);
        }
    }

    // ---- evaluation

    private void evaluate(long s) throws InterruptedException {
        Dataset test = data.test();
        int eb = opts.evalBatch();
        int batches = (test.size() + eb - 1) / eb;
        int window = stages + 1;
        int[] idx = new int[test.size()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        evalLoss = 0;
        evalCorrect = 0;
        evalResults = 0;
        Tensor x = Tensor.zeros(eb, test.featureSize());
        int[] y = new int[eb];
        for (int b = 0; b < batches; b++) {
            while (b - evalResults >= window) {
                intake(next(true));
            }
            int n = Math.min(eb, test.size() - b * eb);
            Tensor xv = x.rows(0, n);
            test.gatherInto(idx, b * eb, n, xv, y);
            evalForward(new Message(MessageKind.EVAL, id, spec.runId(), s, b, xv, encodeLabels(y, n)));
        }
        while (evalResults < batches) {
            intake(next(true));
        }
        double loss = evalLoss / test.size(), acc = (double) evalCorrect / test.size();
        int epoch = (int) ((s - 1) / stepsPerEpoch) + 1;
        long stepsInEpoch = s - Math.max(startStep, (long) (epoch - 1) * stepsPerEpoch);
        double seconds = epochTrainNs / 1e9;
        double sps = stepsInEpoch * config.batchSize() / Math.max(1e-9, seconds);
        double trainLoss = epochSamples == 0 ? Double.NaN : epochLoss / epochSamples;
        ctx.say(String.format(Locale.ROOT, "epoch %d: step %d, train loss %.4f, test accuracy %.4f (loss %.4f), %,.0f samples/s, %.1f s",
                epoch, s, trainLoss, acc, loss, sps, seconds));
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("epoch", epoch);
        f.put("step", s);
        f.put("trainLoss", trainLoss);
        f.put("testLoss", loss);
        f.put("testAccuracy", acc);
        f.put("samplesPerSec", sps);
        f.put("seconds", seconds);
        ctx.metrics().event("epoch", f);
        epochLoss = 0;
        epochSamples = 0;
    }

    /** Forward of an evaluation batch with the current weights, dropout off; the last stage scores it. */
    private void evalForward(Message msg) {
        long t0 = ctx.time().nanoTime();
        try {
            scoreOrPass(msg);
        } finally {
            windowStartNs += ctx.time().nanoTime() - t0; // evaluation is not part of a training step
        }
    }

    private void scoreOrPass(Message msg) {
        Tensor x = msg.tensor();
        if (evalActs == null) {
            evalActs = stage.layers().newActivations(opts.evalBatch());
        }
        Tensor out = stage.evalForward(x, evalActs);
        if (!last) {
            sendTensor(ctx.successor(), MessageKind.EVAL, msg.step(), msg.microbatch(), out, msg.bytes());
            giveReceived(x); // out, which may be a view of x, is sent, that is copied
            return;
        }
        int[] y = decodeLabels(msg.bytes(), x.rows());
        double loss = SoftmaxCrossEntropy.lossAndGradInto(out, y, 0, 1f, null);
        long correct = SoftmaxCrossEntropy.countCorrect(out, y, 0);
        if (first) {
            evalLoss += loss;
            evalCorrect += correct;
            evalResults++;
        } else {
            byte[] r = ByteBuffer.allocate(16).putDouble(loss).putLong(correct).array();
            ctx.successor().send(new Message(MessageKind.LOSS, id, spec.runId(), msg.step(), msg.microbatch(), null, r));
        }
        giveReceived(x);
    }

    /** Gives a tensor that arrived from the predecessor back to the transport's buffers; node 0's own inputs stay. */
    private void giveReceived(Tensor x) {
        if (!first) {
            ctx.buffers().give(x);
        }
    }

    // ---- checkpoints and metrics

    private void save(long step) {
        if (checkpointDir == null) {
            return;
        }
        stage.syncParameters(); // a save comes at a drained point: async's current weights may be another version
        StageCheckpoints.save(checkpointDir, id, stages, step, stage, config, opts, from, to);
    }

    /** Starts a new step window (after a boundary's evaluation or save, or after a step line). */
    private void resetWindow() {
        startWindow(ctx.time().nanoTime());
        linkBytesSinceLastWindow();
    }

    private void startWindow(long now) {
        computeNs = 0;
        idleNs = 0;
        sendNs = 0;
        windowLoss = 0;
        windowMicrobatches = 0;
        transferNs.reset();
        windowStartNs = now;
        peakOutstanding = outstanding;
    }

    /** Bytes sent to and received from each peer since the last call. */
    private record LinkBytes(Map<Integer, Long> sent, Map<Integer, Long> received) {
    }

    private LinkBytes linkBytesSinceLastWindow() {
        LinkBytes d = new LinkBytes(new LinkedHashMap<>(), new LinkedHashMap<>());
        for (Link l : ctx.links().values()) {
            if (l.peerId() == id) {
                continue;
            }
            var st = l.stats();
            long[] prev = lastLinkBytes.getOrDefault(l.peerId(), new long[2]);
            d.sent().put(l.peerId(), st.bytesSent() - prev[0]);
            d.received().put(l.peerId(), st.bytesReceived() - prev[1]);
            lastLinkBytes.put(l.peerId(), new long[]{st.bytesSent(), st.bytesReceived()});
        }
        return d;
    }

    private void recordStep(long step) {
        long now = ctx.time().nanoTime();
        LinkBytes bytes = linkBytesSinceLastWindow();
        ctx.metrics().step(new NodeMetrics.Step(step, computeNs, idleNs, sendNs, 0, now - windowStartNs, bytes.sent(),
                bytes.received(), stage.layers().parameterCount() * 4, peakOutstanding * stage.slotBytes(),
                last ? windowLoss / config.batchSize() : Double.NaN, transferNs.sum(), windowMicrobatches));
        startWindow(now);
    }

    private void reportStage() {
        if (trace != null) {
            Path file = Path.of(spec.metricsDir()).resolve("trace-node-" + id + ".json");
            trace.write(file, id, "stage " + id + " (node " + id + ")", m);
            ctx.say("trace of " + trace.size() + " operations: " + file);
        }
        // async updates after every microbatch; the flushed schedules once per mini-batch.
        String updates = opts.schedule().synchronous() ? String.format(Locale.ROOT, "%,d updates", stepsDone)
                : String.format(Locale.ROOT, "%,d mini-batches in %,d updates", stepsDone, completedMicrobatches);
        ctx.say(String.format(Locale.ROOT, "stage %d (%s..%s, %,d of %,d parameters): %s done%s", id,
                stage.layers().layers().get(0).name(), stage.layers().layers().get(stage.layers().layers().size() - 1).name(),
                stage.layers().parameterCount(), modelParameters, updates,
                stage.versionsKept() > 0 ? ", " + stage.versionsKept() + " of them into a new weight version (the old one kept for pending backwards)" : "")
                + String.format(Locale.ROOT, "; idle %.1f s with every slot taken (awaiting gradients), %.1f s with a slot free (awaiting %s)",
                idleSlotsFullNs / 1e9, idleNoInputNs / 1e9, first ? "a credit" : "an activation"));
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("miniBatches", stepsDone);
        f.put("microbatches", completedMicrobatches);
        f.put("versionsKept", stage.versionsKept());
        f.put("idleSlotsFullMs", idleSlotsFullNs / 1e6);
        f.put("idleNoInputMs", idleNoInputNs / 1e6);
        ctx.metrics().event("stage-end", f);
    }
}
