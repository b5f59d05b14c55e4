package io.ringtmp.data.internal;

import io.ringtmp.data.DataException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Reads a tar stream (ustar, with the GNU long-name and pax path/size extensions) one entry at a
 * time: {@link #next()} returns the next entry's header, {@link #content()} the bytes of that
 * entry until the following {@code next()}. Only what the data module needs: entry names, sizes,
 * types and content; no permissions, links or sparse files. Not thread-safe. The reader does not
 * own {@code in}; the caller closes it.
 */
public final class TarReader {
    static final int BLOCK = 512;

    /** One entry's header. {@code type} is the ustar type flag ('0' or NUL for a regular file). */
    public record Entry(String name, long size, char type) {
        public boolean isRegularFile() {
            return type == '0' || type == '\0' || type == '7';
        }

        /** The part of the name after the last '/'. */
        public String baseName() {
            String n = name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
            return n.substring(n.lastIndexOf('/') + 1);
        }
    }

    private final InputStream in;
    private final String source;
    private final byte[] header = new byte[BLOCK];
    private long position;
    private Entry current;
    private long remaining;
    private long padding;

    /** {@code source} names the tarball in error messages. */
    public TarReader(InputStream in, String source) {
        this.in = in;
        this.source = source;
    }

    /** The next entry, or null at the end of the archive; skips what is left of the current one. */
    public Entry next() throws IOException {
        skipRest();
        String longName = null;
        Long paxSize = null;
        while (true) {
            long headerAt = position;
            int n = readBlock(header);
            if (n == 0 || isZero(header)) {
                current = null; // end-of-archive marker, or a tarball without one
                return null;
            }
            if (n < BLOCK) {
                throw new DataException(source + ": truncated: header at byte " + headerAt
                        + " has " + n + " of " + BLOCK + " bytes");
            }
            verifyChecksum(headerAt);
            char type = (char) (header[156] & 0xff);
            long size = paxSize != null ? paxSize : parseSize(headerAt);
            String name = longName != null ? longName : headerName();
            switch (type) {
                case 'L' -> { // GNU: the data is the next entry's name
                    longName = trimNul(new String(readData(size, name), StandardCharsets.UTF_8));
                    continue;
                }
                case 'x' -> { // pax: key=value records for the next entry
                    String records = new String(readData(size, name), StandardCharsets.UTF_8);
                    String path = paxValue(records, "path");
                    if (path != null) {
                        longName = path;
                    }
                    String s = paxValue(records, "size");
                    if (s != null) {
                        paxSize = Long.parseLong(s);
                    }
                    continue;
                }
                case 'g' -> { // pax global header: nothing we use
                    readData(size, name);
                    continue;
                }
                default -> {
                    boolean hasData = type == '0' || type == '\0' || type == '7';
                    current = new Entry(name, hasData ? size : 0, type);
                    remaining = current.size();
                    padding = paddingFor(remaining);
                    return current;
                }
            }
        }
    }

    /**
     * The content of the entry last returned by {@link #next()}; reading past its end returns
     * -1. Closing it does nothing. A tarball that ends inside the entry raises a
     * {@link DataException}.
     */
    public InputStream content() {
        if (current == null) {
            throw new IllegalStateException("no current entry: call next() first");
        }
        Entry entry = current;
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (current != entry || remaining == 0) {
                    return -1;
                }
                int n = in.read(b, off, (int) Math.min(len, remaining));
                if (n < 0) {
                    throw new DataException(source + ": truncated in entry '" + entry.name() + "': expected "
                            + entry.size() + " bytes, found " + (entry.size() - remaining));
                }
                remaining -= n;
                position += n;
                return n;
            }
        };
    }

    private void skipRest() throws IOException {
        if (current == null) {
            return;
        }
        Entry entry = current;
        long toSkip = remaining + padding;
        long skipped = skip(toSkip);
        if (skipped < toSkip) {
            throw new DataException(source + ": truncated in entry '" + entry.name() + "': expected "
                    + entry.size() + " bytes, found " + (entry.size() - remaining + Math.min(skipped, remaining)));
        }
        remaining = 0;
        padding = 0;
        current = null;
    }

    private byte[] readData(long size, String name) throws IOException {
        if (size > (1 << 20)) {
            throw new DataException(source + ": extended header of '" + name + "' claims " + size
                    + " bytes, more than the 1 MiB allowed");
        }
        byte[] data = in.readNBytes((int) size);
        position += data.length;
        if (data.length < size) {
            throw new DataException(source + ": truncated in extended header of '" + name + "': expected "
                    + size + " bytes, found " + data.length);
        }
        long pad = paddingFor(size);
        long skipped = skip(pad);
        if (skipped < pad) {
            throw new DataException(source + ": truncated after extended header of '" + name + "'");
        }
        return data;
    }

    private long skip(long n) throws IOException {
        long done = 0;
        while (done < n) {
            long s = in.skip(n - done);
            if (s <= 0) {
                if (in.read() < 0) {
                    break;
                }
                s = 1;
            }
            done += s;
        }
        position += done;
        return done;
    }

    private int readBlock(byte[] block) throws IOException {
        int n = in.readNBytes(block, 0, BLOCK);
        position += n;
        return n;
    }

    private static long paddingFor(long size) {
        return (BLOCK - size % BLOCK) % BLOCK;
    }

    private static boolean isZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    private void verifyChecksum(long headerAt) {
        long stored = parseOctal(148, 8, headerAt, "checksum");
        long unsigned = 0;
        long signed = 0; // some old writers summed signed bytes
        for (int i = 0; i < BLOCK; i++) {
            int b = (i >= 148 && i < 156) ? ' ' : header[i];
            unsigned += b & 0xff;
            signed += (i >= 148 && i < 156) ? ' ' : header[i];
        }
        if (stored != unsigned && stored != signed) {
            throw new DataException(source + ": corrupt header at byte " + headerAt + ": checksum field says "
                    + stored + ", computed " + unsigned + " (not a tar stream, or damaged)");
        }
    }

    private String headerName() {
        String name = field(0, 100);
        boolean ustar = header[257] == 'u' && header[258] == 's' && header[259] == 't' && header[260] == 'a'
                && header[261] == 'r';
        if (ustar) {
            String prefix = field(345, 155);
            if (!prefix.isEmpty()) {
                name = prefix + "/" + name;
            }
        }
        return name;
    }

    private long parseSize(long headerAt) {
        if ((header[124] & 0x80) != 0) { // GNU base-256 for sizes of 8 GiB and more
            long v = header[124] & 0x7f;
            for (int i = 125; i < 136; i++) {
                v = (v << 8) | (header[i] & 0xff);
            }
            return v;
        }
        return parseOctal(124, 12, headerAt, "size");
    }

    private long parseOctal(int off, int len, long headerAt, String what) {
        long v = 0;
        int i = off;
        int end = off + len;
        while (i < end && (header[i] == ' ' || header[i] == 0)) {
            i++;
        }
        for (; i < end && header[i] != 0 && header[i] != ' '; i++) {
            int d = header[i] - '0';
            if (d < 0 || d > 7) {
                throw new DataException(source + ": corrupt header at byte " + headerAt + ": " + what
                        + " field '" + field(off, len) + "' is not an octal number");
            }
            v = (v << 3) | d;
        }
        return v;
    }

    private String field(int off, int len) {
        int end = off;
        while (end < off + len && header[end] != 0) {
            end++;
        }
        return new String(header, off, end - off, StandardCharsets.UTF_8);
    }

    private static String trimNul(String s) {
        int z = s.indexOf('\0');
        return z >= 0 ? s.substring(0, z) : s;
    }

    private static String paxValue(String records, String key) {
        // Records are "<length> <key>=<value>\n"; values may contain '=' but not newlines for our keys.
        for (String line : records.split("\n")) {
            int space = line.indexOf(' ');
            int eq = line.indexOf('=');
            if (space > 0 && eq > space && line.substring(space + 1, eq).equals(key)) {
                return line.substring(eq + 1);
            }
        }
        return null;
    }
}
