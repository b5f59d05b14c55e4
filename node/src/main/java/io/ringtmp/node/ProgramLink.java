package io.ringtmp.node;

import io.ringtmp.transport.Link;
import io.ringtmp.transport.LinkStats;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.MessageKind;

import java.util.concurrent.CompletableFuture;

/**
 * A link as a program sees it: the node's own link, except that the node runtime's words
 * ({@link MessageKind#NODE}) are the node's alone, so that no program word can pass for one.
 */
final class ProgramLink implements Link {
    private final Link link;

    ProgramLink(Link link) {
        this.link = link;
    }

    @Override
    public int peerId() {
        return link.peerId();
    }

    @Override
    public CompletableFuture<Void> send(Message m) {
        if (m.kind() == MessageKind.NODE) {
            throw new IllegalArgumentException("a program cannot send NODE messages (the node runtime's own words): " + m);
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
