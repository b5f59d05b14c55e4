package io.ringtmp.launch.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Which CPUs each emulated node may run on: the nodes' quotas laid end to end over the
 * machine's CPUs, so that node i's share is the interval [C_0 + ... + C_{i-1}, C_0 + ... + C_i)
 * of "core units" and it runs on the CPUs that interval touches. At 0.5 core per node on 2 CPUs, nodes 0 and 1 share
 * CPU 0 and nodes 2 and 3 CPU 1: a device stays on its core (its caches stay warm, the
 * scheduler does not move it) and two devices that share a core each get their quota of it.
 * When the quotas add up to more than the CPUs there are, no slicing is fair: none is made.
 * Pure; any thread.
 */
public final class CpuSlices {
    private static final double EPS = 1e-9;

    private CpuSlices() {
    }

    /**
     * The cpuset list ({@code "0"}, {@code "0-1"}, {@code "1,3"}) of each node, node i having
     * {@code nodeCpu.get(i)} cores, over {@code cpus} (the CPU numbers the launcher may use, in
     * order); empty when the quotas add up to more than {@code cpus.size()}.
     */
    public static Optional<List<String>> assign(List<Double> nodeCpu, List<Integer> cpus) {
        double total = nodeCpu.stream().mapToDouble(Double::doubleValue).sum();
        if (nodeCpu.isEmpty() || nodeCpu.stream().anyMatch(c -> !(c > 0)) || cpus.isEmpty() || total > cpus.size() + EPS) {
            return Optional.empty();
        }
        List<String> sets = new ArrayList<>(nodeCpu.size());
        double start = 0;
        for (double c : nodeCpu) {
            int from = (int) Math.floor(start + EPS);
            int to = (int) Math.ceil(start + c - EPS); // exclusive
            start += c;
            TreeSet<Integer> mine = new TreeSet<>();
            for (int k = from; k < Math.max(to, from + 1); k++) {
                mine.add(cpus.get(Math.min(k, cpus.size() - 1)));
            }
            sets.add(format(mine));
        }
        return Optional.of(sets);
    }

    /** Parses a cpuset list such as {@code "0-3,8,10-11"}; throws IllegalArgumentException naming a bad one. */
    public static List<Integer> parse(String list) {
        TreeSet<Integer> cpus = new TreeSet<>();
        String s = list.strip();
        if (s.isEmpty()) {
            return List.of();
        }
        for (String part : s.split(",")) {
            String[] r = part.strip().split("-");
            try {
                int lo = Integer.parseInt(r[0].strip());
                int hi = r.length == 2 ? Integer.parseInt(r[1].strip()) : lo;
                if (r.length > 2 || lo < 0 || hi < lo) {
                    throw new IllegalArgumentException("bad cpu list '" + list + "': part '" + part + "'");
                }
                for (int c = lo; c <= hi; c++) {
                    cpus.add(c);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad cpu list '" + list + "': part '" + part + "'", e);
            }
        }
        return List.copyOf(cpus);
    }

    /** Writes CPU numbers as a cpuset list, ranges joined: {0,1,3} → "0-1,3". */
    static String format(TreeSet<Integer> cpus) {
        StringBuilder b = new StringBuilder();
        Integer start = null;
        Integer prev = null;
        for (int c : cpus) {
            if (start == null) {
                start = c;
            } else if (c != prev + 1) {
                append(b, start, prev);
                start = c;
            }
            prev = c;
        }
        if (start != null) {
            append(b, start, prev);
        }
        return b.toString();
    }

    private static void append(StringBuilder b, int from, int to) {
        if (!b.isEmpty()) {
            b.append(',');
        }
        b.append(from);
        if (to > from) {
            b.append('-').append(to);
        }
    }
}
