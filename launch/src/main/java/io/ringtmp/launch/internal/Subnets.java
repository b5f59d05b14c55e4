package io.ringtmp.launch.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Picks the /24 that an emulated cluster's nodes live in. The nodes sit in their own namespaces,
 * so a clash could not break the host's routing; the subnet still avoids every IPv4 address and
 * route the host has, so that a node address never looks like one of the host's in logs or
 * when someone debugs with {@code ip netns exec}.
 */
public final class Subnets {
    private static final Pattern CIDR = Pattern.compile("\\b(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})(?:/(\\d{1,2}))?\\b");
    /** Second octets 100..249 of 10/8: far from the 10.0.x.y and 10.1.x.y that docker and VPNs like. */
    private static final int FIRST_SECOND_OCTET = 100;
    private static final int SECOND_OCTETS = 150;

    private Subnets() {
    }

    /**
     * A prefix {@code "10.a.b"} whose /24 overlaps none of the host's IPv4 addresses and routes,
     * starting the search at a place derived from {@code tag} so parallel clusters tend to differ.
     */
    public static String choose(String ip, String tag) {
        List<long[]> taken = new ArrayList<>();
        collect(Shell.run(List.of(ip, "-4", "-o", "addr", "show")).output(), taken);
        collect(Shell.run(List.of(ip, "-4", "route", "show", "table", "all")).output(), taken);
        int total = SECOND_OCTETS * 256;
        int start = Math.floorMod(tag.hashCode() * 31 + 7, total);
        for (int k = 0; k < total; k++) {
            int idx = (start + k) % total;
            int a = FIRST_SECOND_OCTET + idx / 256;
            int b = idx % 256;
            long base = (10L << 24) | ((long) a << 16) | ((long) b << 8);
            if (taken.stream().noneMatch(t -> overlaps(base, 24, t[0], (int) t[1]))) {
                return "10." + a + "." + b;
            }
        }
        throw new IllegalStateException("no free /24 in 10." + FIRST_SECOND_OCTET + "-" + (FIRST_SECOND_OCTET + SECOND_OCTETS - 1)
                + ".x.0: every candidate overlaps a host address or route");
    }

    /** Every IPv4 address or prefix in {@code text}, as [base, prefixLength]; "default" routes are not prefixes here. */
    static void collect(String text, List<long[]> into) {
        Matcher m = CIDR.matcher(text);
        while (m.find()) {
            long addr = 0;
            boolean valid = true;
            for (int i = 1; i <= 4; i++) {
                int octet = Integer.parseInt(m.group(i));
                valid &= octet <= 255;
                addr = (addr << 8) | octet;
            }
            int len = m.group(5) == null ? 32 : Integer.parseInt(m.group(5));
            if (valid && len <= 32 && len > 0) {
                into.add(new long[]{addr, len});
            }
        }
    }

    static boolean overlaps(long a, int aLen, long b, int bLen) {
        int len = Math.min(aLen, bLen);
        long mask = len == 0 ? 0 : (0xFFFFFFFFL << (32 - len)) & 0xFFFFFFFFL;
        return (a & mask) == (b & mask);
    }
}
