package io.ringtmp.ring;

import io.ringtmp.nn.ModelSpec;
import io.ringtmp.nn.optim.OptimizerConfig;
import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.NodeContext;
import io.ringtmp.node.NodeMetrics;
import io.ringtmp.node.StopSignal;
import io.ringtmp.node.Time;
import io.ringtmp.tensor.Tensor;
import io.ringtmp.testing.InProcessCluster;
import io.ringtmp.transport.Link;
import io.ringtmp.transport.LinkStats;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.MessageKind;
import io.ringtmp.transport.TensorBuffers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Buddy replicas in chunks: what one member streams, its buddy assembles bit for bit; a garbled chunk drops its replica, naming the sender. */
class ReplicasTest {
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();

    private NodeContext ctx(int id, Path dir) {
        ClusterSpec spec = InProcessCluster.spec(ClusterSpec.Mode.RING, 2, dir, "mlp:6-5-3", "synthetic:blobs?n=64&inputs=6&classes=3", Map.of());
        return new NodeContext(spec, id, null, null, Map.of(), new NodeMetrics(id, dir, Time.SYSTEM), Time.SYSTEM,
                new PrintStream(log, true, StandardCharsets.UTF_8), new StopSignal(), TensorBuffers.unpooled(), null);
    }

    /** A link that keeps what is sent on it. */
    private static final class Captured implements Link {
        final List<Message> sent = new ArrayList<>();

        @Override
        public int peerId() {
            return 1;
        }

        @Override
        public CompletableFuture<Void> send(Message m) {
            sent.add(m);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public LinkStats stats() {
            return null;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }

    private static Stage stage() {
        return new Stage(ModelSpec.parse("mlp:6-5-3").build(7, 0, 3), OptimizerConfig.sgd(0.9, false, 0), 4, 2, true, true);
    }

    @Test
    void snapshot_streamedInChunks_isAssembledBitForBitByTheBuddy(@TempDir Path dir) throws Exception {
        Stage s = stage();
        StageState state = StageState.of(0, 10, 0, 3, s);
        Captured link = new Captured();
        try (Replicas sender = new Replicas(ctx(0, dir.resolve("a")), 7); Replicas buddy = new Replicas(ctx(1, dir.resolve("b")), 7)) {
            assertTrue(sender.handOff(state, link, 3));
            assertTrue(link.sent.size() > state.tensors().size(), "tensors of more than 7 floats go in several chunks: " + link.sent.size());
            for (Message m : link.sent) {
                assertEquals(MessageKind.REPLICA, m.kind());
                assertEquals(3, m.epoch());
                assertNull(buddy.replica(0, 10, 0, 3), "not complete before its last chunk");
                buddy.receive(m);
            }
            StageState got = buddy.replica(0, 10, 0, 3);
            assertNotNull(got);
            assertEquals(state.tensors().keySet(), got.tensors().keySet());
            state.tensors().forEach((name, t) -> assertArrayEquals(t.toArray(), got.tensors().get(name).toArray(), name));
            assertNull(buddy.replica(0, 10, 0, 2), "another range is another replica");

            Stage fresh = stage();
            StageState.restore(fresh, List.of(got));
            for (int i = 0; i < s.layers().parameters().size(); i++) {
                assertArrayEquals(s.layers().parameters().get(i).value().toArray(), fresh.layers().parameters().get(i).value().toArray());
            }
        }
    }

    @Test
    void snapshotsAndReplicas_reuseTheArraysOfTheOnesThatFellOut_butNeverOneLentToARepair(@TempDir Path dir) throws Exception {
        Stage s = stage();
        try (Replicas own = new Replicas(ctx(0, dir.resolve("a")), 7); Replicas buddy = new Replicas(ctx(1, dir.resolve("b")), 7)) {
            own.snapshot(0, 10, 0, 3, s, null, 0);
            float[] first = own.ownState(10).tensors().get("fc1.weight").data();
            own.snapshot(0, 20, 0, 3, s, null, 0);
            s.layers().parameters().get(0).value().fill(0.25f);
            own.snapshot(0, 30, 0, 3, s, null, 0); // step 10 falls out; 40 reuses its arrays
            own.snapshot(0, 40, 0, 3, s, null, 0);
            StageState own40 = own.ownState(40);
            assertTrue(own40.tensors().get("fc1.weight").data() == first, "the arrays of step 10 are reused");
            assertEquals(0.25f, own40.tensors().get("fc1.weight").get(0), "and hold the step's values");
            StageState kept = own.own(30); // a repair holds step 30 now
            float[] keptArray = kept.tensors().get("fc1.weight").data();
            own.snapshot(0, 50, 0, 3, s, null, 0); // 30 falls out but is lent
            own.snapshot(0, 60, 0, 3, s, null, 0);
            assertTrue(own.ownState(60).tensors().get("fc1.weight").data() != keptArray, "a lent snapshot is never overwritten");
            assertEquals(0.25f, kept.tensors().get("fc1.weight").get(0));

            Set<float[]> arrays = Collections.newSetFromMap(new IdentityHashMap<>());
            for (long step = 10; step <= 80; step += 10) {
                Captured link = new Captured();
                s.layers().parameters().get(0).value().fill(step);
                assertTrue(own.handOff(StageState.of(0, step, 0, 3, s), link, 0));
                link.sent.forEach(buddy::receive);
                Tensor got = buddy.replicaState(0, step).tensors().get("fc1.weight");
                assertEquals((float) step, got.get(0), "step " + step);
                arrays.add(got.data());
            }
            // two kept and one being assembled (one more if the next began before the spares were made)
            assertTrue(arrays.size() <= 4, "eight replicas filled " + arrays.size() + " sets of arrays");
        }
    }

    @Test
    void stageWithoutWeights_stillHasAReplica(@TempDir Path dir) throws Exception {
        StageState empty = new StageState(0, 20, 1, 2, 20, Map.of());
        Captured link = new Captured();
        try (Replicas sender = new Replicas(ctx(0, dir.resolve("a")), 7); Replicas buddy = new Replicas(ctx(1, dir.resolve("b")), 7)) {
            assertTrue(sender.handOff(empty, link, 0));
            assertEquals(1, link.sent.size(), "one chunk that says there is nothing");
            buddy.receive(link.sent.get(0));
            assertNotNull(buddy.replica(0, 20, 1, 2), "a ReLU-only stage can be taken over too");
        }
    }

    @Test
    void garbledChunk_dropsItsReplica_withALineNamingTheSender(@TempDir Path dir) throws Exception {
        try (Replicas buddy = new Replicas(ctx(1, dir), 7)) {
            buddy.receive(new Message(MessageKind.REPLICA, 0, 1, 10, 0, Tensor.zeros(3), "not json".getBytes(StandardCharsets.UTF_8)));
            byte[] outside = ("{\"owner\":0,\"step\":10,\"from\":0,\"to\":3,\"optimizerSteps\":1,\"name\":\"fc1.bias\",\"shape\":[5],"
                    + "\"offset\":4,\"chunks\":2}").getBytes(StandardCharsets.UTF_8);
            buddy.receive(new Message(MessageKind.REPLICA, 0, 1, 10, 0, Tensor.zeros(3), outside));
            String out = log.toString(StandardCharsets.UTF_8);
            assertTrue(out.contains("dropped a malformed replica chunk from node 0"), out);
            assertTrue(out.contains("dropped the replica of step 10 from node 0: chunk [4, +3) outside fc1.bias of 5 floats"), out);
            assertNull(buddy.replica(0, 10, 0, 3));
        }
    }
}
