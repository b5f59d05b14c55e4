package io.ringtmp.node;

import io.ringtmp.tensor.Tensor;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.MessageKind;
import io.ringtmp.transport.TransportException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The link test (like nccl-tests for a ring): every node streams tensors of each size to its
 * successor for a few seconds, then measures round-trip latency with small pings; the receiving
 * node reports MB/s of the link it receives on, the sending node the latency of the link it
 * sends on.
 *
 * <p>Protocol, per size index p: DATA messages with {@code step = p} and {@code microbatch =}
 * sequence number, then a CONTROL {@code end} with {@code step = p} carrying the count sent.
 * Then CONTROL {@code ping}s to the successor, answered by {@code pong}s on the successor's link
 * back. Then CONTROL {@code done}. The control messages are {@link Word}s ({@link ControlCodec});
 * one that is not is reported as the test's failure. A node finishes when it has sent its own {@code done} and
 * received its predecessor's. Every DATA tensor carries a pattern that the receiver checks, so
 * a corrupted or misrouted tensor fails the test.
 *
 * <p>Options: {@code sizes} (default {@code 4KiB,64KiB,512KiB,4MiB}), {@code seconds} per size
 * (default 2), {@code pings} (default 200).
 */
public final class LinkTest implements NodeProgram {
    /** Creates the link test on a node. */
    public static final NodeProgram.Factory FACTORY = new Mode();
    /** The spec options of the link test. */
    public static final java.util.Set<String> OPTION_KEYS = java.util.Set.of("sizes", "seconds", "pings");

    /** The link test's factory (a service: {@link Modes}). */
    public static final class Mode implements NodeProgram.Factory {
        @Override
        public String mode() {
            return ClusterSpec.Mode.LINKTEST.id();
        }

        @Override
        public java.util.Set<String> optionKeys() {
            return OPTION_KEYS;
        }

        @Override
        public long maxMessageBytes(ClusterSpec spec) {
            return LinkTest.maxMessageBytes(spec);
        }

        @Override
        public NodeProgram create(NodeContext ctx) {
            return new LinkTest(ctx);
        }
    }

    /** Default sizes, smallest to largest. */
    public static final String DEFAULT_SIZES = "4KiB,64KiB,512KiB,4MiB";

    private final NodeContext ctx;
    private final long[] sizes;
    private final double seconds;
    private final int pings;
    private final Map<Integer, Phase> phases = new ConcurrentHashMap<>();
    private final LinkedBlockingQueue<Long> pongs = new LinkedBlockingQueue<>();
    private final CountDownLatch predecessorDone = new CountDownLatch(1);
    private volatile String corruption;

    /** What the receiver saw of one phase. */
    private static final class Phase {
        long firstNs = -1;
        long lastNs;
        long bytes;
        long messages;
        final CountDownLatch ended = new CountDownLatch(1);
        long sentCount = -1;
    }

    public LinkTest(NodeContext ctx) {
        this.ctx = ctx;
        this.sizes = parseSizes(ctx.spec().option("sizes", DEFAULT_SIZES));
        this.seconds = Double.parseDouble(ctx.spec().option("seconds", "2"));
        this.pings = Integer.parseInt(ctx.spec().option("pings", "200"));
        if (!(seconds > 0) || pings < 1) {
            throw new SpecException("linktest: seconds must be > 0 and pings >= 1, got " + seconds + " and " + pings);
        }
    }

    /** The largest message this test sends, for the transport's size limit. */
    public static long maxMessageBytes(ClusterSpec spec) {
        return Arrays.stream(parseSizes(spec.option("sizes", DEFAULT_SIZES))).max().orElse(4096);
    }

