package io.ringtmp.ring;

import io.ringtmp.node.NodeContext;
import io.ringtmp.node.NodeMetrics;
import io.ringtmp.transport.Link;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * A stage's metrics of the current step window (docs/metrics.md): compute, idle and send time,
 * the transfer time of its tensors, bytes per link, loss and the peak of microbatches in flight,
 * written as one {@code step} line per mini-batch; and the run's idle time by cause. Evaluations
 * and checkpoint saves are left out of the windows ({@link #exclude}).
 *
 * <p>Threads: the loop's thread, except {@link #transfer}, which link I/O threads call.
 */
final class StepWindow {
    private final NodeContext ctx;
    private final boolean last;
    private final int batchSize;
    private long computeNs;
    private long idleNs;
    private long sendNs;
    private long startNs;
    private double loss;
    private int microbatches;
    private int peakOutstanding;
    private final LongAdder transferNs = new LongAdder();
    private final Map<Integer, long[]> lastLinkBytes = new HashMap<>();
    private long idleSlotsFullNs;
    private long idleNoInputNs;

    StepWindow(NodeContext ctx, boolean last, int batchSize) {
        this.ctx = ctx;
        this.last = last;
        this.batchSize = batchSize;
    }

    void compute(long ns) {
        computeNs += ns;
    }

    void send(long ns) {
        sendNs += ns;
    }

    /** A tensor's time from being handed to the transport until it was on the wire; any thread. */
    void transfer(long ns) {
        transferNs.add(ns);
    }

    /** Idle time: every slot taken (awaiting a gradient), or a slot free with nothing to start. */
    void idle(long ns, boolean slotsFull) {
        idleNs += ns;
        if (slotsFull) {
            idleSlotsFullNs += ns;
        } else {
            idleNoInputNs += ns;
        }
    }

    /** Time that is not part of a training step (an evaluation, a save, waiting around them). */
    void exclude(long ns) {
        startNs += ns;
    }

    /** A microbatch's backward completed, with its loss (the last stage's; 0 elsewhere). */
    void microbatchDone(double microbatchLoss) {
        loss += microbatchLoss;
        microbatches++;
    }

    void outstanding(int n) {
        peakOutstanding = Math.max(peakOutstanding, n);
    }

    long idleSlotsFullNs() {
        return idleSlotsFullNs;
    }

    long idleNoInputNs() {
        return idleNoInputNs;
    }

    /** Starts the first window at {@code now}; its bytes count from the links' start (the start-up tokens included). */
    void begin(long now) {
        start(now, 0);
    }

    /** Starts a new window now (after a boundary's evaluation or save), forgetting the bytes sent meanwhile. */
    void restart(int outstanding) {
        start(ctx.time().nanoTime(), outstanding);
        linkBytesSinceLastWindow();
    }

    private void start(long now, int outstanding) {
        computeNs = 0;
        idleNs = 0;
        sendNs = 0;
        loss = 0;
        microbatches = 0;
        transferNs.reset();
        startNs = now;
        peakOutstanding = outstanding;
    }

    /** Writes the step line of mini-batch {@code step} and starts the next window. */
    void record(long step, Stage stage, int outstanding) {
        long now = ctx.time().nanoTime();
        Map<Integer, Long> sent = new LinkedHashMap<>(), received = new LinkedHashMap<>();
        linkBytesSinceLastWindow(sent, received);
        ctx.metrics().step(new NodeMetrics.Step(step, computeNs, idleNs, sendNs, 0, now - startNs, sent, received,
                stage.layers().parameterCount() * 4, peakOutstanding * stage.slotBytes(),
                last ? loss / batchSize : Double.NaN, transferNs.sum(), microbatches));
        start(now, outstanding);
    }

    private void linkBytesSinceLastWindow() {
        linkBytesSinceLastWindow(new LinkedHashMap<>(), new LinkedHashMap<>());
    }

    /** Bytes sent to and received from each peer since the last call. */
    private void linkBytesSinceLastWindow(Map<Integer, Long> sent, Map<Integer, Long> received) {
        for (Link l : ctx.links().values()) {
            if (l.peerId() == ctx.id()) {
                continue;
            }
            var st = l.stats();
            long[] prev = lastLinkBytes.getOrDefault(l.peerId(), new long[2]);
            sent.put(l.peerId(), st.bytesSent() - prev[0]);
            received.put(l.peerId(), st.bytesReceived() - prev[1]);
            lastLinkBytes.put(l.peerId(), new long[]{st.bytesSent(), st.bytesReceived()});
        }
    }
}
