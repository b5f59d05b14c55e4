package io.ringtmp.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import io.ringtmp.transport.internal.Handshake;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/** Shared pieces of the transport tests: configs, a recording handler, a raw-socket peer, the leak check. */
final class TestSupport {
    static final long RUN = 42;
    static final byte[] SECRET = "test-secret-0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    static final long MAX_BYTES = TransportConfig.maxMessageBytesFor(1 << 21, 4096);

    private static final List<String> LEAKS = Collections.synchronizedList(new ArrayList<>());
    private static boolean installed;

    private TestSupport() {
    }

    static TransportConfig cfg(int node) {
        return TransportConfig.of(node, "127.0.0.1", 0, RUN, SECRET, MAX_BYTES);
    }

    /**
     * Routes Netty's leak reports (paranoid level, set by the module's surefire config) into a list
     * the tests check. Must run before Netty's buffer classes load: every test class calls it from
     * its static initialiser.
     */
    static synchronized void installLeakRecorder() {
        if (installed) {
            return;
        }
        installed = true;
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new ResourceLeakDetectorFactory() {
            @Override
            @SuppressWarnings("deprecation")
            public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval, long maxActive) {
                return new ResourceLeakDetector<T>(resource, samplingInterval) {
                    @Override
                    protected void reportTracedLeak(String resourceType, String records) {
                        LEAKS.add(resourceType + ": " + records);
                        super.reportTracedLeak(resourceType, records);
                    }

                    @Override
                    protected void reportUntracedLeak(String resourceType) {
                        LEAKS.add(resourceType);
                        super.reportUntracedLeak(resourceType);
                    }
                };
            }
        });
    }

    /** Collects garbage and allocates a few buffers (the detector reports on allocation); returns what leaked. */
    static List<String> leaks() {
        for (int i = 0; i < 5; i++) {
            System.gc();
            for (int j = 0; j < 50; j++) {
                ByteBuf b = ByteBufAllocator.DEFAULT.directBuffer(1024);
                b.release();
            }
        }
        return List.copyOf(LEAKS);
    }

    /** Waits for {@code cond} up to {@code timeoutMs}, polling; fails with {@code what} otherwise. */
    static void awaitCondition(String what, long timeoutMs, BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeoutMs + " ms waiting for: " + what);
            }
            Thread.sleep(5);
        }
    }

    /** Records everything a transport reports. */
    static final class Inbox implements MessageHandler {
        final BlockingQueue<Message> messages = new LinkedBlockingQueue<>();
        final BlockingQueue<String> rejected = new LinkedBlockingQueue<>();
        final BlockingQueue<Integer> disconnected = new LinkedBlockingQueue<>();

        @Override
        public void onMessage(Message m) {
            messages.add(m);
        }

        @Override
        public void onRejected(int peerId, String reason) {
            rejected.add(peerId + ": " + reason);
        }

        @Override
        public void onDisconnected(int peerId) {
            disconnected.add(peerId);
        }

        Message take() throws InterruptedException {
            Message m = messages.poll(10, TimeUnit.SECONDS);
            assertNotNull(m, "no message within 10 s");
            return m;
        }

        String takeRejection() throws InterruptedException {
            String r = rejected.poll(10, TimeUnit.SECONDS);
            assertNotNull(r, "no rejection within 10 s");
            return r;
        }
    }

    /** A plain socket that runs the client side of the handshake with {@code secret}, then lets a test write raw bytes. */
    static Socket rawPeer(int port, int node, int serverNode, byte[] secret) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(10_000);
        s.setTcpNoDelay(true);
        byte[] nonce = new byte[Handshake.NONCE_BYTES];
        nonce[0] = 7;
        OutputStream out = s.getOutputStream();
        DataInputStream in = new DataInputStream(s.getInputStream());
        out.write(Handshake.encode(Handshake.HELLO, node, RUN, nonce, null));
        byte[] f = new byte[Handshake.FRAME_BYTES];
        in.readFully(f);
        Handshake.Frame challenge = Handshake.decode(f);
        assertNotNull(challenge);
        assertEquals(Handshake.CHALLENGE, challenge.type());
        out.write(Handshake.encode(Handshake.PROOF, node, RUN, null,
                Handshake.clientMac(secret, serverNode, node, RUN, nonce, challenge.nonce())));
        out.flush();
        return s;
    }

    /** Reads the server's answer to a PROOF. */
    static byte answerType(Socket s) throws IOException {
        byte[] f = new byte[Handshake.FRAME_BYTES];
        new DataInputStream(s.getInputStream()).readFully(f);
        return Handshake.decode(f).type();
    }

    /** True when the peer closed {@code s} (read returns end of stream or the connection resets) within the socket timeout. */
    static boolean closedByPeer(Socket s) {
        try {
            byte[] buf = new byte[4096];
            while (true) {
                if (s.getInputStream().read(buf) < 0) {
                    return true;
                }
            }
        } catch (IOException e) {
            return !(e instanceof java.net.SocketTimeoutException);
        }
    }
}
