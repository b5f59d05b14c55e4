package io.ringtmp.transport.internal;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Who may connect as whom: each node id of the spec with the addresses its host resolves to
 * (once, when the transport starts: never on an I/O thread). A connection that claims a node
 * the spec does not have, or claims one from an address not of its host, is refused before the
 * secret is even asked for. An empty map allows any claim (tests, benchmarks).
 */
public final class PeerAddresses {
    private final Map<Integer, String> hosts;
    private final Map<Integer, List<InetAddress>> resolved = new HashMap<>();

    public PeerAddresses(Map<Integer, String> hosts) {
        this.hosts = Map.copyOf(hosts);
        hosts.forEach((id, host) -> {
            try {
                resolved.put(id, Arrays.asList(InetAddress.getAllByName(host)));
            } catch (UnknownHostException e) {
                resolved.put(id, List.of()); // no address can be this node's: its claims are refused, saying why
            }
        });
    }

    /** Why a connection from {@code from} may not be node {@code claimed}, or null when it may. */
    public String refusal(int claimed, SocketAddress from) {
        if (hosts.isEmpty()) {
            return null;
        }
        String host = hosts.get(claimed);
        if (host == null) {
            return "claims node " + claimed + ", which the spec does not have (nodes " + new java.util.TreeSet<>(hosts.keySet()) + ")";
        }
        List<InetAddress> mine = resolved.get(claimed);
        if (mine.isEmpty()) {
            return "claims node " + claimed + ", whose host " + host + " in the spec does not resolve here";
        }
        InetAddress a = from instanceof InetSocketAddress i ? i.getAddress() : null;
        if (a == null || !mine.contains(a)) {
            return "claims node " + claimed + ", but the spec gives node " + claimed + " the host " + host + " " + mine
                    + ": another node, or a stranger holding the secret";
        }
        return null;
    }
}
