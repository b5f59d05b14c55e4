package io.ringtmp.ps;

import io.ringtmp.node.Inbox;
import io.ringtmp.node.ProtocolException;
import io.ringtmp.node.StopSignal;
import io.ringtmp.node.Time;
import io.ringtmp.nn.Parameter;
import io.ringtmp.ps.internal.ByteCounters;
import io.ringtmp.tensor.Tensor;
import io.ringtmp.transport.Link;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.MessageKind;
import io.ringtmp.transport.TensorBuffers;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A worker's handle on the parameter servers, in ps-lite's terms: {@link #pull} asks every
 * server for its range of the parameters of a step, {@link #awaitParams} waits until they are
 * all in the model, {@link #push} sends the model's gradients.
 *
 * <pre>{@code
 * PsClient ps = new PsClient(myId, runId, ranges, serverLinks, model.parameters(), totalSteps, scheduleSteps, time, ctx.buffers(), ctx.stop());
 * // onMessage(m) of the node program: ps.onMessage(m)
 * ps.pull(0);
 * for (long t = 0; t < totalSteps; t++) {
 *     ps.awaitParams(t);                    // the model now holds the parameters of step t
 *     ps.pull(t + 1);                       // asp, ssp: fetched while computing; bsp: a standing request,
 *                                           // answered chunk by chunk as the W pushes of t are applied
 *     ... forward, backward (adds to the gradients) ...
 *     ps.push(t);                           // sends the gradients and zeroes them
 * }
 * }</pre>
 *
 * <p>Protocol (message kinds of the transport): {@code PULL} (step t; 16 bytes: the run's total
 * steps and the steps its learning-rate schedule spans, so that servers need not load the data
 * to know them), answered by a server with one
 * {@code PARAMS} per chunk of its range (step t, microbatch = chunk index, a flat tensor), and
 * {@code PUSH} (step t, microbatch = chunk index, the chunk's gradients as a flat tensor). Server
 * s is node s. At most one pull is outstanding; pushes of one step go out in chunk order on each
 * server's link, and
 * interleaved over the servers (chunk 0 to every server, then chunk 1, ...) so that each
 * server can start summing at once. PARAMS chunks may come in any order.
 *
 * <p>Threads: {@link #onMessage} is called on transport I/O threads and only queues; every
 * other method belongs to the worker's compute thread. The time counters ({@link #takeIdleNs()}
 * and so on) are read and reset by that thread once per step.
 */
public final class PsClient {
    private final int nodeId;
    private final long runId;
    private final KeyRanges ranges;
    private final List<Link> servers;
    private final List<Tensor> values;
    private final List<Tensor> grads;
    private final long totalSteps;
    private final Time time;
    private final TensorBuffers buffers;
    private final Inbox inbox;
    private final ByteCounters bytes;
    private final Tensor scratch;
    private final int chunksPerPull;
    private final byte[] pullPayload;
    private long pulledStep = -1;
    private long completeStep = -1;
    private int chunksIn;
    private long idleNs;
    private long sendNs;
    private long recvNs;

    /**
     * @param nodeId      this worker's node id (stamped on its messages)
     * @param servers     the link to server s at index s
     * @param parameters  the model's parameters, in model order (their values receive pulls, their
     *                    gradients are pushed and zeroed)
     * @param totalSteps    the run's steps, sent with every pull
     * @param scheduleSteps the steps the learning-rate schedule spans (the configured epochs'
     *                      steps, as in the single-node trainer), sent with every pull
     * @param buffers       where each PARAMS chunk's array goes back once it is copied into the
     *                      model (the transport decodes the next chunk of its length into it)
     * @param stop          ends a wait for parameters with {@link io.ringtmp.node.StoppedException}
     */
    public PsClient(int nodeId, long runId, KeyRanges ranges, List<Link> servers, List<Parameter> parameters,
                    long totalSteps, long scheduleSteps, Time time, TensorBuffers buffers, StopSignal stop) {
        if (servers.size() != ranges.servers()) {
            throw new IllegalArgumentException("layout has " + ranges.servers() + " servers, got " + servers.size() + " links");
        }
        this.nodeId = nodeId;
        this.runId = runId;
        this.ranges = ranges;
        this.servers = List.copyOf(servers);
        this.values = parameters.stream().map(Parameter::value).toList();
        this.grads = parameters.stream().map(Parameter::grad).toList();
        this.totalSteps = totalSteps;
        this.time = time;
        this.buffers = buffers;
        this.inbox = new Inbox(stop);
        this.scratch = Tensor.zeros(ranges.maxChunkSize());
        this.chunksPerPull = ranges.chunkCount();
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < servers.size(); i++) {
            ids.add(i);
        }
        this.bytes = new ByteCounters(ids);
        this.pullPayload = ByteBuffer.allocate(16).putLong(totalSteps).putLong(scheduleSteps).array();
    }

    /** Queues a PARAMS message from a server; any thread; never blocks. */
    public void onMessage(Message m) {
        if (m.kind() == MessageKind.PARAMS) {
            bytes.received(m);
            inbox.add(m);
        }
    }

    /** Asks every server for the parameters of {@code step}; the previous pull must be complete. */
    public void pull(long step) {
        if (pulledStep != completeStep) {
            throw new IllegalStateException("pull of step " + step + " while the pull of step " + pulledStep + " is outstanding");
        }
        long t0 = time.nanoTime();
        Message m = Message.control(MessageKind.PULL, nodeId, runId, step, pullPayload);
        for (int s = 0; s < servers.size(); s++) {
            servers.get(s).send(m);
            bytes.sent(s, m);
        }
        pulledStep = step;
        chunksIn = 0;
        sendNs += time.nanoTime() - t0;
    }

    /**
     * Waits until every chunk of the pull of {@code step} is in the model's values (at once when
     * it already is). Time blocked counts as idle, copying as recv.
     *
     * @throws io.ringtmp.node.StoppedException when the run is stopped while waiting
     * @throws ProtocolException when a server sends parameters of another step or chunk
     * @throws IllegalStateException when {@code step} was not pulled (a bug of the caller)
     */
    public void awaitParams(long step) throws InterruptedException {
        if (completeStep == step) {
            return;
        }
        if (pulledStep != step) {
            throw new IllegalStateException("awaiting the parameters of step " + step + ", but the last pull was of step " + pulledStep);
        }
        while (chunksIn < chunksPerPull) {
            long t0 = time.nanoTime();
            Message m = inbox.take();
            long t1 = time.nanoTime();
            idleNs += t1 - t0;
            if (m.step() != step || m.sender() < 0 || m.sender() >= servers.size()) {
                throw new ProtocolException(m.sender(), "sent the parameters of step " + m.step()
                        + " while this worker waits for step " + step);
            }
            List<KeyRanges.Chunk> cs = ranges.chunks(m.sender());
            if (m.microbatch() < 0 || m.microbatch() >= cs.size() || m.tensor() == null
                    || m.tensor().size() != cs.get(m.microbatch()).size()) {
                throw new ProtocolException(m.sender(), "sent chunk " + m.microbatch() + " of "
                        + (m.tensor() == null ? 0 : m.tensor().size()) + " floats; its range has " + cs.size() + " chunks "
                        + (m.microbatch() >= 0 && m.microbatch() < cs.size() ? "and this one holds " + cs.get(m.microbatch()).size() : ""));
            }
            ranges.scatter(m.tensor(), cs.get(m.microbatch()).from(), values);
            buffers.give(m.tensor()); // copied into the model's values: nothing reads it again
            chunksIn++;
            recvNs += time.nanoTime() - t1;
        }
        completeStep = step;
    }

    /**
     * Sends the model's gradients of {@code step} to the servers, chunk by chunk, and zeroes
     * them. Each chunk is gathered into one reused buffer, which {@link Link#send} copies; the
     * sockets are written on I/O threads while the caller computes on.
     *
     * @return a future completing when the last chunk is written to its socket
     */
    public CompletableFuture<Void> push(long step) {
        long t0 = time.nanoTime();
        List<CompletableFuture<Void>> sent = new ArrayList<>(chunksPerPull);
        float[] buf = scratch.data();
        int most = 0;
        for (int s = 0; s < servers.size(); s++) {
            most = Math.max(most, ranges.chunks(s).size());
        }
        for (int i = 0; i < most; i++) {
            for (int s = 0; s < servers.size(); s++) {
                List<KeyRanges.Chunk> cs = ranges.chunks(s);
                if (i >= cs.size()) {
                    continue;
                }
                Link l = servers.get(s);
                KeyRanges.Chunk c = cs.get(i);
                ranges.gatherInto(grads, c.from(), c.to(), buf, true);
                Tensor t = c.size() == scratch.size() ? scratch : scratch.rows(0, c.size());
                Message m = new Message(MessageKind.PUSH, nodeId, runId, step, c.index(), t, null);
                sent.add(l.send(m));
                bytes.sent(s, m);
            }
        }
        sendNs += time.nanoTime() - t0;
        return CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new));
    }

    public long totalSteps() {
        return totalSteps;
    }

    /**
     * Frame bytes sent to and received from each server (by node id) since the last call, and
     * resets them: {@code [sent, received]}.
     */
    public List<Map<Integer, Long>> takeBytes() {
        bytes.take();
        return List.of(bytes.sentByPeer(), bytes.receivedByPeer());
    }

    /** Idle time since the last call (waiting for parameters), and resets it. */
    public long takeIdleNs() {
        long v = idleNs;
        idleNs = 0;
        return v;
    }

    /** Send time since the last call (gathering, copying into the transport, back-pressure), and resets it. */
    public long takeSendNs() {
        long v = sendNs;
        sendNs = 0;
        return v;
    }

    /** Receive time since the last call (copying parameters into the model), and resets it. */
    public long takeRecvNs() {
        long v = recvNs;
        recvNs = 0;
        return v;
    }
}
