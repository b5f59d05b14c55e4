package io.ringtmp.data.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringtmp.data.DataException;
import io.ringtmp.data.internal.TarFiles.Member;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class TarReaderTest {
    private static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return b;
    }

    private static TarReader reader(byte[] tar) {
        return new TarReader(new ByteArrayInputStream(tar), "test.tar");
    }

    @Test
    void next_filesAndDirectory_givesNamesSizesTypesAndContent() throws Exception {
        byte[] a = bytes(700, 1);
        byte[] b = bytes(512, 2);
        TarReader r = reader(TarFiles.tar(List.of(Member.dir("package/"), Member.file("package/a.bin", a),
                Member.file("package/data/b", b), Member.file("empty", new byte[0]))));
        TarReader.Entry e = r.next();
        assertEquals("package/", e.name());
        assertEquals('5', e.type());
        e = r.next();
        assertEquals(new TarReader.Entry("package/a.bin", 700, '0'), e);
        assertTrue(e.isRegularFile());
        assertEquals("a.bin", e.baseName());
        assertArrayEquals(a, r.content().readAllBytes());
        e = r.next();
        assertEquals("b", e.baseName());
        assertArrayEquals(b, r.content().readAllBytes());
        e = r.next();
        assertEquals(0, e.size());
        assertEquals(0, r.content().readAllBytes().length);
        assertNull(r.next());
    }

    @Test
    void next_contentLeftUnread_skipsToFollowingEntry() throws Exception {
        TarReader r = reader(TarFiles.tar(List.of(Member.file("x", bytes(1500, 3)), Member.file("y", bytes(10, 4)))));
        r.next();
        r.content().read(new byte[100]);
        TarReader.Entry y = r.next();
        assertEquals("y", y.name());
        assertArrayEquals(bytes(10, 4), r.content().readAllBytes());
    }

    @Test
    void next_gnuLongName_appliesToFollowingEntry() throws Exception {
        String longName = "package/" + "d".repeat(120) + "/train-labels-idx1-ubyte";
        TarReader r = reader(TarFiles.tar(List.of(Member.file(longName, bytes(5, 5)))));
        TarReader.Entry e = r.next();
        assertEquals(longName, e.name());
        assertEquals("train-labels-idx1-ubyte", e.baseName());
        assertArrayEquals(bytes(5, 5), r.content().readAllBytes());
    }

    @Test
    void next_ustarPrefixAndPaxPath_giveFullNames() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TarFiles.entry(out, "file1", "package/data", bytes(3, 6), '0');
        TarFiles.paxPath(out, "package/pax/named-by-pax");
        TarFiles.entry(out, "truncated-name", "", bytes(4, 7), '0');
        out.writeBytes(new byte[1024]);
        TarReader r = reader(out.toByteArray());
        assertEquals("package/data/file1", r.next().name());
        TarReader.Entry e = r.next();
        assertEquals("package/pax/named-by-pax", e.name());
        assertArrayEquals(bytes(4, 7), r.content().readAllBytes());
        assertNull(r.next());
    }

    @Test
    void content_tarballEndsInsideEntry_errorNamesEntryAndSizes() throws Exception {
        byte[] tar = TarFiles.tar(List.of(Member.file("package/big", bytes(2000, 8))));
        TarReader r = reader(Arrays.copyOf(tar, 512 + 1000));
        r.next();
        DataException e = assertThrows(DataException.class, () -> r.content().readAllBytes());
        assertTrue(e.getMessage().contains("test.tar") && e.getMessage().contains("package/big")
                && e.getMessage().contains("expected 2000 bytes, found 1000"), e.getMessage());
    }

    @Test
    void next_tarballEndsInsideSkippedEntry_errorNamesEntry() throws Exception {
        byte[] tar = TarFiles.tar(List.of(Member.file("package/big", bytes(2000, 8))));
        TarReader r = reader(Arrays.copyOf(tar, 512 + 1000));
        r.next();
        DataException e = assertThrows(DataException.class, r::next);
        assertTrue(e.getMessage().contains("package/big") && e.getMessage().contains("expected 2000"), e.getMessage());
    }

    @Test
    void next_notATar_errorSaysChecksumWrong() {
        byte[] junk = new byte[1024];
        Arrays.fill(junk, 0, 512, (byte) 'A');
        DataException e = assertThrows(DataException.class, () -> reader(junk).next());
        assertTrue(e.getMessage().contains("test.tar") && e.getMessage().contains("header at byte 0"), e.getMessage());
    }

    @Test
    void next_partialHeader_errorSaysTruncated() {
        byte[] tar = TarFiles.tar(List.of(Member.file("a", bytes(3, 1))));
        byte[] cut = Arrays.copyOf(tar, 1024 + 100); // a header, its content block, then 100 bytes
        cut[1024] = 'x';
        DataException e = assertThrows(DataException.class, () -> {
            TarReader r = reader(cut);
            r.next();
            r.next();
        });
        assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains("100 of 512"), e.getMessage());
    }
}
