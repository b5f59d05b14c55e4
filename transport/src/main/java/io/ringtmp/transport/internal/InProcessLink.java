package io.ringtmp.transport.internal;

import io.ringtmp.tensor.Tensor;
import io.ringtmp.transport.Link;
import io.ringtmp.transport.LinkStats;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.TensorBuffers;
import io.ringtmp.transport.TransportConfig;
import io.ringtmp.transport.TransportException;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One end of a connection between two in-process transports; {@link #peer()} is the other end.
 * {@code send} copies the message on the caller's thread into arrays the receiver owns (the
 * tensor's from the receiver's {@link TensorBuffers}, as the Netty decoder takes them) and queues
 * it; this end's delivery thread (named {@code ringtmp-inproc-<receiver>-from-<sender>}) hands
 * the queue to the receiver's handler in order and completes each future after the handler
 * returned. Back-pressure counts the frame bytes queued and not yet delivered, with the water
 * marks and send timeout of {@link TransportConfig}, exactly as {@link NettyLink} does; the
 * delivery thread is the receiver's I/O thread, so a send from inside a handler never blocks.
 *
 * <p>Closing either end closes both: queued messages fail their futures (their arrays go back to
 * the receiver's buffers), each delivery thread ends and tells the transport it delivered into
 * that its end disconnected. A connection that was closed is never used again.
 */
public final class InProcessLink implements Link {
    /** Name prefix of the delivery threads ({@code ringtmp-inproc-<receiver>-from-<sender>}). */
    public static final String THREAD_PREFIX = "ringtmp-inproc-";
    private static final System.Logger LOG = System.getLogger("io.ringtmp.transport");

    /** What an end needs from the transport that owns it; implemented by {@code InProcessTransport}. */
    public interface Owner {
        TransportConfig config();

        /** Where tensors sent to this transport get their arrays. */
        TensorBuffers buffers();

        /** Hands a message to the handler (which must not throw; the owner logs it if it does). */
        void deliver(Message m);

        void rejected(int peerId, String reason);

        /** {@code end}, one of this owner's ends, closed; called on the thread that delivered into it. */
        void disconnected(InProcessLink end);
    }

    /** A queued message; {@link #CLOSE} tells the delivery thread to end. */
    private record Envelope(Message message, int frameBytes, CompletableFuture<Void> done) {
    }

    private static final Envelope CLOSE = new Envelope(null, 0, null);
    /** The owner the current thread delivers into, if it is a delivery thread. */
    private static final ThreadLocal<Owner> DELIVERING_INTO = new ThreadLocal<>();

    private final Owner local;
    private final int localId;
    private final int peerId;
    private final AtomicBoolean closed;
    private final long lowWater;
    private final long highWater;
    private final long sendTimeoutNs;
    private final long maxBodyBytes;
    private final LinkedBlockingQueue<Envelope> outbound = new LinkedBlockingQueue<>();
    private final Thread delivery;
    private InProcessLink peer;

    private final AtomicLong queued = new AtomicLong();
    private final AtomicLong maxQueued = new AtomicLong();
    private final LongAdder bytesSent = new LongAdder();
    private final LongAdder messagesSent = new LongAdder();
    private final LongAdder bytesReceived = new LongAdder();
    private final LongAdder messagesReceived = new LongAdder();
    private final LongAdder blockedNanos = new LongAdder();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition drained = lock.newCondition();
    private volatile int waiters;

    private InProcessLink(Owner local, Owner remote, AtomicBoolean closed) {
        this.local = local;
        this.localId = local.config().nodeId();
        this.peerId = remote.config().nodeId();
        this.closed = closed;
        TransportConfig c = local.config();
        this.lowWater = c.lowWaterMarkBytes();
        this.highWater = c.highWaterMarkBytes();
        this.sendTimeoutNs = TimeUnit.MILLISECONDS.toNanos(c.sendTimeoutMs());
        this.maxBodyBytes = c.maxMessageBytes();
        this.delivery = new Thread(this::deliverAll, THREAD_PREFIX + peerId + "-from-" + localId);
        this.delivery.setDaemon(true);
    }

    /**
     * A connection from {@code client} to {@code server} (the same owner for a node that connects
     * to itself), not yet delivering: returns the client's end; {@link #peer()} is the server's.
     * Register both ends with their owners, then {@link #start()}.
     */
    public static InProcessLink pair(Owner client, Owner server) {
        AtomicBoolean closed = new AtomicBoolean();
        InProcessLink c = new InProcessLink(client, server, closed);
        InProcessLink s = new InProcessLink(server, client, closed);
        c.peer = s;
        s.peer = c;
        return c;
    }

    /** Starts both ends' delivery threads. */
    public void start() {
        delivery.start();
        peer.delivery.start();
    }

    /** The other end of this connection. */
    public InProcessLink peer() {
        return peer;
    }

    @Override
    public int peerId() {
        return peerId;
    }

    @Override
    public CompletableFuture<Void> send(Message m) {
        Objects.requireNonNull(m, "m");
        long body = Frames.bodyBytes(m);
        if (body > maxBodyBytes) {
            throw new TransportException("link to peer " + peerId + ": " + m + " needs a frame of " + body
                    + " bytes, above maxMessageBytes " + maxBodyBytes, false);
        }
        if (closed.get()) {
            throw new TransportException("link to peer " + peerId + " is closed", true);
        }
        if (m.kind().waitsForBackPressure()) {
            awaitCapacity();
        }
        int frame = (int) (Frames.LENGTH_BYTES + body);
        Message copy = copy(m, localId, peer.local.buffers());
        CompletableFuture<Void> done = new CompletableFuture<>();
        lock.lock();
        try {
            // Checked under the lock that close drains under: nothing is queued after the drain.
            if (closed.get()) {
                peer.local.buffers().give(copy.tensor());
                throw new TransportException("link to peer " + peerId + " is closed", true);
            }
            maxQueued.accumulateAndGet(queued.addAndGet(frame), Math::max);
            outbound.add(new Envelope(copy, frame, done));
        } finally {
            lock.unlock();
        }
        return done;
    }

    /** {@code m} with its tensor and bytes copied into arrays the receiver owns, stamped with {@code sender}. */
    private static Message copy(Message m, int sender, TensorBuffers into) {
        Tensor t = m.tensor();
        Tensor tensor = null;
        if (t != null) {
            float[] a = into.take(t.size());
            System.arraycopy(t.data(), t.offset(), a, 0, t.size());
            tensor = Tensor.wrap(a, t.shape());
        }
        byte[] bytes = m.bytes() == null ? null : m.bytes().clone();
        return new Message(m.kind(), sender, m.runId(), m.step(), m.microbatch(), tensor, bytes, m.epoch());
    }

    /** Blocks while more than the high-water mark is queued, until the low-water mark or the send timeout. */
    private void awaitCapacity() {
        if (queued.get() <= highWater || DELIVERING_INTO.get() == local) {
            return;
        }
        long start = System.nanoTime();
        lock.lock();
        waiters++;
        try {
            long left = sendTimeoutNs;
            while (queued.get() > lowWater && !closed.get()) {
                if (left <= 0) {
                    throw new TransportException("link to peer " + peerId + ": " + queued.get()
                            + " bytes still queued (high-water mark " + highWater + ") after "
                            + TimeUnit.NANOSECONDS.toMillis(sendTimeoutNs) + " ms; the peer does not read", true);
                }
                left = drained.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransportException("link to peer " + peerId + ": interrupted while blocked on back-pressure", true, e);
        } finally {
            waiters--;
            lock.unlock();
            blockedNanos.add(System.nanoTime() - start);
        }
        if (closed.get()) {
            throw new TransportException("link to peer " + peerId + " closed while a send was blocked", true);
        }
    }

    /** The delivery thread: this end's queue, in order, into the peer's owner; then the disconnect. */
    private void deliverAll() {
        Owner into = peer.local;
        DELIVERING_INTO.set(into);
        try {
            while (true) {
                Envelope e = outbound.take();
                if (e == CLOSE) {
                    break;
                }
                if (closed.get()) {
                    failed(e, closedBefore(e));
                } else {
                    deliver(e, into);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        into.disconnected(peer);
    }

    /** What the Netty receiver's decoder would do with this frame: refuse it, drop it, or deliver it. */
    private void deliver(Envelope e, Owner into) {
        TransportConfig rc = into.config();
        Message m = e.message();
        long body = e.frameBytes() - Frames.LENGTH_BYTES;
        if (body > rc.maxMessageBytes()) {
            String reason = Refusals.connectionClosed(localId, Refusals.oversizedFrame(body, rc.maxMessageBytes()));
            LOG.log(System.Logger.Level.WARNING, "node {0}: {1}", rc.nodeId(), reason);
            into.rejected(localId, reason);
            failed(e, new TransportException("link to peer " + peerId + ": " + reason, false));
            close();
            return;
        }
        if (m.runId() != rc.runId()) {
            String reason = Refusals.otherRunFrame(m.kind(), m.sender(), m.step(), m.runId(), rc.runId());
            LOG.log(System.Logger.Level.WARNING, "node {0}: dropped a frame from node {1}: {2}", rc.nodeId(), localId, reason);
            into.buffers().give(m.tensor());
            into.rejected(localId, reason);
            // It was sent, as far as the sender can tell: the Netty sender's future completes on the write.
            written(e);
            return;
        }
        peer.bytesReceived.add(e.frameBytes());
        peer.messagesReceived.increment();
        into.deliver(m);
        written(e);
    }

    private void written(Envelope e) {
        dequeued(e);
        bytesSent.add(e.frameBytes());
        messagesSent.increment();
        e.done().complete(null);
    }

    private void failed(Envelope e, TransportException why) {
        dequeued(e);
        peer.local.buffers().give(e.message().tensor());
        e.done().completeExceptionally(why);
    }

    private void dequeued(Envelope e) {
        long q = queued.addAndGet(-e.frameBytes());
        if (waiters > 0 && q <= lowWater) {
            wakeSenders();
        }
    }

    private TransportException closedBefore(Envelope e) {
        return new TransportException("link to peer " + peerId + " closed before " + e.message() + " was delivered", true);
    }

    private void wakeSenders() {
        lock.lock();
        try {
            drained.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Fails what is queued on this end and tells its delivery thread to end. */
    private void shutDown() {
        List<Envelope> pending = new ArrayList<>();
        lock.lock();
        try {
            outbound.drainTo(pending);
            drained.signalAll();
        } finally {
            lock.unlock();
        }
        for (Envelope e : pending) {
            failed(e, closedBefore(e));
        }
        outbound.add(CLOSE);
    }

    /**
     * Waits up to {@code timeoutMs} for the thread that delivers into this end's transport on this
     * connection (the peer end's) to end; returns at once on that thread itself.
     */
    public void awaitInboundEnded(long timeoutMs) throws InterruptedException {
        Thread t = peer.delivery;
        if (t != Thread.currentThread() && t.isAlive()) {
            t.join(Math.max(1, timeoutMs));
        }
    }

    @Override
    public LinkStats stats() {
        return new LinkStats(bytesSent.sum(), messagesSent.sum(), bytesReceived.sum(), messagesReceived.sum(),
                blockedNanos.sum(), queued.get(), maxQueued.get());
    }

    @Override
    public boolean isOpen() {
        return !closed.get();
    }

    /** Closes the connection, both ends. Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            shutDown();
            peer.shutDown();
        }
    }

    @Override
    public String toString() {
        return "Link[" + localId + " -> " + peerId + " in-process]";
    }
}
