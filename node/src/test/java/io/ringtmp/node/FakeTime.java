package io.ringtmp.node;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A clock that moves only when told to; thread-safe. Test sources only: other modules' tests get
 * it through node's test-jar ({@code <type>test-jar</type>}, test scope).
 */
public final class FakeTime implements Time {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

    @Override
    public long nanoTime() {
        return nanos.get();
    }

    @Override
    public long currentTimeMillis() {
        return nanos.get() / 1_000_000L;
    }

    public void advanceMs(long ms) {
        nanos.addAndGet(ms * 1_000_000L);
    }
}
