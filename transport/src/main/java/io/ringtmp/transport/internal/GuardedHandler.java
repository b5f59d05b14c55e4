package io.ringtmp.transport.internal;

import io.ringtmp.transport.MessageHandler;
import io.ringtmp.transport.Message;

/**
 * A transport's {@link MessageHandler} as its I/O threads call it: a callback that throws is
 * logged and dropped (callbacks must not throw), so one bad message never kills a connection's
 * thread. The same guard for every transport.
 */
public final class GuardedHandler implements MessageHandler {
    private static final System.Logger LOG = System.getLogger("io.ringtmp.transport");
    private final int nodeId;
    private final MessageHandler handler;

    public GuardedHandler(int nodeId, MessageHandler handler) {
        this.nodeId = nodeId;
        this.handler = handler;
    }

    @Override
    public void onMessage(Message m) {
        try {
            handler.onMessage(m);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "node " + nodeId + ": message handler threw on " + m, e);
        }
    }

    @Override
    public void onRejected(int peerId, String reason) {
        try {
            handler.onRejected(peerId, reason);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "node " + nodeId + ": onRejected threw", e);
        }
    }

    @Override
    public void onDisconnected(int peerId) {
        try {
            handler.onDisconnected(peerId);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "node " + nodeId + ": onDisconnected threw", e);
        }
    }
}
