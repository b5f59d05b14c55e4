package io.ringtmp.node;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntConsumer;

/**
 * Declares a peer failed when nothing has been heard from it (a heartbeat or any other
 * message) for {@code timeoutMs}. {@link #heard(int)} may be called from any thread (the
 * transport's I/O threads); {@link #check()} from one thread, the node's heartbeat timer, which
 * also delivers the {@code onFailed} callbacks. A peer is reported once; {@link #heard} after
 * that does not revive it (rejoining is a later protocol).
 */
public final class FailureDetector {
    private final Time time;
    private final long timeoutNs;
    private final Map<Integer, Long> lastHeard = new ConcurrentHashMap<>();
    private final Map<Integer, Boolean> failed = new ConcurrentHashMap<>();
    private final IntConsumer onFailed;
    private long lastCheck;

    /**
     * @param peers     the peers to watch; each counts as heard now
     * @param onFailed  called once per failed peer, on the thread that calls {@link #check()}
     */
    public FailureDetector(Time time, long timeoutMs, List<Integer> peers, IntConsumer onFailed) {
        if (timeoutMs <= 0) {
            throw new IllegalArgumentException("failure timeout must be > 0 ms, got " + timeoutMs);
        }
        this.time = time;
        this.timeoutNs = timeoutMs * 1_000_000L;
        this.onFailed = onFailed;
        long now = time.nanoTime();
        for (int p : peers) {
            lastHeard.put(p, now);
        }
        lastCheck = now;
    }

    /** Something arrived from {@code peer}. */
    public void heard(int peer) {
        lastHeard.computeIfPresent(peer, (k, v) -> time.nanoTime());
    }

    /**
     * Reports peers silent for longer than the timeout; returns those newly failed. A check that
     * comes more than half a timeout after the one before means this node itself was paused
     * (SIGSTOP, a stalled VM): what it did not hear meanwhile says nothing about its peers, so
     * every peer counts as heard now instead.
     */
    public List<Integer> check() {
        long now = time.nanoTime();
        List<Integer> newly = new ArrayList<>();
        if (now - lastCheck > timeoutNs / 2) {
            lastCheck = now;
            lastHeard.replaceAll((p, t) -> now);
            return newly;
        }
        lastCheck = now;
        for (Map.Entry<Integer, Long> e : lastHeard.entrySet()) {
            if (now - e.getValue() > timeoutNs && failed.putIfAbsent(e.getKey(), true) == null) {
                newly.add(e.getKey());
            }
        }
        for (int p : newly) {
            onFailed.accept(p);
        }
        return newly;
    }

    /**
     * Starts watching {@code peer}, counting it as heard now (a new neighbour after the
     * membership changed); a peer already watched is left as it is, a failed one stays failed.
     */
    public void watch(int peer) {
        if (!failed.containsKey(peer)) {
            lastHeard.putIfAbsent(peer, time.nanoTime());
        }
    }

    /** Forgets that {@code peer} failed (it rejoined the run): {@link #watch} watches it again. */
    public void readmit(int peer) {
        failed.remove(peer);
    }

    /** Stops watching {@code peer} (it said goodbye). */
    public void forget(int peer) {
        lastHeard.remove(peer);
    }

    /** Whether {@code peer} is still watched: neither failed nor gone ({@link #forget}). */
    public boolean isWatching(int peer) {
        return lastHeard.containsKey(peer) && !failed.containsKey(peer);
    }

    public boolean isFailed(int peer) {
        return failed.containsKey(peer);
    }

    /** Milliseconds since {@code peer} was last heard. */
    public long silentMs(int peer) {
        Long t = lastHeard.get(peer);
        return t == null ? -1 : (time.nanoTime() - t) / 1_000_000L;
    }
}
