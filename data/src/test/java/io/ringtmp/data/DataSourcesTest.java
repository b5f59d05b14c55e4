package io.ringtmp.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataSourcesTest {
    @TempDir
    Path tmp;

    private static void writeIdxDir(Path dir) throws Exception {
        Files.createDirectories(dir);
        IdxFiles.write(dir.resolve(IdxDataset.TRAIN_IMAGES), IdxFiles.images(8, 2, 2));
        IdxFiles.write(dir.resolve(IdxDataset.TRAIN_LABELS), IdxFiles.labels(8, 10));
        IdxFiles.write(dir.resolve(IdxDataset.TEST_IMAGES), IdxFiles.images(2, 2, 2));
        IdxFiles.write(dir.resolve(IdxDataset.TEST_LABELS), IdxFiles.labels(2, 10));
    }

    @Test
    void open_syntheticSpec_generatesIt() {
        TrainTest tt = DataSources.open("synthetic:blobs?n=60&inputs=3&classes=2", tmp, m -> {});
        assertEquals(60, tt.train().size());
        assertEquals(10, tt.test().size());
    }

    @Test
    void open_directoryPathOrNameUnderDataDir_loadsIdx() throws Exception {
        writeIdxDir(tmp.resolve("fashion-mnist"));
        assertEquals(8, DataSources.open(tmp.resolve("fashion-mnist").toString(), tmp, m -> {}).train().size());
        assertEquals(2, DataSources.open("fashion-mnist", tmp, m -> {}).test().size());
    }

    @Test
    void open_unknownName_errorSaysWhatWasTried() {
        DataException e = assertThrows(DataException.class, () -> DataSources.open("cifar", tmp, m -> {}));
        assertTrue(e.getMessage().contains("'cifar'") && e.getMessage().contains(tmp.resolve("cifar").toString()),
                e.getMessage());
    }
}
