package io.ringtmp.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxDatasetTest {
    @TempDir
    Path root;

    @Test
    void load_mixedRawAndGzipped_readsBothSplits() throws Exception {
        Path dir = Files.createDirectory(root.resolve("fashion"));
        IdxFiles.write(dir.resolve(IdxDataset.TRAIN_IMAGES + ".gz"), IdxFiles.gzip(IdxFiles.images(12, 3, 3)));
        IdxFiles.write(dir.resolve(IdxDataset.TRAIN_LABELS), IdxFiles.labels(12, 10));
        IdxFiles.write(dir.resolve(IdxDataset.TEST_IMAGES), IdxFiles.images(4, 3, 3));
        IdxFiles.write(dir.resolve(IdxDataset.TEST_LABELS + ".gz"), IdxFiles.gzip(IdxFiles.labels(4, 10)));
        TrainTest tt = IdxDataset.load(dir);
        assertEquals(12, tt.train().size());
        assertEquals(4, tt.test().size());
        assertEquals(9, tt.train().featureSize());
        assertEquals(10, tt.train().numClasses());
        assertEquals("fashion/train", tt.train().name());
        assertEquals(3, tt.test().label(3));
    }

    @Test
    void load_missingFile_errorNamesDirectoryAndBothNamesLookedFor() throws Exception {
        Path dir = Files.createDirectory(root.resolve("mnist"));
        IdxFiles.write(dir.resolve(IdxDataset.TRAIN_IMAGES), IdxFiles.images(2, 2, 2));
        DataException e = assertThrows(DataException.class, () -> IdxDataset.load(dir));
        assertTrue(e.getMessage().contains(dir.toAbsolutePath().toString()), e.getMessage());
        assertTrue(e.getMessage().contains("train-labels-idx1-ubyte and train-labels-idx1-ubyte.gz"), e.getMessage());
    }

    @Test
    void load_noDirectory_errorNamesDirectoryAndExpectedFiles() {
        Path dir = root.resolve("absent");
        DataException e = assertThrows(DataException.class, () -> IdxDataset.load(dir));
        assertTrue(e.getMessage().contains(dir.toAbsolutePath().toString()), e.getMessage());
        assertTrue(e.getMessage().contains(IdxDataset.TEST_LABELS), e.getMessage());
    }
}
