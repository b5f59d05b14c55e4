package io.ringtmp.data.internal;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Builds small tar archives in memory for tests (ustar headers, GNU long names, pax paths). */
public final class TarFiles {
    private TarFiles() {}

    /** One archive member: name, content, ustar type flag ('0' file, '5' directory). */
    public record Member(String name, byte[] content, char type) {
        public static Member file(String name, byte[] content) {
            return new Member(name, content, '0');
        }

        public static Member dir(String name) {
            return new Member(name, new byte[0], '5');
        }
    }

    /** A tar archive of {@code members}, with names over 100 bytes written as GNU long-name entries. */
    public static byte[] tar(List<Member> members) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Member m : members) {
            byte[] name = m.name().getBytes(StandardCharsets.UTF_8);
            if (name.length > 100) {
                byte[] longName = (m.name() + "\0").getBytes(StandardCharsets.UTF_8);
                entry(out, "././@LongLink", "", longName, 'L');
                entry(out, m.name().substring(0, 100), "", m.content(), m.type());
            } else {
                entry(out, m.name(), "", m.content(), m.type());
            }
        }
        out.writeBytes(new byte[1024]);
        return out.toByteArray();
    }

    /** Appends one header (with an optional ustar prefix) and its padded content. */
    public static void entry(ByteArrayOutputStream out, String name, String prefix, byte[] content, char type) {
        out.writeBytes(header(name, prefix, content.length, type));
        out.writeBytes(content);
        out.writeBytes(new byte[(512 - content.length % 512) % 512]);
    }

    /** A pax extended header giving {@code path} to the next entry. */
    public static void paxPath(ByteArrayOutputStream out, String path) {
        String body = " path=" + path + "\n";
        int len = body.length() + 2;
        String record = len + body;
        if (record.length() != len) { // the length counts its own digits
            record = (len + 1) + body;
        }
        entry(out, "PaxHeaders/x", "", record.getBytes(StandardCharsets.UTF_8), 'x');
    }

    public static byte[] header(String name, String prefix, long size, char type) {
        byte[] h = new byte[512];
        put(h, 0, 100, name);
        put(h, 100, 8, "0000644");
        put(h, 108, 8, "0001750");
        put(h, 116, 8, "0001750");
        put(h, 124, 12, String.format("%011o", size));
        put(h, 136, 12, "14634724060");
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        h[156] = (byte) type;
        put(h, 257, 6, "ustar");
        put(h, 263, 2, "00");
        put(h, 265, 32, "test");
        put(h, 297, 32, "test");
        put(h, 345, 155, prefix);
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        put(h, 148, 8, String.format("%06o", sum));
        h[155] = ' ';
        return h;
    }

    private static void put(byte[] h, int off, int len, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(b, 0, h, off, Math.min(b.length, len));
    }
}
