package io.ringtmp.node;

/**
 * The clock the runtime reads: injected so that failure detection and timeouts can be tested
 * with a {@code FakeTime} (node's test sources, shared through its test-jar) instead of real
 * waiting.
 */
public interface Time {
    /** Monotonic nanoseconds. */
    long nanoTime();

    /** Wall-clock milliseconds since the epoch (for logs and metrics). */
    long currentTimeMillis();

    /** The real clock. */
    Time SYSTEM = new Time() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public long currentTimeMillis() {
            return System.currentTimeMillis();
        }
    };
}
