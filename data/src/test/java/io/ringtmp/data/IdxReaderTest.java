package io.ringtmp.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxReaderTest {
    @TempDir
    Path dir;

    private static void assertMessageContains(Exception e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), () -> "message lacks '" + p + "': " + e.getMessage());
        }
    }

    @Test
    void readImages_raw_roundTripsDimsAndBytes() {
        Path f = IdxFiles.write(dir.resolve("imgs"), IdxFiles.images(5, 3, 4));
        IdxArray a = IdxReader.readImages(f);
        assertArrayEquals(new int[] {5, 3, 4}, a.dims());
        assertEquals(5, a.count());
        assertEquals(12, a.itemSize());
        assertArrayEquals(IdxFiles.imagePixels(5, 3, 4), a.values());
    }

    @Test
    void readImages_gzippedWithoutGzName_detectedByMagicBytes() {
        Path f = IdxFiles.write(dir.resolve("imgs-no-suffix"), IdxFiles.gzip(IdxFiles.images(5, 3, 4)));
        assertArrayEquals(IdxFiles.imagePixels(5, 3, 4), IdxReader.readImages(f).values());
    }

    @Test
    void readImages_rawFileNamedGz_readAsRaw() {
        Path f = IdxFiles.write(dir.resolve("imgs.gz"), IdxFiles.images(2, 2, 2));
        assertArrayEquals(IdxFiles.imagePixels(2, 2, 2), IdxReader.readImages(f).values());
    }

    @Test
    void readDataset_scalesPixelsToUnitIntervalAndKeepsLabels() {
        byte[] px = {0, (byte) 255, (byte) 128, 51, 0, 0, 0, (byte) 255};
        Path x = IdxFiles.write(dir.resolve("x"), IdxFiles.idx(0x08, new int[] {2, 2, 2}, px));
        Path y = IdxFiles.write(dir.resolve("y.gz"), IdxFiles.gzip(IdxFiles.idx(0x08, new int[] {2}, new byte[] {3, 9})));
        Dataset d = IdxReader.readDataset("t", x, y, 10);
        assertEquals(2, d.size());
        assertEquals(4, d.featureSize());
        assertArrayEquals(new float[] {0f, 1f, 128 / 255f, 0.2f, 0f, 0f, 0f, 1f}, d.features().toArray(), 1e-7f);
        assertArrayEquals(new int[] {3, 9}, d.labels());
    }

    @Test
    void read_wrongMagic_errorShowsExpectedAndActualInHex() {
        Path f = IdxFiles.write(dir.resolve("junk"), new byte[] {0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0});
        DataException e = assertThrows(DataException.class, () -> IdxReader.readImages(f));
        assertMessageContains(e, f.toString(), "0x504B0304", "0x00000803");
    }

    @Test
    void readImages_labelFileGiven_errorNamesDimensionCounts() {
        Path f = IdxFiles.write(dir.resolve("labels-as-images"), IdxFiles.labels(4, 10));
        DataException e = assertThrows(DataException.class, () -> IdxReader.readImages(f));
        assertMessageContains(e, f.toString(), "0x00000801", "0x00000803", "1 dimension", "images have 3");
    }

    @Test
    void readLabels_imageFileGiven_errorNamesDimensionCounts() {
        Path f = IdxFiles.write(dir.resolve("images-as-labels"), IdxFiles.images(2, 2, 2));
        DataException e = assertThrows(DataException.class, () -> IdxReader.readLabels(f));
        assertMessageContains(e, f.toString(), "0x00000803", "0x00000801", "3 dimensions", "labels have 1");
    }

    @Test
    void read_floatElementType_rejectedNamingType() {
        Path f = IdxFiles.write(dir.resolve("floats"), IdxFiles.idx(0x0D, new int[] {1}, new byte[4]));
        DataException e = assertThrows(DataException.class, () -> IdxReader.readLabels(f));
        assertMessageContains(e, f.toString(), "0x0D", "float", "0x08");
    }

    @Test
    void read_truncatedImages_errorNamesFileAndSizes() {
        byte[] full = IdxFiles.images(10, 4, 4);
        Path f = IdxFiles.write(dir.resolve("short"), Arrays.copyOf(full, full.length - 30));
        DataException e = assertThrows(DataException.class, () -> IdxReader.readImages(f));
        assertMessageContains(e, f.toString(), "truncated", "160 bytes", "found 130");
    }

    @Test
    void read_truncatedGzippedImages_errorNamesFile() {
        byte[] gz = IdxFiles.gzip(IdxFiles.images(100, 8, 8));
        Path f = IdxFiles.write(dir.resolve("short.gz"), Arrays.copyOf(gz, gz.length / 2));
        DataException e = assertThrows(DataException.class, () -> IdxReader.readImages(f));
        assertMessageContains(e, f.toString());
    }

    @Test
    void read_truncatedHeader_errorNamesExpectedHeaderSize() {
        Path f = IdxFiles.write(dir.resolve("hdr"), new byte[] {0, 0, 8, 3, 0, 0, 0, 5, 0, 0});
        DataException e = assertThrows(DataException.class, () -> IdxReader.readImages(f));
        assertMessageContains(e, f.toString(), "truncated header", "expected 16 bytes", "found 10");
    }

    @Test
    void read_emptyFile_errorSaysTruncated() {
        Path f = IdxFiles.write(dir.resolve("empty"), new byte[0]);
        DataException e = assertThrows(DataException.class, () -> IdxReader.readLabels(f));
        assertMessageContains(e, f.toString(), "truncated", "found 0 bytes");
    }

    @Test
    void read_trailingBytes_errorCountsExtraBytes() {
        byte[] full = IdxFiles.labels(4, 10);
        Path f = IdxFiles.write(dir.resolve("long"), Arrays.copyOf(full, full.length + 3));
        DataException e = assertThrows(DataException.class, () -> IdxReader.readLabels(f));
        assertMessageContains(e, f.toString(), "need 4 bytes", "found 7", "3 bytes too many");
    }

    @Test
    void read_missingFile_errorNamesFile() {
        Path f = dir.resolve("nope");
        DataException e = assertThrows(DataException.class, () -> IdxReader.read(f));
        assertMessageContains(e, f.toString(), "no such file");
    }

    @Test
    void readDataset_countsDisagree_errorNamesBothFilesAndCounts() {
        Path x = IdxFiles.write(dir.resolve("x"), IdxFiles.images(5, 2, 2));
        Path y = IdxFiles.write(dir.resolve("y"), IdxFiles.labels(6, 10));
        DataException e = assertThrows(DataException.class, () -> IdxReader.readDataset("t", x, y, 10));
        assertMessageContains(e, x.toString(), "5 images", y.toString(), "6 labels");
    }

    @Test
    void readDataset_labelOutOfRange_errorNamesLabelIndexAndRange() {
        Path x = IdxFiles.write(dir.resolve("x"), IdxFiles.images(3, 2, 2));
        Path y = IdxFiles.write(dir.resolve("y"), IdxFiles.idx(0x08, new int[] {3}, new byte[] {1, 12, 0}));
        DataException e = assertThrows(DataException.class, () -> IdxReader.readDataset("t", x, y, 10));
        assertMessageContains(e, y.toString(), "label 12", "index 1", "0..9");
    }
}
