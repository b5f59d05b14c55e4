package io.ringtmp.transport;

import io.ringtmp.tensor.Tensor;
import io.ringtmp.transport.internal.Handshake;
import io.ringtmp.transport.tls.ClusterCa;
import io.ringtmp.transport.tls.NodeCertificate;
import io.ringtmp.transport.tls.TlsConfig;
import io.ringtmp.transport.tls.TlsCredentials;
import io.ringtmp.transport.tls.TlsProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.DataInputStream;
import java.net.Socket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.ringtmp.transport.TestSupport.cfg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Mutual TLS on real loopback connections, with each provider: a good pair exchanges tensors;
 * another CA's certificate, another node's certificate, an expired one and a plaintext client are
 * refused, each in words that name the reason, and the listener keeps serving.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TlsTransportTest {
    static {
        TestSupport.installLeakRecorder();
    }

    private static final Instant NOW = Instant.now();
    private static final ClusterCa CA = ClusterCa.create("test cluster CA", NOW.minus(Duration.ofDays(1)), NOW.plus(Duration.ofDays(30)));
    private static final ClusterCa OTHER_CA = ClusterCa.create("another CA", NOW.minus(Duration.ofDays(1)), NOW.plus(Duration.ofDays(30)));

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

    private static TlsConfig tls(ClusterCa issuer, int certifiedId, TlsProvider p) {
        NodeCertificate c = issuer.issue(certifiedId, "127.0.0.1", NOW.minus(Duration.ofHours(1)), NOW.plus(Duration.ofDays(1)));
        return new TlsConfig(new TlsCredentials(List.of(CA.certificate()), c.certificate(), c.key()), p);
    }

    private Transport start(int node, TlsConfig tls, MessageHandler h) {
        Transport t = NettyTransport.start(cfg(node).withTls(tls), h);
        open.add(t);
        return t;
    }

    private static void assumeAvailable(TlsProvider p) {
        assumeTrue(p.isAvailable(), p.describe());
    }

    @ParameterizedTest
    @EnumSource(TlsProvider.class)
    void goodCertificates_connectAndCarryTensorsBothWays(TlsProvider p) throws Exception {
        assumeAvailable(p);
        TestSupport.Inbox a = new TestSupport.Inbox(), b = new TestSupport.Inbox();
        Transport ta = start(0, tls(CA, 0, p), a);
        Transport tb = start(1, tls(CA, 1, p), b);
        Link ab = ta.connect(1, "127.0.0.1", tb.boundPort());
        javax.net.ssl.SSLSession session = ((io.ringtmp.transport.internal.NettyLink) ab).channel().pipeline()
                .get(io.netty.handler.ssl.SslHandler.class).engine().getSession();
        assertEquals(TlsConfig.PROTOCOL, session.getProtocol());
        assertEquals(TlsConfig.CIPHER_SUITE, session.getCipherSuite());
        Tensor t = Tensor.zeros(1 << 18);
        for (int i = 0; i < t.size(); i++) {
            t.set(i, i * 0.5f);
        }
        ab.send(Message.tensor(MessageKind.ACTIVATION, 0, TestSupport.RUN, 3, 1, t)).get(10, TimeUnit.SECONDS);
        Message m = b.take();
        assertEquals(0, m.sender());
        assertEquals(0, t.maxAbsDiff(m.tensor()));
        tb.link(0).orElseThrow().send(Message.control(MessageKind.CONTROL, 1, TestSupport.RUN, 3, new byte[]{1, 2})).get(10, TimeUnit.SECONDS);
        assertEquals(1, a.take().sender());
        assertTrue(a.rejected.isEmpty() && b.rejected.isEmpty(), a.rejected + " " + b.rejected);
    }

    @ParameterizedTest
    @EnumSource(TlsProvider.class)
    void certificateOfAnotherCa_refusedAndTheListenerStays(TlsProvider p) throws Exception {
        assumeAvailable(p);
        TestSupport.Inbox server = new TestSupport.Inbox();
        Transport ts = start(0, tls(CA, 0, p), server);
        Transport stranger = start(1, tls(OTHER_CA, 1, p), new TestSupport.Inbox());
        TransportException e = assertThrows(TransportException.class, () -> stranger.connect(0, "127.0.0.1", ts.boundPort()));
        assertFalse(e.transientFailure(), e.getMessage());
        String why = server.takeRejection();
        assertTrue(why.contains("refused in the TLS handshake") && why.contains("issued by 'CN=another CA', not by this cluster's CA"), why);
        assertServes(ts, p);
    }

    @ParameterizedTest
    @EnumSource(TlsProvider.class)
    void node1sCertificateClaimingNode2_refused(TlsProvider p) throws Exception {
        assumeAvailable(p);
        TestSupport.Inbox server = new TestSupport.Inbox();
        Transport ts = start(0, tls(CA, 0, p), server);
        Transport impostor = start(2, tls(CA, 1, p), new TestSupport.Inbox());
        TransportException e = assertThrows(TransportException.class, () -> impostor.connect(0, "127.0.0.1", ts.boundPort()));
        assertFalse(e.transientFailure(), e.getMessage());
        String why = server.takeRejection();
        assertTrue(why.contains("claims to be node 2 but presents the certificate of node 1"), why);
        assertServes(ts, p);
    }

    @Test
    void listenerWithAnotherNodesCertificate_refusedByTheClient() throws Exception {
        TlsProvider p = TlsProvider.best();
        Transport ts = start(0, tls(CA, 5, p), new TestSupport.Inbox());
        Transport client = start(1, tls(CA, 1, p), new TestSupport.Inbox());
        TransportException e = assertThrows(TransportException.class, () -> client.connect(0, "127.0.0.1", ts.boundPort()));
        assertTrue(e.getMessage().contains("expected node 0 at") && e.getMessage().contains("found the certificate of node 5"), e.getMessage());
        assertFalse(e.transientFailure());
    }

    @ParameterizedTest
    @EnumSource(TlsProvider.class)
    void expiredCertificate_refused(TlsProvider p) throws Exception {
        assumeAvailable(p);
        TestSupport.Inbox server = new TestSupport.Inbox();
        Transport ts = start(0, tls(CA, 0, p), server);
        NodeCertificate old = CA.issue(1, "127.0.0.1", NOW.minus(Duration.ofDays(3)), NOW.minus(Duration.ofDays(2)));
        Transport stale = start(1, new TlsConfig(new TlsCredentials(List.of(CA.certificate()), old.certificate(), old.key()), p),
                new TestSupport.Inbox());
        assertThrows(TransportException.class, () -> stale.connect(0, "127.0.0.1", ts.boundPort()));
        String why = server.takeRejection();
        assertTrue(why.contains("the certificate of node 1 ('CN=ringtmp node 1') expired at"), why);
        assertServes(ts, p);
    }

    @Test
    void plaintextClient_refusedInWordsItUnderstands() throws Exception {
        TestSupport.Inbox server = new TestSupport.Inbox();
        Transport ts = start(0, tls(CA, 0, TlsProvider.best()), server);
        Transport plain = NettyTransport.start(cfg(1), new TestSupport.Inbox());
        open.add(plain);
        TransportException e = assertThrows(TransportException.class, () -> plain.connect(0, "127.0.0.1", ts.boundPort()));
        assertTrue(e.getMessage().contains("requires TLS: its spec has a tls block, this node's has none"), e.getMessage());
        assertFalse(e.transientFailure());
        assertTrue(server.takeRejection().contains("does not speak TLS"));
        // A raw socket that sends the plaintext HELLO gets the refusal frame, then the close.
        try (Socket s = new Socket("127.0.0.1", ts.boundPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(Handshake.encode(Handshake.HELLO, 1, TestSupport.RUN, new byte[Handshake.NONCE_BYTES], null));
            byte[] f = new byte[Handshake.FRAME_BYTES];
            new DataInputStream(s.getInputStream()).readFully(f);
            assertEquals(Handshake.REFUSE_NEEDS_TLS, Handshake.decode(f).type());
            assertTrue(TestSupport.closedByPeer(s));
        }
        assertServes(ts, TlsProvider.best());
    }

    @Test
    void tlsClientToAPlaintextNode_refusedSayingSo() throws Exception {
        TestSupport.Inbox server = new TestSupport.Inbox();
        Transport plain = NettyTransport.start(cfg(0), server);
        open.add(plain);
        Transport client = start(1, tls(CA, 1, TlsProvider.best()), new TestSupport.Inbox());
        assertThrows(TransportException.class, () -> client.connect(0, "127.0.0.1", plain.boundPort()));
        String why = server.takeRejection();
        assertTrue(why.contains("sent a TLS ClientHello, but this node runs without TLS"), why);
    }

    /** A well-certified node 9 still connects and is heard. */
    private void assertServes(Transport ts, TlsProvider p) throws Exception {
        Transport good = start(9, tls(CA, 9, p), new TestSupport.Inbox());
        Link l = good.connect(0, "127.0.0.1", ts.boundPort());
        l.send(Message.control(MessageKind.CONTROL, 9, TestSupport.RUN, 0, new byte[]{9})).get(10, TimeUnit.SECONDS);
    }
}
