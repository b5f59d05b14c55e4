package io.ringtmp.ring;

import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.NodeContext;
import io.ringtmp.node.NodeProgram;
import io.ringtmp.tensor.Tensor;
import io.ringtmp.transport.Link;
import io.ringtmp.transport.LinkStats;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.MessageKind;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The ring's program, except that one node breaks the protocol once: a real node running real
 * code whose outgoing link alters one message, as a buggy or hostile peer would.
 */
final class FaultyNode implements NodeProgram.Factory {
    private final int faulty;
    private final long step;

    private FaultyNode(int faulty, long step) {
        this.faulty = faulty;
        this.step = step;
    }

    /** Node {@code faulty} sends its successor the first activation of {@code step} one feature too wide. */
    static FaultyNode sendingAWideActivation(int faulty, long step) {
        return new FaultyNode(faulty, step);
    }

    @Override
    public String mode() {
        return RingProgram.FACTORY.mode();
    }

    @Override
    public Set<String> optionKeys() {
        return RingProgram.FACTORY.optionKeys();
    }

    @Override
    public long maxMessageBytes(ClusterSpec spec) {
        return RingProgram.FACTORY.maxMessageBytes(spec);
    }

    @Override
    public List<Integer> extraPeers(ClusterSpec spec, int id) {
        return RingProgram.FACTORY.extraPeers(spec, id);
    }

    @Override
    public NodeProgram create(NodeContext ctx) {
        if (ctx.id() != faulty) {
            return RingProgram.FACTORY.create(ctx);
        }
        AtomicBoolean done = new AtomicBoolean();
        Map<Integer, Link> links = new LinkedHashMap<>();
        ctx.links().forEach((peer, l) -> links.put(peer, peer == ctx.successorId() ? new Widening(l, done) : l));
        Link succ = links.get(ctx.successorId());
        Link pred = links.get(ctx.predecessorId());
        return RingProgram.FACTORY.create(new NodeContext(ctx.spec(), ctx.id(), succ, pred, links, ctx.metrics(), ctx.time(), ctx.log(),
                ctx.stop(), ctx.buffers(), ctx.neighbours()));
    }

    /** Sends the first activation of {@link #step} with one more column than it has. */
    private final class Widening implements Link {
        private final Link link;
        private final AtomicBoolean done;

        Widening(Link link, AtomicBoolean done) {
            this.link = link;
            this.done = done;
        }

        @Override
        public int peerId() {
            return link.peerId();
        }

        @Override
        public CompletableFuture<Void> send(Message m) {
            if (m.kind() == MessageKind.ACTIVATION && m.step() == step && m.tensor() != null && done.compareAndSet(false, true)) {
                Tensor t = m.tensor();
                Tensor wide = Tensor.zeros(t.rows(), t.cols() + 1);
                return link.send(new Message(m.kind(), m.sender(), m.runId(), m.step(), m.microbatch(), wide, m.bytes()).withEpoch(m.epoch()));
            }
            return link.send(m);
        }

        @Override
        public LinkStats stats() {
            return link.stats();
        }

        @Override
        public boolean isOpen() {
            return link.isOpen();
        }

        @Override
        public void close() {
            link.close();
        }
    }
}
