package io.ringtmp.ps.internal;

import io.ringtmp.transport.Message;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Frame bytes ({@link Message#frameBytes()}) sent to and received from each peer since the
 * previous {@link #take()}, for the per-step metrics. A message counts as sent when it is handed
 * to the transport (the step that sends it owns it, whenever the socket write happens) and as
 * received when the transport delivers it. {@link #sent} and {@link #received} may be called
 * from any thread; {@link #take} and the maps belong to the program's own thread.
 */
public final class ByteCounters {
    private final Map<Integer, LongAdder[]> counts = new LinkedHashMap<>();
    private final Map<Integer, long[]> last = new LinkedHashMap<>();
    private Map<Integer, Long> sent = Map.of();
    private Map<Integer, Long> received = Map.of();

    /** Counters for {@code peers}; messages of other peers are not counted. */
    public ByteCounters(List<Integer> peers) {
        for (int p : peers) {
            counts.put(p, new LongAdder[]{new LongAdder(), new LongAdder()});
            last.put(p, new long[2]);
        }
    }

    public void sent(int peer, Message m) {
        LongAdder[] a = counts.get(peer);
        if (a != null) {
            a[0].add(m.frameBytes());
        }
    }

    public void received(Message m) {
        LongAdder[] a = counts.get(m.sender());
        if (a != null) {
            a[1].add(m.frameBytes());
        }
    }

    /** Reads the counters; {@link #sentByPeer()} and {@link #receivedByPeer()} then hold the deltas. */
    public void take() {
        Map<Integer, Long> s = new LinkedHashMap<>(), r = new LinkedHashMap<>();
        last.forEach((peer, prev) -> {
            LongAdder[] a = counts.get(peer);
            long out = a[0].sum(), in = a[1].sum();
            s.put(peer, out - prev[0]);
            r.put(peer, in - prev[1]);
            prev[0] = out;
            prev[1] = in;
        });
        sent = s;
        received = r;
    }

    public Map<Integer, Long> sentByPeer() {
        return sent;
    }

    public Map<Integer, Long> receivedByPeer() {
        return received;
    }
}
