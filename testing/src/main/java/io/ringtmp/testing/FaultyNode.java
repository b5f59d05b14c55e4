package io.ringtmp.testing;

import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.NodeContext;
import io.ringtmp.node.NodeProgram;
import io.ringtmp.transport.Link;
import io.ringtmp.transport.LinkStats;
import io.ringtmp.transport.Message;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * A mode's program, except that one node breaks the protocol once: a real node running real
 * code whose outgoing links alter the first message that matches, as a buggy or hostile peer
 * would. For the bad-input tests of the ring and the parameter server.
 */
public final class FaultyNode implements NodeProgram.Factory {
    private final NodeProgram.Factory base;
    private final int faulty;
    private final Predicate<Message> which;
    private final UnaryOperator<Message> how;

    private FaultyNode(NodeProgram.Factory base, int faulty, Predicate<Message> which, UnaryOperator<Message> how) {
        this.base = base;
        this.faulty = faulty;
        this.which = which;
        this.how = how;
    }

    /** {@code base}'s program, where node {@code faulty} sends {@code how(m)} instead of the first message {@code m} that {@code which} accepts. */
    public static FaultyNode altering(NodeProgram.Factory base, int faulty, Predicate<Message> which, UnaryOperator<Message> how) {
        return new FaultyNode(base, faulty, which, how);
    }

    @Override
    public String mode() {
        return base.mode();
    }

    @Override
    public Set<String> optionKeys() {
        return base.optionKeys();
    }

    @Override
    public long maxMessageBytes(ClusterSpec spec) {
        return base.maxMessageBytes(spec);
    }

    @Override
    public List<Integer> extraPeers(ClusterSpec spec, int id) {
        return base.extraPeers(spec, id);
    }

    @Override
    public NodeProgram create(NodeContext ctx) {
        if (ctx.id() != faulty) {
            return base.create(ctx);
        }
        AtomicBoolean done = new AtomicBoolean();
        Map<Integer, Link> links = new LinkedHashMap<>();
        ctx.links().forEach((peer, l) -> links.put(peer, new Altering(l, done)));
        return base.create(new NodeContext(ctx.spec(), ctx.id(), links.get(ctx.successorId()), links.get(ctx.predecessorId()), links,
                ctx.metrics(), ctx.time(), ctx.log(), ctx.stop(), ctx.buffers(), ctx.neighbours()));
    }

    /** Sends the first matching message altered, every other as it is. */
    private final class Altering implements Link {
        private final Link link;
        private final AtomicBoolean done;

        Altering(Link link, AtomicBoolean done) {
            this.link = link;
            this.done = done;
        }

        @Override
        public int peerId() {
            return link.peerId();
        }

        @Override
        public CompletableFuture<Void> send(Message m) {
            if (which.test(m) && done.compareAndSet(false, true)) {
                return link.send(how.apply(m));
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
