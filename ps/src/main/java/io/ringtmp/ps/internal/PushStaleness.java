package io.ringtmp.ps.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How late a server applies the workers' pushes: for each push, the updates the server made
 * between answering the pull the push was computed on and taking the push in. Under bsp every
 * push is 0 updates late; under asp and ssp a push lacks at least the worker's own previous
 * push (the pull of t+1 is answered before the push of t arrives) and whatever the other
 * workers pushed meanwhile, and ssp bounds it.
 *
 * <p>A worker has at most two answered pulls without their push (it pulls t+1 before pushing
 * t, and pulls t+2 only after pushing t, on the same link), so one slot per step parity is
 * enough. Not thread-safe: the server's loop thread only.
 */
public final class PushStaleness {
    /** Staleness values counted one by one; later ones fall into the last bucket. */
    public static final int BUCKETS = 16;
    private final long[][] answeredAt;
    private final long[] histogram = new long[BUCKETS];
    private long count;
    private long sum;
    private long max;

    public PushStaleness(int workers) {
        this.answeredAt = new long[workers][2];
    }

    /** The server sent worker {@code w} the parameters of {@code step} after {@code updates} updates. */
    public void answered(int w, long step, long updates) {
        answeredAt[w][(int) (step & 1)] = updates;
    }

    /** Worker {@code w}'s push of {@code step} arrived when the server had made {@code updates} updates. */
    public void pushed(int w, long step, long updates) {
        long late = Math.max(0, updates - answeredAt[w][(int) (step & 1)]);
        histogram[(int) Math.min(BUCKETS - 1, late)]++;
        count++;
        sum += late;
        max = Math.max(max, late);
    }

    public long count() {
        return count;
    }

    /** Mean updates late per push (0 when none was counted). */
    public double mean() {
        return count == 0 ? 0 : (double) sum / count;
    }

    public long max() {
        return max;
    }

    /** Pushes by updates late: index i counts i, the last index {@value #BUCKETS} - 1 and more. */
    public long[] histogram() {
        return histogram.clone();
    }

    /** The metrics event's fields: pushes, mean, max and the histogram. */
    public Map<String, Object> fields() {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("pushes", count);
        f.put("meanUpdatesLate", mean());
        f.put("maxUpdatesLate", max);
        List<Long> h = new ArrayList<>();
        for (long v : histogram) {
            h.add(v);
        }
        f.put("histogram", h);
        return f;
    }

    /** One line: mean, max and the share of pushes 0, 1, 2 and 3 or more updates late. */
    public String describe() {
        if (count == 0) {
            return "no pushes";
        }
        long three = 0;
        for (int i = 3; i < BUCKETS; i++) {
            three += histogram[i];
        }
        return String.format(Locale.ROOT, "%,d pushes applied %.2f updates late on average (max %d; 0: %.0f%%, 1: %.0f%%, 2: %.0f%%, 3+: %.0f%%)",
                count, mean(), max, 100.0 * histogram[0] / count, 100.0 * histogram[1] / count, 100.0 * histogram[2] / count,
                100.0 * three / count);
    }
}
