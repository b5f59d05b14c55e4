package io.ringtmp.launch;

import java.util.Locale;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One fault that {@code launch --fault} injects into a running cluster, at a time measured from
 * the run's first training step (the first {@code step} event any node writes; for the link
 * test, from the start of the node processes), so that start-up time does not move it:
 * <ul>
 *   <li>{@code kill:2@20s}: SIGKILL node 2 after 20 s;</li>
 *   <li>{@code kill:2@20s+15s}: the same, and start node 2 again (same id, same command) 15 s
 *       later: with failover on, it rejoins the ring;</li>
 *   <li>{@code stop:1@15s+10s}: SIGSTOP node 1 after 15 s, SIGCONT 10 s later;</li>
 *   <li>{@code cut:1-2@15s+10s}: drop every packet between nodes 1 and 2 after 15 s, for 10 s
 *       (emulated runs only: a blackhole route in each node's network namespace);</li>
 *   <li>{@code random} in place of a node ({@code kill:random}, {@code stop:random@5s+10s}): a
 *       node drawn from {@code --fault-seed}; without {@code @T}, a time drawn between
 *       {@link #RANDOM_FROM_MS} and {@link #RANDOM_TO_MS}.</li>
 * </ul>
 * Times take {@code ms} or {@code s} (decimals allowed).
 *
 * @param kind  what is done
 * @param node  the node killed or stopped, or the first end of the cut link
 * @param peer  the other end of a cut link (-1 otherwise)
 * @param atMs  when, after the nodes started
 * @param forMs how long a stop or cut lasts; for a kill, when the node is started again (0: never)
 */
public record Fault(Kind kind, int node, int peer, long atMs, long forMs) {
    /** Earliest time drawn for a fault without {@code @T}. */
    public static final long RANDOM_FROM_MS = 5_000;
    /** Latest time drawn for a fault without {@code @T}. */
    public static final long RANDOM_TO_MS = 20_000;

    private static final Pattern SYNTAX = Pattern.compile(
            "(kill|stop|cut):(random|\\d+)(?:-(\\d+))?(?:@([0-9.]+(?:ms|s)))?(?:\\+([0-9.]+(?:ms|s)))?");

    /** What a fault does to its node or link. */
    public enum Kind {
        KILL, STOP, CUT;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public Fault {
        if (atMs < 0 || forMs < 0) {
            throw new IllegalArgumentException("fault times must be >= 0, got @" + atMs + " ms +" + forMs + " ms");
        }
    }

    /**
     * Parses one {@code --fault} value for a cluster of {@code nodes} nodes; {@code random} draws
     * the node (and the time when none is given) from {@code random}.
     *
     * @throws IllegalArgumentException naming what is wrong, e.g. a node that is not in the cluster
     */
    public static Fault parse(String text, int nodes, Random random) {
        Matcher m = SYNTAX.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("--fault " + text + ": expected kill:NODE[@T[+D]], stop:NODE@T+D or cut:A-B@T+D"
                    + " (NODE a node id or random; T and D like 15s or 500ms), e.g. kill:2@20s, stop:1@15s+10s, cut:1-2@15s+10s");
        }
        Kind kind = Kind.valueOf(m.group(1).toUpperCase(Locale.ROOT));
        boolean randomNode = m.group(2).equals("random");
        int node = randomNode ? random.nextInt(nodes) : Integer.parseInt(m.group(2));
        int peer = -1;
        if (kind == Kind.CUT) {
            if (randomNode) {
                peer = (node + 1) % nodes; // a random node and its successor: a link the ring uses
            } else if (m.group(3) == null) {
                throw new IllegalArgumentException("--fault " + text + ": a cut names both ends of the link, e.g. cut:1-2@15s+10s");
            } else {
                peer = Integer.parseInt(m.group(3));
            }
            if (peer == node) {
                throw new IllegalArgumentException("--fault " + text + ": a link joins two different nodes");
            }
        } else if (m.group(3) != null) {
            throw new IllegalArgumentException("--fault " + text + ": a " + kind.id() + " names one node, not a link");
        }
        for (int n : new int[]{node, peer}) {
            if (n >= nodes) {
                throw new IllegalArgumentException("--fault " + text + ": node " + n + " is not in the cluster (nodes 0.." + (nodes - 1) + ")");
            }
        }
        long at;
        if (m.group(4) != null) {
            at = millis(m.group(4), text);
        } else if (randomNode) {
            at = RANDOM_FROM_MS + (long) (random.nextDouble() * (RANDOM_TO_MS - RANDOM_FROM_MS));
        } else {
            throw new IllegalArgumentException("--fault " + text + ": say when, e.g. " + m.group(1) + ":" + m.group(2) + "@20s");
        }
        long dur = m.group(5) == null ? 0 : millis(m.group(5), text);
        if (kind != Kind.KILL && dur == 0) {
            throw new IllegalArgumentException("--fault " + text + ": say how long, e.g. " + m.group(1) + ":" + m.group(2)
                    + (m.group(3) == null ? "" : "-" + m.group(3)) + "@" + m.group(4) + "+10s");
        }
        return new Fault(kind, node, peer, at, dur);
    }

    private static long millis(String t, String text) {
        try {
            return t.endsWith("ms") ? Math.round(Double.parseDouble(t.substring(0, t.length() - 2)))
                    : Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 1000);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--fault " + text + ": " + t + " is not a time like 15s or 500ms");
        }
    }

    /** The fault as {@code --fault} writes it, with the drawn node and time. */
    @Override
    public String toString() {
        String where = kind == Kind.CUT ? node + "-" + peer : Integer.toString(node);
        return kind.id() + ":" + where + "@" + fmt(atMs) + (forMs > 0 ? "+" + fmt(forMs) : "");
    }

    private static String fmt(long ms) {
        return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
    }
}
