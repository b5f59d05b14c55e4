package io.ringtmp.ring;

import io.ringtmp.data.Dataset;
import io.ringtmp.nn.Activations;
import io.ringtmp.nn.SoftmaxCrossEntropy;
import io.ringtmp.node.NodeContext;
import io.ringtmp.tensor.Tensor;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.MessageKind;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Evaluation through the ring at an epoch's end, with the current weights and dropout off: node
 * 0 sends the test set forward in {@code EVAL} batches (at most K + 1 in flight), each stage
 * passes them on, and the last stage scores them and sends the result ({@code LOSS}) to node 0,
 * which writes the {@code epoch} event. Threads: the loop's.
 */
final class Evaluator {
    /** Handles the next message that arrives, whatever it is (the loop's intake). */
    interface Intake {
        void next() throws InterruptedException;
    }

    private final NodeContext ctx;
    private final Position pos;
    private final Stage stage;
    private final boolean first;
    private final boolean last;
    private final int evalBatch;
    private final StepWindow window;
    private Activations acts;
    private double loss;
    private long correct;
    private int results;

    Evaluator(NodeContext ctx, Position pos, Stage stage, int evalBatch, StepWindow window) {
        this.ctx = ctx;
        this.pos = pos;
        this.stage = stage;
        this.first = pos.first();
        this.last = pos.last();
        this.evalBatch = evalBatch;
        this.window = window;
    }

    /** Node 0: a batch's result from the last stage. */
    void result(RingPayloads.EvalResult r) {
        loss += r.loss();
        correct += r.correct();
        results++;
    }

    /**
     * Node 0: evaluates the test set after step {@code s} and writes the epoch's line and event.
     *
     * @param epoch         the epoch that ended (1-based)
     * @param stepsInEpoch  the mini-batches this run trained in it
     * @param trainSeconds  the epoch's training time
     * @param trainLoss     its mean training loss
     */
    void evaluate(Dataset test, long s, int epoch, long stepsInEpoch, double trainSeconds, double trainLoss, int batchSize,
                  Intake intake) throws InterruptedException {
        int batches = (test.size() + evalBatch - 1) / evalBatch;
        int window = pos.size() + 1;
        int[] idx = new int[test.size()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        loss = 0;
        correct = 0;
        results = 0;
        Tensor x = Tensor.zeros(evalBatch, test.featureSize());
        int[] y = new int[evalBatch];
        for (int b = 0; b < batches; b++) {
            while (b - results >= window) {
                intake.next();
            }
            int n = Math.min(evalBatch, test.size() - b * evalBatch);
            Tensor xv = x.rows(0, n);
            test.gatherInto(idx, b * evalBatch, n, xv, y);
            forward(new Message(MessageKind.EVAL, ctx.id(), ctx.spec().runId(), s, b, xv, RingPayloads.labels(y, n)));
        }
        while (results < batches) {
            intake.next();
        }
        double testLoss = loss / test.size(), acc = (double) correct / test.size();
        double sps = stepsInEpoch * batchSize / Math.max(1e-9, trainSeconds);
        ctx.say(String.format(Locale.ROOT, "epoch %d: step %d, train loss %.4f, test accuracy %.4f (loss %.4f), %,.0f samples/s, %.1f s",
                epoch, s, trainLoss, acc, testLoss, sps, trainSeconds));
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("epoch", epoch);
        f.put("step", s);
        f.put("trainLoss", trainLoss);
        f.put("testLoss", testLoss);
        f.put("testAccuracy", acc);
        f.put("samplesPerSec", sps);
        f.put("seconds", trainSeconds);
        ctx.metrics().event("epoch", f);
    }

    /** The forward of an evaluation batch on this stage; the last stage scores it. Not part of a training step. */
    void forward(Message msg) {
        long t0 = ctx.time().nanoTime();
        try {
            scoreOrPass(msg);
        } finally {
            window.exclude(ctx.time().nanoTime() - t0);
        }
    }

    private void scoreOrPass(Message msg) {
        Tensor x = msg.tensor();
        if (x == null) {
            throw new io.ringtmp.node.ProtocolException(msg.sender(), "sent an evaluation batch without a tensor");
        }
        if (acts == null) {
            acts = stage.layers().newActivations(evalBatch);
        }
        Tensor out = stage.evalForward(x, acts);
        if (!last) {
            pos.successor().send(pos.stamp(new Message(MessageKind.EVAL, ctx.id(), ctx.spec().runId(), msg.step(), msg.microbatch(), out,
                    msg.bytes())));
            giveReceived(x); // out, which may be a view of x, is sent, that is copied
            return;
        }
        int[] y = RingPayloads.labels(msg, x.rows());
        double l = SoftmaxCrossEntropy.lossAndGradInto(out, y, 0, 1f, null);
        long c = SoftmaxCrossEntropy.countCorrect(out, y, 0);
        if (first) {
            result(new RingPayloads.EvalResult(l, c));
        } else {
            pos.successor().send(pos.stamp(new Message(MessageKind.LOSS, ctx.id(), ctx.spec().runId(), msg.step(), msg.microbatch(), null,
                    RingPayloads.evalResult(l, c))));
        }
        giveReceived(x);
    }

    /** Gives a tensor that arrived from the predecessor back to the transport's buffers; node 0's own inputs stay. */
    private void giveReceived(Tensor x) {
        if (!first) {
            ctx.buffers().give(x);
        }
    }
}
