package io.ringtmp.ring;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringtmp.node.NodeContext;
import io.ringtmp.tensor.Tensor;
import io.ringtmp.transport.Link;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.MessageKind;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Buddy replicas: every {@code replicaEvery} steps a member copies its stage's state
 * ({@link StageState}), keeps the copy to roll back to, and streams it to its buddy in chunks
 * ({@code REPLICA} messages) from a background thread, one chunk in flight at a time, so that
 * activations and gradients pass between chunks; the buddy assembles what arrives and keeps the
 * newest complete ones. A repair rolls every survivor back to a step that all of them hold
 * (docs/resilience.md). Each side keeps its two newest: members reach a step at different times
 * (async's stages are up to a few microbatches apart), so when the newest is not yet everywhere
 * the one before it is.
 *
 * <p>Memory: a stage's state can be large (W2B's is 134 MB), and a large array allocated while
 * training starts a collector cycle that takes CPU from the stage (20% of W2B's throughput on
 * half-core devices). So each side holds three sets of arrays, allocated when the epoch's first
 * snapshot or replica is there (at the start of training and after a repair) and then reused:
 * the arrays of a snapshot or replica that falls out of the newest two take the next one, unless
 * a repair was handed it or it is still being streamed. Chunks go out as views of the snapshot.
 *
 * <p>Threads: {@link #snapshot} and the queries belong to the stage's thread; {@link #receive}
 * is called on transport threads; the streaming runs on this object's own thread.
 */
final class Replicas implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int KEEP = 2;

    /** A complete replica and the epoch (mod 256) its sender streamed it in. */
    private record Held(int epoch, StageState state) {
    }

    /** The header of one chunk: where its floats go. {@code chunks} counts every chunk of the replica. */
    record Chunk(int owner, long step, int from, int to, long optimizerSteps, String name, int[] shape, int offset, int chunks) {
    }

    private final NodeContext ctx;
    private final int chunkFloats;
    private final ArrayDeque<StageState> own = new ArrayDeque<>();
    private final Map<Integer, ArrayDeque<Held>> received = new HashMap<>();
    private final Map<String, Assembly> assembling = new HashMap<>();
    private final ExecutorService sender;
    private volatile long newestQueued = -1;
    /** Arrays for the next snapshots: allocated with the epoch's first, then those of snapshots no one reads any more. */
    private final ArrayDeque<Map<String, Tensor>> spareOwn = new ArrayDeque<>();
    /** Per sender, arrays for the next replicas it streams, the same way. */
    private final Map<Integer, ArrayDeque<Map<String, Tensor>>> spareReceived = new HashMap<>();
    /** States being streamed now. */
    private final Set<StageState> streaming = Collections.newSetFromMap(new IdentityHashMap<>());
    /** States handed to a repair or a hand-off: never reused. */
    private final Set<StageState> lent = Collections.newSetFromMap(new IdentityHashMap<>());

    /** @param chunkFloats floats per chunk at most (below the transport's message limit) */
    Replicas(NodeContext ctx, int chunkFloats) {
        this.ctx = ctx;
        this.chunkFloats = chunkFloats;
        this.sender = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "ringtmp-replica-" + ctx.id());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Copies {@code stage}'s state now ({@link StageState#of}) as this member's own snapshot of
     * layers [from, to) at {@code step} and, when {@code buddy} is not null, streams it there in
     * the background, stamped with {@code epoch}. Call on the stage's thread, between updates.
     */
    void snapshot(int owner, long step, int from, int to, Stage stage, Link buddy, long epoch) {
        Map<String, Tensor> into;
        boolean first;
        synchronized (this) {
            into = spareOwn.isEmpty() ? Map.of() : spareOwn.removeFirst();
            first = own.isEmpty() && into.isEmpty();
        }
        // outside the lock: receive() goes on
        StageState state = StageState.of(owner, step, from, to, stage, into);
        List<Map<String, Tensor>> spares = first ? spares(state) : List.of();
        synchronized (this) {
            spareOwn.addAll(spares);
            own.addLast(state);
            while (own.size() > KEEP) {
                StageState old = own.removeFirst();
                if (!lent.remove(old) && !streaming.contains(old) && spareOwn.size() < KEEP) {
                    spareOwn.addLast(old.tensors());
                }
            }
            if (buddy != null) {
                newestQueued = state.step();
                sender.execute(() -> stream(state, buddy, epoch));
            }
        }
    }

    /**
     * Streams {@code state} to {@code neighbour} now, on the calling thread (a re-balance's layer
     * hand-off); the neighbour finds it with {@link #replica}. Returns whether it was all sent.
     */
    boolean handOff(StageState state, Link neighbour, long epoch) {
        newestQueued = state.step();
        return stream(state, neighbour, epoch);
    }

    /** This member's own snapshot of {@code step}, or null; the caller may keep it. */
    synchronized StageState own(long step) {
        for (StageState s : own) {
            if (s.step() == step) {
                lent.add(s);
                return s;
            }
        }
        return null;
    }

    /** The complete replica of {@code owner}'s layers [from, to) at {@code step}, or null; the caller may keep it. */
    synchronized StageState replica(int owner, long step, int from, int to) {
        for (Held h : received.getOrDefault(owner, new ArrayDeque<>())) {
            StageState s = h.state();
            if (s.step() == step && s.from() == from && s.to() == to) {
                lent.add(s);
                return s;
            }
        }
        return null;
    }

    /** A look at this member's own snapshot of {@code step}, or null, not lent: it is reused once two newer are taken. */
    synchronized StageState ownState(long step) {
        return own.stream().filter(x -> x.step() == step).findFirst().orElse(null);
    }

    /** A look at the newest complete replica of {@code owner} at {@code step}, or null, not lent. */
    synchronized StageState replicaState(int owner, long step) {
        return received.getOrDefault(owner, new ArrayDeque<>()).stream().map(Held::state).filter(x -> x.step() == step)
                .reduce((a, b) -> b).orElse(null);
    }

    /** Steps of this member's own snapshots. */
    synchronized List<Long> ownSteps() {
        return own.stream().map(StageState::step).toList();
    }

    /**
     * A new membership starts: forgets this member's snapshots and every replica of another
     * epoch (the ranges changed; a neighbour already in the new epoch may have sent its first).
     */
    synchronized void startEpoch(long epoch) {
        int e = (int) Math.floorMod(epoch, (long) Message.EPOCHS);
        own.clear();
        spareOwn.clear(); // the ranges changed: the epoch's first snapshot and replicas allocate anew
        spareReceived.clear();
        received.values().forEach(q -> q.removeIf(h -> h.epoch() != e));
        assembling.values().removeIf(a -> a.epoch != e);
        lent.removeIf(s -> received.values().stream().noneMatch(q -> q.stream().anyMatch(h -> h.state() == s)));
        newestQueued = -1;
    }

    private boolean stream(StageState s, Link buddy, long epoch) {
        synchronized (this) {
            if (newestQueued != s.step()) {
                return false; // a newer snapshot was queued before this one started
            }
            streaming.add(s);
        }
        try {
            return send(s, buddy, epoch);
        } finally {
            synchronized (this) {
                streaming.remove(s);
            }
        }
    }

    private boolean send(StageState s, Link buddy, long epoch) {
        long t0 = ctx.time().nanoTime();
        int total = 0;
        for (Tensor t : s.tensors().values()) {
            total += (t.size() + chunkFloats - 1) / chunkFloats;
        }
        long bytes = 0;
        int k = 0;
        try {
            if (total == 0) {
                // A stage without weights (activations only) still has a replica: one chunk that says so.
                byte[] header = JSON.writeValueAsBytes(new Chunk(s.owner(), s.step(), s.from(), s.to(), s.optimizerSteps(), null, null, 0, 1));
                Message m = new Message(MessageKind.REPLICA, ctx.id(), ctx.spec().runId(), s.step(), 0, null, header).withEpoch(epoch);
                buddy.send(m).join();
                bytes += m.frameBytes();
            }
            for (Map.Entry<String, Tensor> e : s.tensors().entrySet()) {
                Tensor t = e.getValue();
                Tensor flat = t.reshape(t.size());
                for (int off = 0; off < t.size(); off += chunkFloats) {
                    if (newestQueued != s.step()) {
                        return false; // a newer snapshot is on its way: this one is stale
                    }
                    int n = Math.min(chunkFloats, t.size() - off);
                    byte[] header = JSON.writeValueAsBytes(new Chunk(s.owner(), s.step(), s.from(), s.to(), s.optimizerSteps(), e.getKey(),
                            t.shape(), off, total));
                    // a view: the transport copies it into its frame before send returns, and the snapshot is not reused while streamed
                    Message m = new Message(MessageKind.REPLICA, ctx.id(), ctx.spec().runId(), s.step(), k++,
                            flat.rows(off, off + n), header).withEpoch(epoch);
                    buddy.send(m).join(); // one chunk in flight: tensors pass between chunks
                    bytes += m.frameBytes();
                }
            }
        } catch (RuntimeException | IOException e) {
            ctx.say("replica of step " + s.step() + " not sent to node " + buddy.peerId() + ": " + e.getMessage());
            return false;
        }
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("step", s.step());
        f.put("to", buddy.peerId());
        f.put("bytes", bytes);
        f.put("ms", (ctx.time().nanoTime() - t0) / 1e6);
        ctx.metrics().event("replica-sent", f);
        return true;
    }

    /**
     * A chunk of a neighbour's replica arrived (a transport thread). A malformed chunk drops its
     * replica with a line naming the sender; a complete replica replaces the sender's oldest.
     */
    synchronized void receive(Message m) {
        Chunk c;
        try {
            c = JSON.readValue(m.bytes(), Chunk.class);
        } catch (IOException | RuntimeException e) {
            ctx.say("dropped a malformed replica chunk from node " + m.sender() + ": " + e.getMessage());
            return;
        }
        String key = m.sender() + "@" + c.step() + "@" + m.epoch();
        Assembly a = assembling.computeIfAbsent(key, k -> {
            ArrayDeque<Map<String, Tensor>> spare = spareReceived.get(m.sender());
            return new Assembly(c, m.epoch(), spare == null ? null : spare.pollFirst());
        });
        String error = a.add(c, m.tensor());
        if (m.tensor() != null) {
            ctx.buffers().give(m.tensor());
        }
        if (error != null) {
            ctx.say("dropped the replica of step " + c.step() + " from node " + m.sender() + ": " + error);
            assembling.remove(key);
            return;
        }
        if (a.complete()) {
            assembling.remove(key);
            ArrayDeque<Held> q = received.computeIfAbsent(m.sender(), k -> new ArrayDeque<>());
            StageState state = a.state(m.sender());
            q.addLast(new Held(a.epoch, state));
            ArrayDeque<Map<String, Tensor>> spare = spareReceived.computeIfAbsent(m.sender(), k -> new ArrayDeque<>());
            while (q.size() > KEEP) {
                StageState old = q.removeFirst().state();
                if (!lent.remove(old) && spare.size() < KEEP) {
                    spare.addLast(old.tensors());
                }
            }
            if (q.size() == 1 && spare.isEmpty()) {
                // the sender's first replica in this epoch: its next two get arrays now, off the transport thread
                int sender = m.sender();
                this.sender.execute(() -> {
                    List<Map<String, Tensor>> made = spares(state);
                    synchronized (this) {
                        ArrayDeque<Map<String, Tensor>> into = spareReceived.computeIfAbsent(sender, k -> new ArrayDeque<>());
                        made.forEach(x -> {
                            if (into.size() < KEEP) {
                                into.addLast(x);
                            }
                        });
                    }
                });
            }
            assembling.entrySet().removeIf(x -> x.getKey().startsWith(m.sender() + "@") && x.getValue().first.step() < c.step());
        }
    }

    /** {@link #KEEP} sets of zeroed arrays of {@code like}'s names and shapes. */
    private static List<Map<String, Tensor>> spares(StageState like) {
        List<Map<String, Tensor>> out = new java.util.ArrayList<>();
        for (int i = 0; i < KEEP; i++) {
            Map<String, Tensor> t = new LinkedHashMap<>();
            like.tensors().forEach((name, x) -> t.put(name, Tensor.zeros(x.shape())));
            out.add(t);
        }
        return out;
    }

    @Override
    public void close() {
        sender.shutdownNow();
    }

    /** One replica being put together from its chunks. */
    private static final class Assembly {
        private final Chunk first;
        private final int epoch;
        private final Map<String, Tensor> tensors = new LinkedHashMap<>();
        private final Map<String, Tensor> spare;
        private int got;

        /** @param spare arrays of an old replica to fill rather than allocate (null: none) */
        Assembly(Chunk first, int epoch, Map<String, Tensor> spare) {
            this.first = first;
            this.epoch = epoch;
            this.spare = spare == null ? Map.of() : spare;
        }

        String add(Chunk c, Tensor data) {
            if (c.chunks() != first.chunks() || c.from() != first.from() || c.to() != first.to()) {
                return "chunk headers disagree";
            }
            if (c.name() == null) {
                got++; // the one chunk of a stage without weights
                return first.chunks() == 1 && data == null ? null : "an empty chunk in a replica of " + first.chunks() + " chunks";
            }
            if (c.shape() == null || data == null) {
                return "chunk of " + c.name() + " without a shape or floats";
            }
            Tensor t = tensors.computeIfAbsent(c.name(), n -> {
                Tensor old = spare.get(n);
                return old != null && Arrays.equals(old.shape(), c.shape()) ? old : Tensor.zeros(c.shape());
            });
            if (!Arrays.equals(t.shape(), c.shape())) {
                return "tensor " + c.name() + " changed shape";
            }
            int n = data == null ? 0 : data.size();
            if (c.offset() < 0 || (long) c.offset() + n > t.size()) {
                return "chunk [" + c.offset() + ", +" + n + ") outside " + c.name() + " of " + t.size() + " floats";
            }
            if (n > 0) {
                System.arraycopy(data.data(), data.offset(), t.data(), t.offset() + c.offset(), n);
            }
            got++;
            return got > first.chunks() ? "more chunks than the " + first.chunks() + " announced" : null;
        }

        boolean complete() {
            return got == first.chunks();
        }

        StageState state(int owner) {
            return new StageState(owner, first.step(), first.from(), first.to(), first.optimizerSteps(), tensors);
        }
    }
}
