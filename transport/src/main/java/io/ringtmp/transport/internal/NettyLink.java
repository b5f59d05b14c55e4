package io.ringtmp.transport.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.ringtmp.transport.Link;
import io.ringtmp.transport.LinkStats;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.TransportException;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link Link} over one authenticated Netty channel. {@code send} encodes into a direct buffer
 * from the channel's allocator (the caller's thread does this copy), then hands the buffer to
 * Netty, which owns and releases it after the write (or on failure). Back-pressure counts the
 * frame bytes handed over and not yet written ({@code queued}); the write listener, on the I/O
 * thread, subtracts them and wakes blocked senders once the low-water mark is reached.
 */
public final class NettyLink implements Link {
    private final int peerId;
    private final Channel channel;
    private final Hub hub;
    private final int localId;
    private final long lowWater;
    private final long highWater;
    private final long sendTimeoutNs;
    private final long maxBodyBytes;

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

    NettyLink(int peerId, Channel channel, Hub hub) {
        this.peerId = peerId;
        this.channel = channel;
        this.hub = hub;
        this.localId = hub.config().nodeId();
        this.lowWater = hub.config().lowWaterMarkBytes();
        this.highWater = hub.config().highWaterMarkBytes();
        this.sendTimeoutNs = TimeUnit.MILLISECONDS.toNanos(hub.config().sendTimeoutMs());
        this.maxBodyBytes = hub.config().maxMessageBytes();
    }

    public static NettyLink create(int peerId, Channel channel, Hub hub) {
        return new NettyLink(peerId, channel, hub);
    }

    @Override
    public int peerId() {
        return peerId;
    }

    public Channel channel() {
        return channel;
    }

    @Override
    public CompletableFuture<Void> send(Message m) {
        long body = Frames.bodyBytes(m);
        if (body > maxBodyBytes) {
            throw new TransportException("link to peer " + peerId + ": " + m + " needs a frame of " + body
                    + " bytes, above maxMessageBytes " + maxBodyBytes, false);
        }
        if (!channel.isActive()) {
            throw new TransportException("link to peer " + peerId + " is closed", true);
        }
        if (m.kind().waitsForBackPressure()) {
            awaitCapacity();
        }
        int frame = (int) (Frames.LENGTH_BYTES + body);
        ByteBuf buf = channel.alloc().directBuffer(frame, frame);
        try {
            Frames.encode(m, localId, buf.nioBuffer(0, frame));
            buf.writerIndex(frame);
        } catch (RuntimeException | Error e) {
            buf.release();
            throw e;
        }
        maxQueued.accumulateAndGet(queued.addAndGet(frame), Math::max);
        CompletableFuture<Void> done = new CompletableFuture<>();
        channel.writeAndFlush(buf).addListener(f -> {
            long q = queued.addAndGet(-frame);
            if (waiters > 0 && q <= lowWater) {
                wakeSenders();
            }
            if (f.isSuccess()) {
                bytesSent.add(frame);
                messagesSent.increment();
                done.complete(null);
            } else {
                done.completeExceptionally(new TransportException("link to peer " + peerId + ": write of " + m
                        + " failed", true, f.cause()));
            }
        });
        return done;
    }

    /** Blocks while more than the high-water mark is queued, until the low-water mark or the send timeout. */
    private void awaitCapacity() {
        if (queued.get() <= highWater || hub.onIoThread()) {
            return;
        }
        long start = System.nanoTime();
        lock.lock();
        waiters++;
        try {
            long left = sendTimeoutNs;
            while (queued.get() > lowWater && channel.isActive()) {
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
        if (!channel.isActive()) {
            throw new TransportException("link to peer " + peerId + " closed while a send was blocked", true);
        }
    }

    void wakeSenders() {
        lock.lock();
        try {
            drained.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void received(int frameBytes) {
        bytesReceived.add(frameBytes);
        messagesReceived.increment();
    }

    @Override
    public LinkStats stats() {
        return new LinkStats(bytesSent.sum(), messagesSent.sum(), bytesReceived.sum(), messagesReceived.sum(),
                blockedNanos.sum(), queued.get(), maxQueued.get());
    }

    @Override
    public boolean isOpen() {
        return channel.isActive();
    }

    @Override
    public void close() {
        channel.close();
    }

    @Override
    public String toString() {
        return "Link[" + localId + " -> " + peerId + " " + channel.remoteAddress() + "]";
    }
}