    /** Parses {@code 4KiB,1MiB,512} (bytes; multiples of 4). */
    public static long[] parseSizes(String text) {
        List<Long> out = new ArrayList<>();
        for (String part : text.split(",")) {
            String p = part.trim();
            long mult = 1;
            String num = p;
            for (String[] unit : new String[][]{{"KiB", "1024"}, {"MiB", "1048576"}, {"K", "1024"}, {"M", "1048576"}, {"B", "1"}}) {
                if (p.endsWith(unit[0])) {
                    mult = Long.parseLong(unit[1]);
                    num = p.substring(0, p.length() - unit[0].length());
                    break;
                }
            }
            long bytes;
            try {
                bytes = Long.parseLong(num.trim()) * mult;
            } catch (NumberFormatException e) {
                throw new SpecException("linktest: size '" + p + "' is not like 4KiB, 1MiB or 4096");
            }
            if (bytes < 4 || bytes % 4 != 0 || bytes > (1L << 30)) {
                throw new SpecException("linktest: size " + p + " must be a multiple of 4 bytes between 4 B and 1 GiB");
            }
            out.add(bytes);
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    /** Handles a message from a neighbour (called on transport threads). */
    @Override
    public void onMessage(Message m) {
        switch (m.kind()) {
            case DATA -> onData(m);
            case CONTROL -> onControl(m);
            default -> { }
        }
    }

    private void onData(Message m) {
        long now = ctx.time().nanoTime();
        Phase ph = phases.computeIfAbsent((int) m.step(), k -> new Phase());
        Tensor t = m.tensor();
        if (!patternHolds(t, m.microbatch(), m.sender())) {
            corruption = "tensor " + m.microbatch() + " of size " + 4L * t.size() + " from node " + m.sender() + " is not what was sent";
        }
        synchronized (ph) {
            if (ph.firstNs < 0) {
                ph.firstNs = now;
            }
            ph.lastNs = now;
            ph.bytes += 4L * t.size();
            ph.messages++;
        }
    }

    /** The link test's control messages; {@code ping}, {@code pong} and {@code end} carry their number in the message's step. */
    @com.fasterxml.jackson.annotation.JsonTypeInfo(use = com.fasterxml.jackson.annotation.JsonTypeInfo.Id.NAME, property = "type")
    @com.fasterxml.jackson.annotation.JsonSubTypes({
            @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = Word.End.class, name = "end"),
            @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = Word.Ping.class, name = "ping"),
            @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = Word.Pong.class, name = "pong"),
            @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = Word.Done.class, name = "done")})
    sealed interface Word {
        ControlCodec<Word> CODEC = new ControlCodec<>(Word.class);

        /** Phase {@code step} is over: {@code sent} tensors went out. */
        record End(long sent) implements Word {
        }

        record Ping() implements Word {
        }

        record Pong() implements Word {
        }

        /** The sender has finished every phase and its pings. */
        record Done() implements Word {
        }
    }

    private void onControl(Message m) {
        Word w;
        try {
            w = Word.CODEC.decode(m);
        } catch (ProtocolException e) {
            corruption = e.getMessage(); // on a transport thread: reported when the test ends
            return;
        }
        switch (w) {
            case Word.End end -> {
                Phase ph = phases.computeIfAbsent((int) m.step(), k -> new Phase());
                synchronized (ph) {
                    ph.sentCount = end.sent();
                }
                ph.ended.countDown();
            }
            case Word.Ping ping -> ctx.predecessor().send(Word.CODEC.message(ctx.id(), ctx.spec().runId(), m.step(), new Word.Pong()));
            case Word.Pong pong -> pongs.offer(m.step());
            case Word.Done done -> predecessorDone.countDown();
        }
    }


    private static float expected(int seq, int sender, int i) {
        return (float) ((seq * 31L + sender * 7L + i) % 1021);
    }

    private static void fillPattern(Tensor t, int seq, int sender) {
        // Only the first and last 64 elements and every 4096th carry the pattern: enough to catch
        // misrouting or a shifted buffer without making the sender's CPU the bottleneck.
        int n = t.size();
        for (int i = 0; i < n; i = next(i, n)) {
            t.set(i, expected(seq, sender, i));
        }
    }

    private static boolean patternHolds(Tensor t, int seq, int sender) {
        int n = t.size();
        for (int i = 0; i < n; i = next(i, n)) {
            if (t.get(i) != expected(seq, sender, i)) {
                return false;
            }
        }
        return true;
    }

    private static int next(int i, int n) {
        if (i < 63 || i >= n - 64) {
            return i + 1;
        }
        return Math.max(i + 1, Math.min(n - 64, (i / 4096 + 1) * 4096));
    }

    /**
     * Runs the test; returns true when it completed. A send that fails (the neighbour is gone)
     * ends the test; the node then waits for the failure detector to confirm, so the exit code
     * says "neighbour failed" rather than "error".
     */
    @Override
    public boolean run() throws InterruptedException {
        try {
            return runPhases();
        } catch (TransportException | java.util.concurrent.CompletionException e) {
            ctx.say("link error: " + e.getMessage() + "; waiting for the failure detector");
            ctx.stop().await(2L * ctx.spec().failureTimeoutMs());
            return false;
        }
    }

    private boolean runPhases() throws InterruptedException {
        int me = ctx.id();
        long runId = ctx.spec().runId();
        for (int p = 0; p < sizes.length && !ctx.stop().stopped(); p++) {
            Tensor t = Tensor.zeros((int) (sizes[p] / 4));
            long deadline = ctx.time().nanoTime() + (long) (seconds * 1e9);
            int seq = 0;
            while (ctx.time().nanoTime() < deadline && !ctx.stop().stopped()) {
                fillPattern(t, seq, me);
                ctx.successor().send(Message.tensor(MessageKind.DATA, me, runId, p, seq, t));
                seq++;
            }
            ctx.successor().send(Word.CODEC.message(me, runId, p, new Word.End(seq))).join();
            reportPhase(p);
        }
        List<Long> rtts = new ArrayList<>();
        for (int i = 0; i < pings && !ctx.stop().stopped(); i++) {
            long t0 = ctx.time().nanoTime();
            ctx.successor().send(Word.CODEC.message(me, runId, i, new Word.Ping()));
            Long got;
            do {
                // Skip any late answer to an earlier ping.
                got = pongs.poll(ctx.spec().failureTimeoutMs(), TimeUnit.MILLISECONDS);
            } while (got != null && got != i);
            if (got == null) {
                break;
            }
            rtts.add(ctx.time().nanoTime() - t0);
        }
        if (!rtts.isEmpty()) {
            long[] r = rtts.stream().mapToLong(Long::longValue).sorted().toArray();
            double p50 = r[r.length / 2] / 1e3, p99 = r[Math.min(r.length - 1, (int) (r.length * 0.99))] / 1e3;
            ctx.say(String.format(Locale.ROOT, "link %d->%d rtt: %.0f us p50, %.0f us p99 (%d pings)",
                    me, ctx.successorId(), p50, p99, r.length));
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("from", me);
            f.put("to", ctx.successorId());
            f.put("p50Us", p50);
            f.put("p99Us", p99);
            f.put("pings", r.length);
            ctx.metrics().event("linktest-rtt", f);
        }
        ctx.successor().send(Word.CODEC.message(me, runId, 0, new Word.Done())).join();
        while (!predecessorDone.await(100, TimeUnit.MILLISECONDS)) {
            if (ctx.stop().stopped()) {
                return false;
            }
        }
        // The receiving side of the last phases may still be reporting.
        for (int p = 0; p < sizes.length; p++) {
            reportPhase(p);
        }
        if (corruption != null) {
            ctx.say("linktest FAILED: " + corruption);
            return false;
        }
        return !ctx.stop().stopped();
    }

    private final java.util.Set<Integer> reported = ConcurrentHashMap.newKeySet();

    /** Prints the receive side of phase p once its end marker has arrived. */
    private void reportPhase(int p) {
        Phase ph = phases.get(p);
        if (ph == null || ph.ended.getCount() > 0 || !reported.add(p)) {
            return;
        }
        double mbps;
        long msgs, bytes;
        synchronized (ph) {
            msgs = ph.messages;
            bytes = ph.bytes;
            double secs = (ph.lastNs - ph.firstNs) / 1e9;
            // Rate over the interval between the first and last arrival: n-1 messages' worth.
            mbps = msgs > 1 && secs > 0 ? bytes * (msgs - 1.0) / msgs / secs / 1e6 : 0;
            if (ph.sentCount != msgs) {
                corruption = "phase " + p + ": node " + ctx.predecessorId() + " sent " + ph.sentCount + " tensors, " + msgs + " arrived";
            }
        }
        ctx.say(String.format(Locale.ROOT, "link %d->%d %s: %.1f MB/s (%d messages)", ctx.predecessorId(), ctx.id(),
                human(sizes[p]), mbps, msgs));
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("from", ctx.predecessorId());
        f.put("to", ctx.id());
        f.put("bytes", sizes[p]);
        f.put("size", human(sizes[p]));
        f.put("MBps", mbps);
        f.put("messages", msgs);
        ctx.metrics().event("linktest-throughput", f);
    }

    public static String human(long bytes) {
        if (bytes % (1 << 20) == 0) {
            return bytes / (1 << 20) + "MiB";
        }
        if (bytes % 1024 == 0) {
            return bytes / 1024 + "KiB";
        }
        return bytes + "B";
    }
}
