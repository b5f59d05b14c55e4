package io.ringtmp.transport;

import io.ringtmp.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static io.ringtmp.transport.TestSupport.MAX_BYTES;
import static io.ringtmp.transport.TestSupport.RUN;
import static io.ringtmp.transport.TestSupport.SECRET;
import static io.ringtmp.transport.TestSupport.awaitCondition;
import static io.ringtmp.transport.TestSupport.cfg;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The in-process transport against the {@link Link} contract, with real transports on one network. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class InProcessTransportTest {
    private final InProcessNetwork network = new InProcessNetwork();
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
    }

    private Transport start(TransportConfig c, MessageHandler h) {
        return start(c, h, TensorBuffers.unpooled());
    }

    private Transport start(TransportConfig c, MessageHandler h, TensorBuffers buffers) {
        Transport t = network.transports().start(c, h, buffers);
        open.add(t);
        return t;
    }

    private static Link connect(Transport from, Transport to) {
        return from.connect(to.nodeId(), to.config().bindHost(), to.boundPort());
    }

    /** A handler that holds every message until {@code release} opens, counting those it took. */
    private static MessageHandler stalling(CountDownLatch release, AtomicInteger received) {
        return m -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            received.incrementAndGet();
        };
    }

    private static TransportException failure(CompletableFuture<Void> f) throws InterruptedException {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
        return assertInstanceOf(TransportException.class, e.getCause());
    }

    @Test
    void send_tensorOverwrittenAtOnce_arrivesAsItWasWithTheSenderStamped() throws Exception {
        var inbox = new TestSupport.Inbox();
        Transport b = start(cfg(1), inbox);
        Transport a = start(cfg(0), new TestSupport.Inbox());
        Link link = connect(a, b);
        Tensor t = Tensor.of(new float[]{1, 2, 3, 4, 5, 6}, 2, 3);
        byte[] bytes = {7, 8};
        Message sent = new Message(MessageKind.LOSS, 9, RUN, 4, 2, t, bytes);
        CompletableFuture<Void> done = link.send(sent);
        t.fill(-1);
        bytes[0] = -1;
        done.get(5, TimeUnit.SECONDS);
        Message m = inbox.take();
        assertEquals(0, m.sender(), "the link stamps its own node id");
        assertEquals(MessageKind.LOSS, m.kind());
        assertEquals(4, m.step());
        assertEquals(2, m.microbatch());
        assertArrayEquals(new int[]{2, 3}, m.tensor().shape());
        assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6}, m.tensor().toArray());
        assertNotSame(t.data(), m.tensor().data());
        assertArrayEquals(new byte[]{7, 8}, m.bytes());
        // A row view: only its rows travel.
        Tensor view = Tensor.of(new float[]{1, 2, 3, 4, 5, 6, 7, 8}, 4, 2).rows(1, 3);
        link.send(Message.tensor(MessageKind.ACTIVATION, 0, RUN, 5, 0, view)).get(5, TimeUnit.SECONDS);
        assertArrayEquals(new float[]{3, 4, 5, 6}, inbox.take().tensor().toArray());
        link.send(Message.control(MessageKind.CONTROL, 0, RUN, 6, null)).get(5, TimeUnit.SECONDS);
        Message none = inbox.take();
        assertNull(none.tensor());
        assertNull(none.bytes());
        long frames = sent.frameBytes() + Message.tensor(MessageKind.ACTIVATION, 0, RUN, 5, 0, view).frameBytes()
                + Message.control(MessageKind.CONTROL, 0, RUN, 6, null).frameBytes();
        assertEquals(frames, link.stats().bytesSent(), "stats count the bytes of the Netty frames");
        assertEquals(3, link.stats().messagesSent());
        LinkStats in = b.link(0).orElseThrow().stats();
        assertEquals(frames, in.bytesReceived());
        assertEquals(3, in.messagesReceived());
        assertEquals(0, link.stats().queuedBytes());
    }

    @Test
    void send_manyMessages_arriveInOrderBothWaysOnEachLinksDeliveryThread() throws Exception {
        var inboxA = new TestSupport.Inbox();
        java.util.Set<String> threadsB = java.util.concurrent.ConcurrentHashMap.newKeySet();
        AtomicInteger lastStep = new AtomicInteger(-1);
        AtomicReference<String> outOfOrder = new AtomicReference<>();
        Transport b = start(cfg(1), m -> {
            if (m.step() != lastStep.get() + 1) {
                outOfOrder.set("step " + m.step() + " after " + lastStep.get());
            }
            lastStep.set((int) m.step());
            threadsB.add(Thread.currentThread().getName());
        });
        Transport a = start(cfg(0), inboxA);
        Link ab = connect(a, b);
        int n = 3000;
        Tensor t = Tensor.zeros(64);
        CompletableFuture<Void> last = null;
        for (int i = 0; i < n; i++) {
            t.fill(i);
            last = ab.send(Message.tensor(MessageKind.GRADIENT, 0, RUN, i, i % 4, t));
        }
        last.get(10, TimeUnit.SECONDS);
        assertNull(outOfOrder.get());
        assertEquals(n - 1, lastStep.get());
        assertEquals(java.util.Set.of(InProcessTransport.THREAD_PREFIX + "1-from-0"), threadsB);
        Link ba = b.link(0).orElseThrow();
        for (int i = 0; i < 10; i++) {
            ba.send(Message.control(MessageKind.CREDIT, 1, RUN, i, new byte[]{9}));
        }
        for (int i = 0; i < 10; i++) {
            assertEquals(i, inboxA.take().step());
        }
        assertEquals(n, ab.stats().messagesSent());
        assertEquals(n, ba.stats().messagesReceived());
    }

    @Test
    void receive_tensorsTakeTheReceiversBuffers_aGivenBackArrayIsReused() throws Exception {
        var inbox = new TestSupport.Inbox();
        TensorBuffers buffers = TensorBuffers.pooled(4);
        Transport b = start(cfg(1), inbox, buffers);
        Transport a = start(cfg(0), new TestSupport.Inbox());
        Link link = connect(a, b);
        link.send(Message.tensor(MessageKind.GRADIENT, 0, RUN, 1, 0, Tensor.zeros(64, 512))).get(5, TimeUnit.SECONDS);
        Tensor first = inbox.take().tensor();
        buffers.give(first);
        link.send(Message.tensor(MessageKind.GRADIENT, 0, RUN, 2, 0, Tensor.zeros(512, 64))).get(5, TimeUnit.SECONDS);
        assertSame(first.data(), inbox.take().tensor().data(), "the given-back array was reused");
        assertEquals(2, buffers.taken());
        assertEquals(1, buffers.reused());
    }

    @Test
    void send_stalledReceiver_blocksSenderAtHighWaterMarkThenResumes() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger received = new AtomicInteger();
        int low = 256 << 10, high = 1 << 20;
        start(cfg(1).withPort(7001), stalling(release, received));
        Transport a = start(cfg(0).withWaterMarks(low, high), new TestSupport.Inbox());
        Link link = a.connect(1, "127.0.0.1", 7001);
        int n = 100;
        Tensor t = Tensor.zeros(16 << 10); // 64 KiB
        int frame = (int) Message.tensor(MessageKind.DATA, 0, RUN, 0, 0, t).frameBytes();
        AtomicInteger accepted = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread sender = new Thread(() -> {
            try {
                for (int i = 0; i < n; i++) {
                    link.send(Message.tensor(MessageKind.DATA, 0, RUN, i, 0, t));
                    accepted.incrementAndGet();
                }
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "test-sender");
        sender.start();
        awaitCondition("sender blocked on back-pressure", 10_000,
                () -> sender.getState() == Thread.State.TIMED_WAITING && link.stats().queuedBytes() > high);
        // The receiver holds one message in its handler; the rest wait in the queue.
        // Accepted while at most the high-water mark was queued (the one in the handler counts: not delivered yet).
        assertEquals(high / frame + 1, accepted.get(), "accepted until the queue passed the high-water mark");
        assertTrue(link.stats().maxQueuedBytes() <= high + frame, "queued " + link.stats().maxQueuedBytes());
        release.countDown();
        sender.join(10_000);
        assertNull(failure.get());
        assertEquals(n, accepted.get());
        awaitCondition("all messages received", 10_000, () -> received.get() == n);
        assertTrue(link.stats().blockedNanos() > 0, "blocked time is counted");
        assertTrue(link.stats().maxQueuedBytes() <= high + frame);
    }

    @Test
    void send_receiverStalledPastTheSendTimeout_throwsTransient() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Transport b = start(cfg(1), stalling(release, new AtomicInteger()));
        Transport a = start(cfg(0).withWaterMarks(0, 1024).withTimeouts(200, 1000, 1000), new TestSupport.Inbox());
        Link link = connect(a, b);
        Tensor t = Tensor.zeros(1024);
        TransportException e = assertThrows(TransportException.class, () -> {
            for (int i = 0; i < 10; i++) {
                link.send(Message.tensor(MessageKind.DATA, 0, RUN, i, 0, t));
            }
        });
        assertTrue(e.transientFailure(), e.getMessage());
        assertTrue(e.getMessage().contains("after 200 ms; the peer does not read"), e.getMessage());
        release.countDown();
    }

    @Test
    void send_heartbeatAndNodeWordPastTheHighWaterMark_doNotWait() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Transport b = start(cfg(1), stalling(release, new AtomicInteger()));
        Transport a = start(cfg(0).withWaterMarks(0, 1024).withTimeouts(30_000, 1000, 1000), new TestSupport.Inbox());
        Link link = connect(a, b);
        link.send(Message.tensor(MessageKind.DATA, 0, RUN, 0, 0, Tensor.zeros(1024))); // the receiver holds it: 4 KiB queued
        assertTrue(link.stats().queuedBytes() > 1024, "past the high-water mark");
        long start = System.nanoTime();
        link.send(Message.control(MessageKind.HEARTBEAT, 0, RUN, 0, new byte[0]));
        link.send(Message.control(MessageKind.NODE, 0, RUN, 0, "bye".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        assertTrue(tookMs < 10_000, "a heartbeat and a node word joined the full queue, not waiting out the 30 s send timeout: " + tookMs + " ms");
        release.countDown();
    }

    @Test
    void send_insideAHandler_neverBlocksOnBackPressure() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger echoed = new AtomicInteger();
        Tensor big = Tensor.zeros(16 << 10);
        Transport[] bRef = new Transport[1];
        Transport a = start(cfg(0), stalling(release, new AtomicInteger()));
        bRef[0] = start(cfg(1).withWaterMarks(0, 64 << 10), m -> {
            bRef[0].link(0).orElseThrow().send(Message.tensor(MessageKind.DATA, 1, RUN, m.step(), 0, big));
            echoed.incrementAndGet();
        });
        Link ab = connect(a, bRef[0]);
        for (int i = 0; i < 40; i++) {
            ab.send(Message.control(MessageKind.DATA, 0, RUN, i, null));
        }
        awaitCondition("node 1 answered all 40 while node 0 reads nothing", 10_000, () -> echoed.get() == 40);
        assertTrue(bRef[0].link(0).orElseThrow().stats().queuedBytes() > 64 << 10, "past the high-water mark");
        release.countDown();
    }

    @Test
    void connect_wrongSecret_refusedWithTheHandshakesWordsOnBothSides() throws Exception {
        var inbox = new TestSupport.Inbox();
        Transport b = start(cfg(1).withPort(7001), inbox);
        byte[] wrong = "another-secret-0123456789abcdef".getBytes();
        Transport stranger = start(TransportConfig.of(0, "127.0.0.1", 7000, RUN, wrong, MAX_BYTES), new TestSupport.Inbox());
        TransportException e = assertThrows(TransportException.class, () -> connect(stranger, b));
        assertFalse(e.transientFailure(), e.getMessage());
        assertEquals("peer 1 at in-process 127.0.0.1:7001 failed to prove the shared secret", e.getMessage());
        assertEquals("-1: connection from in-process 127.0.0.1:7000 claiming node 0 closed the handshake without proving "
                + "the shared secret", inbox.takeRejection());
        assertTrue(b.link(0).isEmpty());
        assertTrue(stranger.link(1).isEmpty());

        Transport good = start(cfg(0), new TestSupport.Inbox());
        connect(good, b).send(Message.control(MessageKind.DATA, 0, RUN, 99, null));
        assertEquals(99, inbox.take().step());
        assertTrue(inbox.rejected.isEmpty(), "rejections: " + inbox.rejected);
    }

    @Test
    void connect_wrongRun_refusedPermanentlyAndReported() throws Exception {
        var inbox = new TestSupport.Inbox();
        Transport b = start(cfg(1), inbox);
        Transport other = start(TransportConfig.of(0, "127.0.0.1", 0, RUN + 1, SECRET, MAX_BYTES), new TestSupport.Inbox());
        TransportException e = assertThrows(TransportException.class, () -> connect(other, b));
        assertFalse(e.transientFailure(), e.getMessage());
        assertTrue(e.getMessage().contains("refused the handshake: it has another run id or secret"), e.getMessage());
        String r = inbox.takeRejection();
        assertTrue(r.startsWith("-1: ") && r.contains("(node 0): run id " + (RUN + 1) + ", expected " + RUN), r);
    }

    @Test
    void connect_wrongPeerId_refusedPermanently() {
        Transport b = start(cfg(1), new TestSupport.Inbox());
        Transport a = start(cfg(0), new TestSupport.Inbox());
        TransportException e = assertThrows(TransportException.class, () -> a.connect(2, "127.0.0.1", b.boundPort()));
        assertFalse(e.transientFailure(), e.getMessage());
        assertTrue(e.getMessage().contains("found node 1"), e.getMessage());
    }

    @Test
    void connect_peerStartsLater_waitsUntilItListens() throws Exception {
        Transport a = start(cfg(0), new TestSupport.Inbox());
        AtomicReference<Object> result = new AtomicReference<>();
        Thread connector = new Thread(() -> {
            try {
                result.set(a.connect(1, "127.0.0.1", 7001));
            } catch (RuntimeException e) {
                result.set(e);
            }
        });
        connector.start();
        awaitCondition("connect waits", 5000, () -> connector.getState() == Thread.State.TIMED_WAITING);
        var inbox = new TestSupport.Inbox();
        start(cfg(1).withPort(7001), inbox);
        connector.join(5000);
        Link link = assertInstanceOf(Link.class, result.get(), "connect gave " + result.get());
        link.send(Message.control(MessageKind.HEARTBEAT, 0, RUN, 1, null));
        assertEquals(MessageKind.HEARTBEAT, inbox.take().kind());
    }

    @Test
    void connect_nobodyListening_failsTransientAfterTheConnectTimeout() {
        Transport a = start(cfg(0).withTimeouts(1000, 100, 1000), new TestSupport.Inbox());
        TransportException e = assertThrows(TransportException.class, () -> a.connect(1, "127.0.0.1", 7001));
        assertTrue(e.transientFailure(), e.getMessage());
        assertTrue(e.getMessage().contains("not reachable within 100 ms"), e.getMessage());
    }

    @Test
    void connect_toItself_deliversToItsOwnHandler() throws Exception {
        var inbox = new TestSupport.Inbox();
        Transport a = start(cfg(0), inbox);
        Link self = connect(a, a);
        assertSame(self, a.link(0).orElseThrow(), "the outbound end is preferred");
        self.send(Message.control(MessageKind.CREDIT, 0, RUN, 3, new byte[]{1})).get(5, TimeUnit.SECONDS);
        assertEquals(3, inbox.take().step());
    }

    @Test
    void start_portTaken_refusedPermanently() {
        start(cfg(1).withPort(7001), new TestSupport.Inbox());
        TransportException e = assertThrows(TransportException.class, () -> start(cfg(2).withPort(7001), new TestSupport.Inbox()));
        assertFalse(e.transientFailure());
        assertTrue(e.getMessage().contains("node 1 already listens there"), e.getMessage());
    }

    @Test
    void send_messageAboveMaxMessageBytes_throwsPermanent() {
        Transport b = start(cfg(1), new TestSupport.Inbox());
        Transport a = start(cfg(0), new TestSupport.Inbox());
        Link link = connect(a, b);
        TransportException e = assertThrows(TransportException.class,
                () -> link.send(Message.tensor(MessageKind.DATA, 0, RUN, 0, 0, Tensor.zeros((1 << 21) + 2048))));
        assertFalse(e.transientFailure());
    }

    @Test
    void receive_frameAboveTheReceiversLimit_closesTheConnectionAndReports() throws Exception {
        var inbox = new TestSupport.Inbox();
        long small = TransportConfig.maxMessageBytesFor(100, 0);
        Transport b = start(TransportConfig.of(1, "127.0.0.1", 0, RUN, SECRET, small), inbox);
        Transport a = start(cfg(0), new TestSupport.Inbox());
        Link link = connect(a, b);
        TransportException e = failure(link.send(Message.tensor(MessageKind.DATA, 0, RUN, 0, 0, Tensor.zeros(1000))));
        assertFalse(e.transientFailure());
        String r = inbox.takeRejection();
        assertTrue(r.startsWith("0: connection from node 0 closed: frame of 4044 bytes exceeds maxMessageBytes " + small), r);
        assertEquals(0, inbox.disconnected.poll(5, TimeUnit.SECONDS));
        assertFalse(link.isOpen());
    }

    @Test
    void receive_frameOfAnotherRun_droppedAndReportedConnectionKept() throws Exception {
        var inbox = new TestSupport.Inbox();
        Transport b = start(cfg(1), inbox);
        Transport a = start(cfg(0), new TestSupport.Inbox());
        Link link = connect(a, b);
        link.send(Message.tensor(MessageKind.GRADIENT, 0, RUN + 1, 1, 0, Tensor.zeros(8))).get(5, TimeUnit.SECONDS);
        assertEquals("0: frame GRADIENT from node 0 step 1: run id " + (RUN + 1) + ", expected " + RUN, inbox.takeRejection());
        link.send(Message.control(MessageKind.CONTROL, 0, RUN, 3, new byte[]{1}));
        assertEquals(3, inbox.take().step());
        assertTrue(inbox.messages.isEmpty());
    }

    @Test
    void close_failsUndeliveredFutures_tellsThePeerAndLeaksNoThreads() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger received = new AtomicInteger();
        List<Integer> disconnected = new java.util.concurrent.CopyOnWriteArrayList<>();
        Transport b = InProcessTransport.start(network, cfg(1), new MessageHandler() {
            @Override
            public void onMessage(Message m) {
                stalling(release, received).onMessage(m);
            }

            @Override
            public void onDisconnected(int peerId) {
                disconnected.add(peerId);
            }
        }, TensorBuffers.unpooled());
        var inboxA = new TestSupport.Inbox();
        Transport a = InProcessTransport.start(network, cfg(0), inboxA, TensorBuffers.unpooled());
        Link link = connect(a, b);
        CompletableFuture<Void> inHandler = link.send(Message.control(MessageKind.DATA, 0, RUN, 0, null));
        awaitCondition("the first message is in the handler", 5000, () -> link.stats().queuedBytes() > 0
                && b.link(0).orElseThrow().stats().messagesReceived() == 1);
        CompletableFuture<Void> queued1 = link.send(Message.control(MessageKind.DATA, 0, RUN, 1, null));
        CompletableFuture<Void> queued2 = link.send(Message.control(MessageKind.DATA, 0, RUN, 2, null));
        a.close();
        assertTrue(failure(queued1).transientFailure());
        assertTrue(failure(queued2).getMessage().contains("closed before"));
        assertFalse(link.isOpen());
        assertThrows(TransportException.class, () -> link.send(Message.control(MessageKind.DATA, 0, RUN, 3, null)));
        release.countDown();
        inHandler.get(5, TimeUnit.SECONDS);
        awaitCondition("node 1 told of the disconnect", 5000, () -> disconnected.equals(List.of(0)));
        assertTrue(b.link(0).isEmpty());
        assertTrue(inboxA.disconnected.isEmpty(), "a closing transport is not told");
        assertEquals(1, received.get());
        b.close();
        b.close(); // idempotent
        assertTrue(Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.isAlive() && t.getName().startsWith(InProcessTransport.THREAD_PREFIX + "0-")
                        || t.isAlive() && t.getName().startsWith(InProcessTransport.THREAD_PREFIX + "1-")),
                "delivery threads of nodes 0 and 1 ended");
        assertThrows(TransportException.class, () -> a.connect(1, "127.0.0.1", b.boundPort()));
    }

    @Test
    void linkClose_tellsBothSides() throws Exception {
        var inboxA = new TestSupport.Inbox();
        var inboxB = new TestSupport.Inbox();
        Transport b = start(cfg(1), inboxB);
        Transport a = start(cfg(0), inboxA);
        Link link = connect(a, b);
        link.close();
        assertEquals(1, inboxA.disconnected.poll(5, TimeUnit.SECONDS));
        assertEquals(0, inboxB.disconnected.poll(5, TimeUnit.SECONDS));
        assertTrue(a.link(1).isEmpty());
        assertTrue(b.link(0).isEmpty());
        Link again = connect(a, b);
        again.send(Message.control(MessageKind.DATA, 0, RUN, 5, null));
        assertEquals(5, inboxB.take().step());
    }
}
