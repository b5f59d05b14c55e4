package io.ringtmp.transport;

import io.ringtmp.tensor.Tensor;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The float arrays that received tensors are decoded into, reused. A node receives a tensor of
 * the same few shapes per microbatch (an activation, a gradient: 1 MiB each for W2B); a new
 * array each time is zeroed by the JVM, touches fresh pages and feeds the garbage collector, all
 * on the quota the node's compute also runs on. A receiver that is done with a tensor it got
 * from {@link MessageHandler#onMessage} may {@link #give} its array back; the transport's
 * decoders {@link #take} arrays from here. Giving back is optional (an array not given back is
 * garbage as before) but a promise: the giver holds no reference it will read again, because
 * the array will be overwritten by the next tensor of its length.
 *
 * <p>At most {@code maxPerLength} arrays of each length wait here; more are dropped. Arrays of
 * fewer than {@link #MIN_POOLED_FLOATS} floats are never pooled. Thread-safe: decoders take on
 * I/O threads, the program gives on its own.
 */
public final class TensorBuffers {
    /** Smaller arrays are cheaper to allocate than to pool. */
    public static final int MIN_POOLED_FLOATS = 1024;

    private final int maxPerLength;
    private final ConcurrentHashMap<Integer, Bucket> buckets = new ConcurrentHashMap<>();
    private final LongAdder taken = new LongAdder();
    private final LongAdder reused = new LongAdder();

    private record Bucket(ConcurrentLinkedQueue<float[]> free, AtomicInteger size) {
    }

    private TensorBuffers(int maxPerLength) {
        this.maxPerLength = maxPerLength;
    }

    /** Keeps up to {@code maxPerLength} arrays of each length for reuse. */
    public static TensorBuffers pooled(int maxPerLength) {
        if (maxPerLength < 1) {
            throw new IllegalArgumentException("maxPerLength must be >= 1, got " + maxPerLength);
        }
        return new TensorBuffers(maxPerLength);
    }

    /** Never reuses: every {@link #take} is a new array, {@link #give} drops it. */
    public static TensorBuffers unpooled() {
        return new TensorBuffers(0);
    }

    /** An array of {@code length} floats: a given-back one (contents undefined) or a new one. */
    public float[] take(int length) {
        taken.increment();
        if (maxPerLength > 0 && length >= MIN_POOLED_FLOATS) {
            Bucket b = buckets.get(length);
            if (b != null) {
                float[] a = b.free.poll();
                if (a != null) {
                    b.size.decrementAndGet();
                    reused.increment();
                    return a;
                }
            }
        }
        return new float[length];
    }

    /** Returns an array for reuse (see the class doc); null is ignored. */
    public void give(float[] a) {
        if (a == null || maxPerLength == 0 || a.length < MIN_POOLED_FLOATS) {
            return;
        }
        Bucket b = buckets.computeIfAbsent(a.length, n -> new Bucket(new ConcurrentLinkedQueue<>(), new AtomicInteger()));
        if (b.size.incrementAndGet() > maxPerLength) {
            b.size.decrementAndGet();
            return;
        }
        b.free.add(a);
    }

    /** Returns a received tensor's array for reuse; null is ignored. */
    public void give(Tensor t) {
        if (t != null) {
            give(t.data());
        }
    }

    /** Arrays handed out so far. */
    public long taken() {
        return taken.sum();
    }

    /** Of those, how many were given-back arrays. */
    public long reused() {
        return reused.sum();
    }
}
