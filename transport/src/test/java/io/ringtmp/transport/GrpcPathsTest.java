package io.ringtmp.transport;

import io.ringtmp.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static io.ringtmp.transport.TestSupport.MAX_BYTES;
import static io.ringtmp.transport.TestSupport.RUN;
import static io.ringtmp.transport.TestSupport.cfg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GrpcPathsTest {
    static {
        TestSupport.installLeakRecorder();
    }

    @AfterAll
    static void noNettyLeaks() {
        assertEquals(List.of(), TestSupport.leaks(), "Netty reported leaked buffers");
    }

    @Test
    void controlPlane_ping_answersNodeRunAndStatus() {
        try (var server = ControlPlane.serve(cfg(1), 0, () -> "training");
             var client = ControlPlane.connect(cfg(0), "127.0.0.1", server.port())) {
            ControlPlane.PeerStatus s = client.ping(5000);
            assertEquals(1, s.nodeId());
            assertEquals(RUN, s.runId());
            assertEquals("training", s.status());
            assertTrue(s.accepted());
            assertTrue(client.hello("127.0.0.1:7000", 5000).accepted());
        }
    }

    @Test
    void controlPlane_wrongSecret_unauthenticatedPermanent() {
        TransportConfig stranger = TransportConfig.of(0, "127.0.0.1", 0, RUN, "not-the-secret-0123456789".getBytes(), MAX_BYTES);
        try (var server = ControlPlane.serve(cfg(1), 0, () -> "up");
             var client = ControlPlane.connect(stranger, "127.0.0.1", server.port())) {
            TransportException e = assertThrows(TransportException.class, () -> client.ping(5000));
            assertFalse(e.transientFailure(), e.getMessage());
            assertTrue(e.getMessage().contains("UNAUTHENTICATED"), e.getMessage());
        }
    }

    @Test
    void grpcTensorPath_fourMiBTensor_arrivesBitExactAndAcked() throws Exception {
        var got = new LinkedBlockingQueue<Message>();
        var acks = new LinkedBlockingQueue<Long>();
        try (var rx = new GrpcTensorPath.Receiver("127.0.0.1", 0, MAX_BYTES, RUN, got::add);
             var tx = new GrpcTensorPath.Sender("127.0.0.1", rx.port(), MAX_BYTES, RUN, acks::add)) {
            Tensor t = Tensor.zeros(1 << 20);
            for (int i = 0; i < t.size(); i++) {
                t.set(i, i * 0.5f - 3);
            }
            tx.send(Message.tensor(MessageKind.DATA, 0, RUN, 11, 0, t));
            Message m = got.poll(10, TimeUnit.SECONDS);
            assertEquals(0f, t.maxAbsDiff(m.tensor()));
            assertEquals(11L, acks.poll(10, TimeUnit.SECONDS));
        }
    }
}
