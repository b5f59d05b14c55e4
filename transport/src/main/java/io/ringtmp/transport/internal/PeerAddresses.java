package io.ringtmp.transport.internal;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
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
    /** Whether the node's host is this machine (one of its addresses is local). */
    private final Map<Integer, Boolean> local = new HashMap<>();

    public PeerAddresses(Map<Integer, String> hosts) {
        this.hosts = Map.copyOf(hosts);
        hosts.forEach((id, host) -> {
            try {
                List<InetAddress> as = Arrays.asList(InetAddress.getAllByName(host));
                resolved.put(id, as);
                local.put(id, as.stream().anyMatch(PeerAddresses::isLocal));
            } catch (UnknownHostException e) {
                resolved.put(id, List.of()); // no address can be this node's: its claims are refused, saying why
            }
        });
    }

    /** Whether {@code a} is an address of this machine. */
    private static boolean isLocal(InetAddress a) {
        try {
            return a.isLoopbackAddress() || a.isAnyLocalAddress() || NetworkInterface.getByInetAddress(a) != null;
        } catch (SocketException e) {
            return false;
        }
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
        if (a != null && !mine.contains(a) && local.getOrDefault(claimed, false) && isLocal(a)) {
            return null; // the host is this machine, and so is the address (127.0.0.1 connecting to a host name at 127.0.1.1)
        }
        if (a == null || !mine.contains(a)) {
            return "claims node " + claimed + ", but the spec gives node " + claimed + " the host " + host + " " + mine
                    + ": another node, or a stranger holding the secret";
        }
        return null;
    }
}
