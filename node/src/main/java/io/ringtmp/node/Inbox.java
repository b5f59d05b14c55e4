package io.ringtmp.node;

import io.ringtmp.transport.Message;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.function.Predicate;

/**
 * A program's inbox: transport threads {@link #add} messages, the program's own thread takes
 * them and learns at once when the run must stop. A message set aside while the program waits
 * for a particular one ({@link #await}) comes back first, in its order.
 *
 * <p>Threads: {@code add} from any thread, never blocks; everything else from one thread.
 */
public final class Inbox {
    /** How often a blocked take looks at the stop signal. */
    static final long POLL_MS = 100;
    /** How often a long wait is reported. */
    static final long STALL_REPORT_MS = 30_000;

    private final LinkedBlockingQueue<Message> queue = new LinkedBlockingQueue<>();
    private final ArrayDeque<Message> deferred = new ArrayDeque<>();
    private final StopSignal stop;
    private final LongConsumer stalled;

    /**
     * @param stop    ends a blocked take with {@link StoppedException}
     * @param stalled told the milliseconds waited so far, every 30 s of one wait (a stall report)
     */
    public Inbox(StopSignal stop, LongConsumer stalled) {
        this.stop = stop;
        this.stalled = stalled;
    }

    public Inbox(StopSignal stop) {
        this(stop, waitedMs -> { });
    }

    /** Queues a message; any thread; never blocks. */
    public void add(Message m) {
        queue.add(m);
    }

    /** The next message if one is there (set-aside ones first), else null; never blocks. */
    public Message poll() {
        return deferred.isEmpty() ? queue.poll() : deferred.poll();
    }

    /**
     * The next message, waiting for one as long as it takes.
     *
     * @throws StoppedException when the run is stopped while waiting
     */
    public Message take() throws InterruptedException {
        Message m = poll();
        return m != null ? m : takeFromQueue();
    }

    /**
     * The next message that is {@code wanted}; the others are set aside for later takes.
     *
     * @throws StoppedException when the run is stopped while waiting
     */
    public Message await(Predicate<Message> wanted) throws InterruptedException {
        return await(wanted, Long.MAX_VALUE);
    }

    /**
     * The next message that is {@code wanted}, waiting at most about {@code timeoutMs} (to the
     * next {@link #POLL_MS}); null when none came. The others are set aside for later takes.
     *
     * @throws StoppedException when the run is stopped while waiting
     */
    public Message await(Predicate<Message> wanted, long timeoutMs) throws InterruptedException {
        List<Message> other = new ArrayList<>();
        try {
            while (!deferred.isEmpty()) {
                Message m = deferred.poll();
                if (wanted.test(m)) {
                    return m;
                }
                other.add(m);
            }
            long waitedMs = 0;
            while (true) {
                Message m = queue.poll(POLL_MS, TimeUnit.MILLISECONDS);
                if (m == null) {
                    if (stop.stopped()) {
                        throw new StoppedException(stop.reason());
                    }
                    waitedMs += POLL_MS;
                    if (waitedMs >= timeoutMs) {
                        return null;
                    }
                    if (waitedMs % STALL_REPORT_MS == 0) {
                        stalled.accept(waitedMs);
                    }
                    continue;
                }
                if (wanted.test(m)) {
                    return m;
                }
                other.add(m);
            }
        } finally {
            // Before what was set aside earlier and not looked at: arrival order is kept.
            for (int i = other.size() - 1; i >= 0; i--) {
                deferred.addFirst(other.get(i));
            }
        }
    }

    private Message takeFromQueue() throws InterruptedException {
        long waitedMs = 0;
        while (true) {
            Message m = queue.poll(POLL_MS, TimeUnit.MILLISECONDS);
            if (m != null) {
                return m;
            }
            if (stop.stopped()) {
                throw new StoppedException(stop.reason());
            }
            waitedMs += POLL_MS;
            if (waitedMs % STALL_REPORT_MS == 0) {
                stalled.accept(waitedMs);
            }
        }
    }
}
