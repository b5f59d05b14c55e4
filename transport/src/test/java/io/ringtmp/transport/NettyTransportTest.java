package io.ringtmp.transport;

import io.ringtmp.tensor.Tensor;
import io.ringtmp.transport.internal.Frames;
import io.ringtmp.transport.internal.Handshake;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
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
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NettyTransportTest {
    static {
        TestSupport.installLeakRecorder();
    }

    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
    }

    @AfterAll
    static void noNettyLeaks() {
        assertEquals(List.of(), TestSupport.leaks(), "Netty reported leaked buffers");
    }

    private Transport start(TransportConfig c, MessageHandler h) {
        Transport t = NettyTransport.start(c, h);
        open.add(t);
        return t;
    }

    private static Tensor randomTensor(Random r, int... shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.size(); i++) {
            t.set(i, Float.intBitsToFloat(r.nextInt()));
        }
        if (t.size() > 3) {
            t.set(0, -0.0f);
            t.set(1, Float.NaN);
            t.set(2, Float.intBitsToFloat(0x7fc00123));
        }
        return t;
    }

    private static void assertBitExact(Tensor expected, Tensor actual) {
        assertArrayEquals(expected.shape(), actual.shape());
        for (int i = 0; i < expected.size(); i++) {
            if (Float.floatToRawIntBits(expected.get(i)) != Float.floatToRawIntBits(actual.get(i))) {
                throw new AssertionError("element " + i + ": expected bits " + Integer.toHexString(Float.floatToRawIntBits(expected.get(i)))
                        + ", got " + Integer.toHexString(Float.floatToRawIntBits(actual.get(i))));
            }
        }
    }

    @Test
    void roundTrip_tensorsOfSeveralSizes_arriveBitExact() throws Exception {
        var inbox = new TestSupport.Inbox();
        Transport b = start(cfg(1), inbox);
        Transport a = start(cfg(0), new TestSupport.Inbox());
        Link link = a.connect(1, "127.0.0.1", b.boundPort());
        Random r = new Random(1);
        int[][] shapes = {{1}, {3, 5}, {1024}, {2, 0}, {16, 32, 128}, {1 << 20}, {1 << 21}};
        for (int[] shape : shapes) {
            Tensor t = randomTensor(r, shape);
            link.send(Message.tensor(MessageKind.ACTIVATION, 0, RUN, 7, 3, t)).get(10, TimeUnit.SECONDS);
            Message m = inbox.take();
            assertEquals(MessageKind.ACTIVATION, m.kind());
            assertEquals(0, m.sender());
            assertEquals(RUN, m.runId());
            assertEquals(7, m.step());
            assertEquals(3, m.microbatch());
            assertNull(m.bytes());
            assertBitExact(t, m.tensor());
        }
        byte[] payload = {1, 2, 3, 4, 5};
        Tensor view = randomTensor(r, 8, 4).rows(2, 5);
        link.send(new Message(MessageKind.LOSS, 0, RUN, 8, 1, view, payload));
        Message both = inbox.take();
        assertBitExact(view, both.tensor());
        assertArrayEquals(payload, both.bytes());
        link.send(Message.control(MessageKind.CONTROL, 0, RUN, 9, new byte[0]));
        Message empty = inbox.take();
        assertNull(empty.tensor());
        assertArrayEquals(new byte[0], empty.bytes());
        assertEquals(List.of(), List.copyOf(inbox.rejected));
    }

    @Test
    void send_membershipEpoch_travelsInTheHeader_moduloItsByte() throws Exception {
        var inbox = new TestSupport.Inbox();
        Transport b = start(cfg(1), inbox);
        Transport a = start(cfg(0), new TestSupport.Inbox());
        Link ab = a.connect(1, "127.0.0.1", b.boundPort());
        ab.send(Message.tensor(MessageKind.ACTIVATION, 0, RUN, 3, 1, Tensor.zeros(4)).withEpoch(7)).get(5, TimeUnit.SECONDS);
        ab.send(Message.control(MessageKind.CONTROL, 0, RUN, 4, new byte[]{1}).withEpoch(257)).get(5, TimeUnit.SECONDS);
        ab.send(Message.control(MessageKind.CREDIT, 0, RUN, 5, new byte[]{1})).get(5, TimeUnit.SECONDS);
        assertEquals(7, inbox.take().epoch());
        assertEquals(1, inbox.take().epoch(), "epoch 257 travels as 257 mod 256");
        assertEquals(0, inbox.take().epoch(), "a message without one is of epoch 0");
    }

    @Test
    void receive_givenBackArray_decodesTheNextTensorOfItsLengthIntoIt() throws Exception {
        var inbox = new TestSupport.Inbox();
        TensorBuffers buffers = TensorBuffers.pooled(4);
        Transport b = NettyTransport.start(cfg(1), inbox, buffers);
        open.add(b);
        Transport a = start(cfg(0), new TestSupport.Inbox());
        Link link = a.connect(1, "127.0.0.1", b.boundPort());
        Random r = new Random(2);
        Tensor first = randomTensor(r, 64, 512);
        link.send(Message.tensor(MessageKind.GRADIENT, 0, RUN, 1, 0, first)).get(10, TimeUnit.SECONDS);
        Message m1 = inbox.take();
        assertBitExact(first, m1.tensor());
        float[] array = m1.tensor().data();
        buffers.give(m1.tensor());
        Tensor second = randomTensor(r, 512, 64); // same length, other shape
        link.send(Message.tensor(MessageKind.GRADIENT, 0, RUN, 2, 0, second)).get(10, TimeUnit.SECONDS);
        Message m2 = inbox.take();
        assertSame(array, m2.tensor().data(), "the given-back array was reused");
        assertBitExact(second, m2.tensor());
        Tensor other = randomTensor(r, 100, 100);
        link.send(Message.tensor(MessageKind.GRADIENT, 0, RUN, 3, 0, other)).get(10, TimeUnit.SECONDS);
        Message m3 = inbox.take();
        assertNotSame(array, m3.tensor().data(), "another length gets its own array");
        assertBitExact(other, m3.tensor());
        assertEquals(3, buffers.taken());
        assertEquals(1, buffers.reused());
    }

    @Test
    void send_manyMessages_arriveInOrderBothWays() throws Exception {
        var inboxA = new TestSupport.Inbox();
        var inboxB = new TestSupport.Inbox();
        Transport b = start(cfg(1), inboxB);
        Transport a = start(cfg(0), inboxA);
        Link ab = a.connect(1, "127.0.0.1", b.boundPort());
        int n = 3000;
        Tensor t = Tensor.zeros(64);
        for (int i = 0; i < n; i++) {
            t.fill(i); // reused at once: send copied it
            ab.send(Message.tensor(MessageKind.GRADIENT, 0, RUN, i, i % 4, t));
        }
        for (int i = 0; i < n; i++) {
            Message m = inboxB.take();
            assertEquals(i, m.step());
            assertEquals((float) i, m.tensor().get(63));
        }
        Link ba = b.link(0).orElseThrow();
        ba.send(Message.control(MessageKind.CREDIT, 1, RUN, 5, new byte[]{9})).get(5, TimeUnit.SECONDS);
        assertEquals(5, inboxA.take().step());
        awaitCondition("stats count all messages", 5000, () -> b.link(0).orElseThrow().stats().messagesReceived() == n);
        assertEquals(n, ab.stats().messagesSent());
    }

    @Test
    void send_stalledReceiver_blocksSenderAtHighWaterMarkThenResumes() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger received = new AtomicInteger();
        MessageHandler stalling = m -> {
            try {
                release.await(); // the receiver's I/O thread stops reading: TCP fills, then the sender's queue
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            received.incrementAndGet();
        };
        int low = 256 << 10, high = 1 << 20;
        Transport b = start(cfg(1).withSocketBufferBytes(64 << 10), stalling);
        Transport a = start(cfg(0).withSocketBufferBytes(64 << 10).withWaterMarks(low, high), new TestSupport.Inbox());
        Link link = a.connect(1, "127.0.0.1", b.boundPort());
        int n = 200;
        Tensor t = Tensor.zeros(16 << 10); // 64 KiB
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
        int frame = (int) (Frames.LENGTH_BYTES + Frames.bodyBytes(Message.tensor(MessageKind.DATA, 0, RUN, 0, 0, t)));
        try {
            // blocked once past the high-water mark; the I/O thread may still move a frame or two into the socket
            // buffer after that, so the queue can dip below the high mark while the sender waits for the low one
            awaitCondition("sender blocked on back-pressure", 10_000,
                    () -> sender.getState() == Thread.State.TIMED_WAITING && link.stats().maxQueuedBytes() > high
                            && link.stats().queuedBytes() > low);
            assertTrue(accepted.get() < n, "sender should be blocked before all " + n + " messages, accepted " + accepted.get());
            assertTrue(link.stats().maxQueuedBytes() <= high + frame,
                    "queued bytes " + link.stats().maxQueuedBytes() + " grew past high-water mark " + high + " + one frame " + frame);
        } finally {
            release.countDown(); // a failed wait must not leave the receiver's I/O thread parked for the next tests
        }
        sender.join(20_000);
        assertNull(failure.get());
        assertEquals(n, accepted.get());
        awaitCondition("all messages received", 10_000, () -> received.get() == n);
        assertTrue(link.stats().blockedNanos() > 0, "blocked time should be counted");
        assertTrue(link.stats().maxQueuedBytes() <= high + frame);
    }

    @Test
    void connect_wrongSecret_refusedAndCannotInject() throws Exception {
        var inbox = new TestSupport.Inbox();
        Transport b = start(cfg(1), inbox);
        byte[] wrong = "another-secret-0123456789abcdef".getBytes();
        Transport stranger = start(TransportConfig.of(0, "127.0.0.1", 0, RUN, wrong, MAX_BYTES), new TestSupport.Inbox());
        TransportException e = assertThrows(TransportException.class, () -> stranger.connect(1, "127.0.0.1", b.boundPort()));
        assertFalse(e.transientFailure(), e.getMessage());
        assertTrue(e.getMessage().contains("failed to prove the shared secret"), e.getMessage());
        assertTrue(b.link(0).isEmpty());

        // A raw peer with the wrong secret that writes a data frame right after its proof.
        try (Socket s = TestSupport.rawPeer(b.boundPort(), 0, 1, wrong)) {
            s.getOutputStream().write(Frames.encodeToArray(Message.tensor(MessageKind.GRADIENT, 0, RUN, 1, 0, Tensor.zeros(4)), 0));
            assertTrue(TestSupport.closedByPeer(s));
        }
        // One that skips the handshake altogether.
        try (Socket s = new Socket("127.0.0.1", b.boundPort())) {
            s.setSoTimeout(10_000);
            byte[] frame = Frames.encodeToArray(Message.tensor(MessageKind.GRADIENT, 0, RUN, 1, 0, Tensor.zeros(40)), 0);
            s.getOutputStream().write(frame);
            assertTrue(TestSupport.closedByPeer(s));
        }
        assertTrue(inbox.rejected.size() >= 2, "rejections: " + inbox.rejected);
        assertTrue(inbox.messages.isEmpty(), "a stranger injected " + inbox.messages);
        assertGoodPeerServed(b, inbox);
    }

    @Test
    void connect_claimingANodeFromAnotherAddress_orOneTheSpecLacks_refused() throws Exception {
        var inbox = new TestSupport.Inbox();
        // The spec gives node 0 another machine (192.0.2.7): node 0 connecting from this one is someone else holding the secret.
        Transport b = start(cfg(1).withPeerHosts(Map.of(0, "192.0.2.7", 1, "127.0.0.1")), inbox);
        Transport a = start(cfg(0), new TestSupport.Inbox());
        TransportException e = assertThrows(TransportException.class, () -> a.connect(1, "127.0.0.1", b.boundPort()));
        assertFalse(e.transientFailure(), e.getMessage());
        assertTrue(e.getMessage().contains("its spec does not give our id this address"), e.getMessage());
        String r = inbox.rejected.poll(10, TimeUnit.SECONDS);
        assertTrue(r != null && r.contains("claims node 0, but the spec gives node 0 the host 192.0.2.7"), "rejection: " + r);
        Transport five = start(cfg(5), new TestSupport.Inbox());
        assertThrows(TransportException.class, () -> five.connect(1, "127.0.0.1", b.boundPort()));
        r = inbox.rejected.poll(10, TimeUnit.SECONDS);
        assertTrue(r != null && r.contains("claims node 5, which the spec does not have (nodes [0, 1])"), "rejection: " + r);
        assertTrue(b.link(0).isEmpty() && b.link(5).isEmpty());

        // The same node from the address the spec gives it is served.
        var inbox2 = new TestSupport.Inbox();
        Transport c = start(cfg(1).withPeerHosts(Map.of(0, "127.0.0.1", 1, "127.0.0.1")).withPort(0), inbox2);
        assertGoodPeerServed(c, inbox2);
    }

    @Test
    void hundredsOfHalfOpenConnections_areClosedAtTheHandshakeTimeout_withoutNewThreads_andAGoodPeerIsServed() throws Exception {
        var inbox = new TestSupport.Inbox();
        Transport b = start(cfg(1).withTimeouts(30_000, 10_000, 1_500), inbox);
        long ioThreads = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(NettyTransport.THREAD_PREFIX + "1-")).count();
        List<Socket> open = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 300; i++) {
                Socket s = new Socket("127.0.0.1", b.boundPort()); // connects, then says nothing
                s.setSoTimeout(10_000);
                open.add(s);
                if (i % 2 == 0) {
                    s.getOutputStream().write(new byte[]{0, 0}); // half a handshake frame
                }
            }
            long during = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(NettyTransport.THREAD_PREFIX + "1-")).count();
            assertTrue(during <= Math.max(ioThreads, b.config().ioThreads()) + 1, "I/O threads " + ioThreads + " before, " + during + " with 300 half-open");
            assertGoodPeerServed(b, inbox); // while they hang
            for (Socket s : open) {
                assertTrue(TestSupport.closedByPeer(s), "a half-open connection is closed at the handshake timeout");
            }
            assertTrue(b.link(0).isPresent(), "the good peer's link stays");
        } finally {
            for (Socket s : open) {
                s.close();
            }
        }
    }

    @Test
    void connect_wrongRun_refusedPermanently() {
        Transport b = start(cfg(1), new TestSupport.Inbox());
        Transport other = start(TransportConfig.of(0, "127.0.0.1", 0, RUN + 1, SECRET, MAX_BYTES), new TestSupport.Inbox());
        TransportException e = assertThrows(TransportException.class, () -> other.connect(1, "127.0.0.1", b.boundPort()));
        assertFalse(e.transientFailure(), e.getMessage());
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
    void connect_peerStartsLater_retriesUntilAuthenticated() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        Transport a = start(cfg(0), new TestSupport.Inbox());
        AtomicReference<Object> result = new AtomicReference<>();
        Thread connector = new Thread(() -> {
            try {
                result.set(a.connect(1, "127.0.0.1", port));
            } catch (RuntimeException e) {
                result.set(e);
            }
        });
        connector.start();
        awaitCondition("first connection attempt refused", 5000, () -> connector.getState() == Thread.State.TIMED_WAITING);
        var inbox = new TestSupport.Inbox();
        start(cfg(1).withPort(port), inbox);
        connector.join(10_000);
        assertTrue(result.get() instanceof Link, "connect gave " + result.get());
        ((Link) result.get()).send(Message.control(MessageKind.HEARTBEAT, 0, RUN, 1, null));
        assertEquals(MessageKind.HEARTBEAT, inbox.take().kind());
    }

    @Test
    void connect_nobodyListening_failsTransient() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        Transport a = start(cfg(0).withTimeouts(1000, 300, 1000), new TestSupport.Inbox());
        TransportException e = assertThrows(TransportException.class, () -> a.connect(1, "127.0.0.1", port));
        assertTrue(e.transientFailure(), e.getMessage());
    }

    @Test
    void connect_peerNotUpYet_retriedOnlyForWhatStartingPeersCause() {
        assertTrue(NettyTransport.peerNotUpYet(new java.net.ConnectException("Connection refused")));
        assertTrue(NettyTransport.peerNotUpYet(new io.netty.channel.ConnectTimeoutException("connection timed out")));
        assertTrue(NettyTransport.peerNotUpYet(new java.net.NoRouteToHostException("No route to host")));
        assertTrue(NettyTransport.peerNotUpYet(new java.net.UnknownHostException("ringtmp-3.ringtmp.default.svc")));
        assertFalse(NettyTransport.peerNotUpYet(new java.io.IOException("Connection reset by peer")));
        assertFalse(NettyTransport.peerNotUpYet(new IllegalArgumentException("port out of range")));
    }

    @Test
    void decode_oversizedFrame_rejectsAndKeepsNode() throws Exception {
        var inbox = new TestSupport.Inbox();
        Transport b = start(cfg(1), inbox);
        try (Socket s = TestSupport.rawPeer(b.boundPort(), 5, 1, SECRET)) {
            assertEquals(Handshake.ACCEPT, TestSupport.answerType(s));
            byte[] len = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) MAX_BYTES + 1).array();
            s.getOutputStream().write(len);
            String reason = inbox.takeRejection();
            assertTrue(reason.startsWith("5: ") && reason.contains("exceeds maxMessageBytes " + MAX_BYTES), reason);
            assertTrue(TestSupport.closedByPeer(s));
        }
        assertGoodPeerServed(b, inbox);
    }

    @Test
    void decode_garbage_closesConnectionAndKeepsNode() throws Exception {
        var inbox = new TestSupport.Inbox();
        Transport b = start(cfg(1), inbox);
        try (Socket s = TestSupport.rawPeer(b.boundPort(), 5, 1, SECRET)) {
            assertEquals(Handshake.ACCEPT, TestSupport.answerType(s));
            byte[] garbage = new byte[1000];
            new Random(3).nextBytes(garbage);
            ByteBuffer.wrap(garbage).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 500); // a plausible length, then noise
            s.getOutputStream().write(garbage);
            assertTrue(inbox.takeRejection().contains("bad frame magic"));
            assertTrue(TestSupport.closedByPeer(s));
        }
        assertGoodPeerServed(b, inbox);
    }

    @Test
    void decode_lengthThatDisagreesWithTheHeader_closesConnectionAndKeepsNode() throws Exception {
        var inbox = new TestSupport.Inbox();
        Transport b = start(cfg(1), inbox);
        try (Socket s = TestSupport.rawPeer(b.boundPort(), 5, 1, SECRET)) {
            assertEquals(Handshake.ACCEPT, TestSupport.answerType(s));
            byte[] frame = Frames.encodeToArray(Message.tensor(MessageKind.ACTIVATION, 5, RUN, 1, 0, Tensor.of(new float[]{1, 2, 3}, 3)), 5);
            byte[] longer = java.util.Arrays.copyOf(frame, frame.length + 8); // eight bytes more than its shape needs
            ByteBuffer.wrap(longer).order(ByteOrder.LITTLE_ENDIAN).putInt(0, frame.length - Frames.LENGTH_BYTES + 8);
            s.getOutputStream().write(longer);
            String r = inbox.takeRejection();
            assertTrue(r.contains("does not match its header"), r);
            assertTrue(TestSupport.closedByPeer(s));
        }
        assertTrue(inbox.messages.isEmpty(), "nothing of it was delivered: " + inbox.messages);
        assertGoodPeerServed(b, inbox);
    }

    @Test
    void decode_corruptedPayload_dropsFrameAndKeepsConnection() throws Exception {
        var inbox = new TestSupport.Inbox();
        Transport b = start(cfg(1), inbox);
        try (Socket s = TestSupport.rawPeer(b.boundPort(), 5, 1, SECRET)) {
            assertEquals(Handshake.ACCEPT, TestSupport.answerType(s));
            OutputStream out = s.getOutputStream();
            byte[] bad = Frames.encodeToArray(Message.tensor(MessageKind.ACTIVATION, 5, RUN, 1, 0, Tensor.of(new float[]{1, 2, 3}, 3)), 5);
            bad[bad.length - 2] ^= 0x10;
            out.write(bad);
            assertTrue(inbox.takeRejection().contains("CRC32C"));
            out.write(Frames.encodeToArray(Message.tensor(MessageKind.ACTIVATION, 5, RUN, 2, 0, Tensor.of(new float[]{4, 5}, 2)), 5));
            Message m = inbox.take();
            assertEquals(2, m.step());
            assertEquals(5f, m.tensor().get(1));
        }
    }

    @Test
    void decode_wrongRunOrSpoofedSender_rejectedAndConnectionKept() throws Exception {
        var inbox = new TestSupport.Inbox();
        Transport b = start(cfg(1), inbox);
        try (Socket s = TestSupport.rawPeer(b.boundPort(), 5, 1, SECRET)) {
            assertEquals(Handshake.ACCEPT, TestSupport.answerType(s));
            OutputStream out = s.getOutputStream();
            out.write(Frames.encodeToArray(Message.tensor(MessageKind.GRADIENT, 5, RUN + 1, 1, 0, Tensor.zeros(8)), 5));
            String r = inbox.takeRejection();
            assertTrue(r.contains("run id " + (RUN + 1) + ", expected " + RUN), r);
            out.write(Frames.encodeToArray(Message.tensor(MessageKind.GRADIENT, 6, RUN, 1, 0, Tensor.zeros(8)), 6));
            assertTrue(inbox.takeRejection().contains("claims sender 6"));
            out.write(Frames.encodeToArray(Message.control(MessageKind.CONTROL, 5, RUN, 3, new byte[]{1}), 5));
            assertEquals(3, inbox.take().step());
        }
        assertTrue(inbox.messages.isEmpty());
    }

    @Test
    void send_messageAboveMaxMessageBytes_throwsPermanent() throws Exception {
        Transport b = start(cfg(1), new TestSupport.Inbox());
        Transport a = start(cfg(0), new TestSupport.Inbox());
        Link link = a.connect(1, "127.0.0.1", b.boundPort());
        TransportException e = assertThrows(TransportException.class,
                () -> link.send(Message.tensor(MessageKind.DATA, 0, RUN, 0, 0, Tensor.zeros((1 << 21) + 2048))));
        assertFalse(e.transientFailure());
    }

    @Test
    void close_afterTraffic_leaksNoThreadsAndReportsDisconnect() throws Exception {
        var inboxB = new TestSupport.Inbox();
        Transport b = NettyTransport.start(cfg(1), inboxB);
        Transport a = NettyTransport.start(cfg(0), new TestSupport.Inbox());
        Link link = a.connect(1, "127.0.0.1", b.boundPort());
        link.send(Message.tensor(MessageKind.DATA, 0, RUN, 0, 0, Tensor.zeros(1000))).get(5, TimeUnit.SECONDS);
        inboxB.take();
        a.close();
        assertEquals(0, inboxB.disconnected.poll(5, TimeUnit.SECONDS));
        assertFalse(link.isOpen());
        assertThrows(TransportException.class, () -> link.send(Message.control(MessageKind.DATA, 0, RUN, 0, null)));
        b.close();
        b.close(); // idempotent
        awaitCondition("no ringtmp-io threads of nodes 0 and 1", 5000, () -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.isAlive() && (t.getName().startsWith(NettyTransport.THREAD_PREFIX + "0-")
                        || t.getName().startsWith(NettyTransport.THREAD_PREFIX + "1-"))));
    }

    private void assertGoodPeerServed(Transport b, TestSupport.Inbox inbox) throws Exception {
        Transport good = start(cfg(0), new TestSupport.Inbox());
        Link link = good.connect(1, "127.0.0.1", b.boundPort());
        link.send(Message.tensor(MessageKind.ACTIVATION, 0, RUN, 99, 0, Tensor.of(new float[]{1, 2}, 2)));
        Message m = inbox.take();
        assertEquals(99, m.step());
        assertEquals(0, m.sender());
    }
}
