package io.ringtmp.launch;

import io.ringtmp.node.CpuQuota;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How the emulated cluster shapes its nodes: N nodes, each with a capped link, a CPU quota and a
 * memory limit. Zero means "not capped" for every limit.
 *
 * <p>Memory: {@code nodeMemBytes} is the node JVM's heap ({@code -Xmx}, see {@link #jvmOptions()});
 * the node's memory cgroup gets {@link #memoryLimitBytes()}, which adds headroom for what the JVM
 * needs besides the heap (see {@link #MEMORY_HEADROOM_BASE_BYTES}).
 *
 * @param nodes        number of nodes, 1 to {@value #MAX_NODES}
 * @param linkMbit     each node's link rate in Mbit/s (10^6 bit/s), in both directions; 0 = uncapped
 * @param nodeCpu      CPU cores of each node as a CFS quota (0.25 = a quarter of one core): one value
 *                     for every node, or one per node (a heterogeneous cluster: a slower device gets
 *                     a smaller quota); 0 = uncapped, for every node or none
 * @param nodeMemBytes heap per node in bytes; 0 = uncapped
 */
public record EmulationConfig(int nodes, double linkMbit, List<Double> nodeCpu, long nodeMemBytes) {
    /** Addresses come from one /24, and the bridge keeps one for itself. */
    public static final int MAX_NODES = 250;
    /** Below this, tbf's granularity and TCP's behaviour make the cap meaningless. */
    public static final double MIN_LINK_MBIT = 0.1;
    public static final double MAX_LINK_MBIT = 100_000;
    /** CFS rejects quotas under 1 ms, and the period is 10 ms. */
    public static final double MIN_NODE_CPU = 0.1;
    public static final double MAX_NODE_CPU = 1024;
    /** A node JVM with a smaller heap does not start the transport reliably. */
    public static final long MIN_NODE_MEM_BYTES = 64L << 20;
    /**
     * Fixed part of the memory cgroup's headroom over the heap: metaspace, code cache, thread
     * stacks, GC bookkeeping and the JVM's own malloc arenas; 192 MiB covers a node JVM with a few
     * dozen threads. The variable part is {@link #maxDirectMemoryBytes()} (Netty's buffers).
     */
    public static final long MEMORY_HEADROOM_BASE_BYTES = 192L << 20;

    public EmulationConfig {
        if (nodes < 1 || nodes > MAX_NODES) {
            throw new IllegalArgumentException("nodes must be in [1, " + MAX_NODES + "], got " + nodes);
        }
        if (!(linkMbit == 0 || (linkMbit >= MIN_LINK_MBIT && linkMbit <= MAX_LINK_MBIT))) {
            throw new IllegalArgumentException("link-mbit must be 0 (uncapped) or in [" + MIN_LINK_MBIT + ", "
                    + MAX_LINK_MBIT + "] Mbit/s, got " + linkMbit);
        }
        if (nodeCpu == null || nodeCpu.isEmpty() || (nodeCpu.size() != 1 && nodeCpu.size() != nodes)) {
            throw new IllegalArgumentException("node-cpu needs one value for every node or one per node (" + nodes
                    + "), got " + (nodeCpu == null ? 0 : nodeCpu.size()) + ": " + nodeCpu);
        }
        for (Double c : nodeCpu) {
            if (c == null || !(c == 0 || (c >= MIN_NODE_CPU && c <= MAX_NODE_CPU))) {
                throw new IllegalArgumentException("node-cpu must be 0 (uncapped) or in [" + MIN_NODE_CPU + ", "
                        + MAX_NODE_CPU + "] cores, got " + c);
            }
        }
        if (nodeCpu.contains(0.0) && nodeCpu.stream().anyMatch(c -> c > 0)) {
            throw new IllegalArgumentException("node-cpu caps every node or none (0), got " + nodeCpu);
        }
        nodeCpu = List.copyOf(nodeCpu.size() == nodes ? nodeCpu : java.util.Collections.nCopies(nodes, nodeCpu.get(0)));
        if (nodeMemBytes != 0 && nodeMemBytes < MIN_NODE_MEM_BYTES) {
            throw new IllegalArgumentException("node-mem must be 0 (uncapped) or at least " + (MIN_NODE_MEM_BYTES >> 20)
                    + " MiB, got " + nodeMemBytes + " bytes");
        }
    }

    /** Every node with the same CPU quota ({@code nodeCpu} cores; 0 = uncapped). */
    public EmulationConfig(int nodes, double linkMbit, double nodeCpu, long nodeMemBytes) {
        this(nodes, linkMbit, List.of(nodeCpu), nodeMemBytes);
    }

    /** Whether {@code --node-cpu} values ask for a CPU cap at all (every value 0: none). */
    public static boolean capsCpu(List<Double> nodeCpu) {
        return nodeCpu.stream().anyMatch(c -> c != 0);
    }

    /** Nodes with no caps at all: namespaces and addresses only. */
    public static EmulationConfig uncapped(int nodes) {
        return new EmulationConfig(nodes, 0, 0, 0);
    }

    public boolean linkCapped() {
        return linkMbit > 0;
    }

    public boolean cpuCapped() {
        return nodeCpu.get(0) > 0;
    }

    /** Node {@code node}'s CPU quota in cores; 0 when uncapped. */
    public double nodeCpu(int node) {
        return nodeCpu.get(node);
    }

    /** The quotas as written: "0.5" when every node has the same, else "0.25,0.5,0.5". */
    public String describeCpu() {
        List<String> each = nodeCpu.stream().map(c -> BigDecimal.valueOf(c).stripTrailingZeros().toPlainString()).toList();
        return each.stream().distinct().count() == 1 ? each.get(0) : String.join(",", each);
    }

    public boolean memoryCapped() {
        return nodeMemBytes > 0;
    }

    /** The link rate in bit/s, as handed to tc; 0 when uncapped. */
    public long linkBitsPerSecond() {
        return Math.round(linkMbit * 1e6);
    }

    /**
     * tbf's bucket size: one timer tick's worth of bytes at the rate (250 Hz, the kernel's usual
     * tick, so the bucket never runs dry between two dequeues), but at least two full-size
     * Ethernet frames so a single packet always fits. Larger buckets only let short bursts
     * through faster; the long-run rate stays at the cap.
     */
    public long linkBurstBytes() {
        return Math.max((long) Math.ceil(linkBitsPerSecond() / 8.0 / 250), 2L * 1514);
    }

    /** Node {@code node}'s CFS quota per period ({@value EmulatedCluster#CFS_PERIOD_US} µs) in microseconds; 0 when uncapped. */
    public long cpuQuotaUs(int node) {
        return Math.round(nodeCpu(node) * EmulatedCluster.CFS_PERIOD_US);
    }

    /** Cap on the JVM's direct buffers (Netty), a quarter of the heap; 0 when memory is uncapped. */
    public long maxDirectMemoryBytes() {
        return nodeMemBytes / 4;
    }

    /**
     * The node's memory cgroup limit: heap + direct buffers + {@link #MEMORY_HEADROOM_BASE_BYTES};
     * 0 when uncapped. A node that exceeds it is killed by the kernel's OOM killer, which shows as
     * exit code 137.
     */
    public long memoryLimitBytes() {
        return memoryCapped() ? nodeMemBytes + maxDirectMemoryBytes() + MEMORY_HEADROOM_BASE_BYTES : 0;
    }

    /**
     * JVM options node {@code node}'s process needs to live within these caps: heap and direct-memory limits
     * that fit the memory cgroup, and the processor count the CPU quota stands for. The JVM cannot
     * see the quota itself: {@code ip netns exec} remounts /sys, hiding the cgroup mounts from it;
     * so the quota is also passed as the {@link CpuQuota#PROPERTY} system property, for the ring's
     * profiler.
     */
    public List<String> jvmOptions(int node) {
        List<String> options = new ArrayList<>();
        if (memoryCapped()) {
            options.add("-Xmx" + nodeMemBytes);
            options.add("-XX:MaxDirectMemorySize=" + maxDirectMemoryBytes());
        }
        if (cpuCapped()) {
            options.add("-XX:ActiveProcessorCount=" + Math.max(1, (int) Math.ceil(nodeCpu(node))));
            options.add("-D" + CpuQuota.PROPERTY + "=" + nodeCpu(node));
        }
        return List.copyOf(options);
    }

    /**
     * Parses a byte size the way the JVM's -Xmx does: a number with an optional k, m, g or t
     * suffix (binary units, any case), e.g. {@code 512m}, {@code 2g}, {@code 1048576}.
     */
    public static long parseBytes(String text) {
        String s = text.strip().toLowerCase(Locale.ROOT);
        if (s.isEmpty()) {
            throw new IllegalArgumentException("byte size is empty");
        }
        int shift = switch (s.charAt(s.length() - 1)) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            case 't' -> 40;
            default -> 0;
        };
        String digits = shift == 0 ? s : s.substring(0, s.length() - 1);
        long value;
        try {
            value = Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("byte size must be a whole number with an optional k/m/g/t suffix, got '"
                    + text + "'");
        }
        if (value < 0 || value > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("byte size out of range: '" + text + "'");
        }
        return value << shift;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%d nodes, link %s, cpu %s, heap %s", nodes,
                linkCapped() ? linkMbit + " Mbit/s" : "uncapped",
                cpuCapped() ? describeCpu() + " cores" : "uncapped",
                memoryCapped() ? (nodeMemBytes >> 20) + " MiB" : "uncapped");
    }
}
